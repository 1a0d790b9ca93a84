/**
 * The `switchyard` LB config: strict validation, eager errors from channelOptions(), and a bad config that reaches
 * grpc-js anyway (a hand-written service config) failing calls loudly instead of falling back to pick_first.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/index.js';
import {
  channelOptions,
  DEFAULT_FAILURE_STATUSES,
  parseGrpcLbOptions,
  SwitchyardLbConfig,
  setup,
} from '../../src/grpc/index.js';
import { echoClient, startServers, type TestServer, who } from '../helpers/grpc-servers.js';

setup();

const expectConfigError = (fn: () => unknown, message: string) => {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as Error).message).toBe(message);
};

describe('parseGrpcLbOptions', () => {
  it('fills in defaults', () => {
    expect(parseGrpcLbOptions({})).toEqual({
      policy: 'p2c_robust_ewma',
      balancer: {},
      failureStatuses: DEFAULT_FAILURE_STATUSES,
      hashHeader: undefined,
      unstartedPickTimeoutMs: 5_000,
      stateRetentionMs: 600_000,
    });
    expect(DEFAULT_FAILURE_STATUSES).toEqual([
      grpc.status.UNAVAILABLE,
      grpc.status.DEADLINE_EXCEEDED,
      grpc.status.RESOURCE_EXHAUSTED,
      grpc.status.INTERNAL,
    ]);
  });

  it('accepts status names and numbers, deduplicated', () => {
    expect(parseGrpcLbOptions({ failureStatuses: ['UNAVAILABLE', 14, 13] }).failureStatuses).toEqual([
      14, 13,
    ]);
  });

  it.each([
    [
      { polcy: 'x' },
      'polcy: expected one of the known options (policy, balancer, failureStatuses, hashHeader, unstartedPickTimeoutMs, orca, cluster, stateRetentionMs), got "an unknown option"',
    ],
    [{ policy: 'nope' }, /^policy: expected one of .*"round_robin".*, got "nope"$/],
    [
      { policy: { name: 'least_request', choiceCount: 1 } },
      'policy.choiceCount: expected an integer from 2 to 100, got 1',
    ],
    [
      { balancer: { panicThreshold: 120 } },
      'balancer.panicThreshold: expected a number from 0 to 100, got 120',
    ],
    [{ balancer: { endpoints: [] } }, /^balancer\.endpoints: expected absent/],
    [
      { balancer: { policy: 'round_robin' } },
      /^balancer\.policy: expected absent: give the policy as the top-level "policy" key/,
    ],
    [{ balancer: 'x' }, 'balancer: expected an object of Balancer options, got "x"'],
    [
      { failureStatuses: ['UNAVALIABLE'] },
      /^failureStatuses\[0\]: expected a gRPC status code from 1 to 16 or its name/,
    ],
    [{ failureStatuses: [0] }, /^failureStatuses\[0\]: expected .*OK is never a failure, got 0$/],
    [{ failureStatuses: 14 }, 'failureStatuses: expected an array of gRPC status codes or names, got 14'],
    [{ hashHeader: 'X-User' }, /^hashHeader: expected a lower-case gRPC metadata key/],
    [{ hashHeader: 'grpc-timeout' }, /^hashHeader: expected .*not starting with "grpc-"/],
    // gRFC A76: a binary header is rejected as request_hash_header, as the undici affinity key does
    [{ hashHeader: 'x-key-bin' }, /^hashHeader: expected a non-binary metadata key/],
    [{ unstartedPickTimeoutMs: 10 }, 'unstartedPickTimeoutMs: expected a number from 100 to 600000, got 10'],
    [{ stateRetentionMs: -1 }, 'stateRetentionMs: expected a number from 0 to 86400000, got -1'],
    [{ stateRetentionMs: '10m' }, 'stateRetentionMs: expected a number from 0 to 86400000, got "10m"'],
  ])('rejects %j', (raw, message) => {
    let thrown: unknown;
    try {
      parseGrpcLbOptions(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    if (typeof message === 'string') expect((thrown as Error).message).toBe(message);
    else expect((thrown as Error).message).toMatch(message);
  });
});

describe('channelOptions', () => {
  it('builds the service config selecting the policy', () => {
    const options = channelOptions({ policy: 'round_robin', hashHeader: 'x-user' });
    expect(JSON.parse(options['grpc.service_config'] as string)).toEqual({
      loadBalancingConfig: [{ switchyard: { policy: 'round_robin', hashHeader: 'x-user' } }],
    });
  });

  it('throws ConfigError for an invalid config, at the call site', () => {
    expectConfigError(
      () => channelOptions({ policy: { name: 'least_request', choiceCount: 0 } }),
      'policy.choiceCount: expected an integer from 2 to 100, got 0',
    );
  });

  it('wraps in grpc-js outlier_detection and validates that with grpc-js', () => {
    const options = channelOptions(
      { policy: 'random' },
      { grpcOutlierDetection: { interval: { seconds: 1, nanos: 0 } } },
    );
    expect(JSON.parse(options['grpc.service_config'] as string).loadBalancingConfig).toEqual([
      {
        outlier_detection: {
          interval: { seconds: 1, nanos: 0 },
          child_policy: [{ switchyard: { policy: 'random' } }],
        },
      },
    ]);
    let thrown: unknown;
    try {
      channelOptions({}, { grpcOutlierDetection: { interval: '10s' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).field).toBe('grpcOutlierDetection');
    expect((thrown as Error).message).toMatch(/interval/);
  });

  it('merges a service config of its own in extra options, keeping its methodConfig and timeouts', () => {
    const methodConfig = [{ name: [{ service: 'test.Echo' }], timeout: '2s', waitForReady: true }];
    const out = channelOptions(
      { balancer: { name: 'merged' } },
      { options: { 'grpc.service_config': JSON.stringify({ methodConfig }) } },
    );
    const merged = JSON.parse(out['grpc.service_config'] as string);
    expect(merged.methodConfig).toEqual(methodConfig);
    expect(merged.loadBalancingConfig).toEqual([{ switchyard: { balancer: { name: 'merged' } } }]);
  });

  it('refuses, naming the field, what would conflict in a merged service config', () => {
    const attempt = (serviceConfig: unknown, retry?: boolean) =>
      fieldOf(() =>
        channelOptions({ retry }, { options: { 'grpc.service_config': JSON.stringify(serviceConfig) } }),
      );
    expect(attempt({ loadBalancingConfig: [{ round_robin: {} }] })).toBe(
      "options['grpc.service_config'].loadBalancingConfig",
    );
    const retryPolicy = {
      maxAttempts: 3,
      initialBackoff: '0.1s',
      maxBackoff: '1s',
      backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE'],
    };
    const methodConfig = [{ name: [{}] }, { name: [{ service: 'test.Echo' }], retryPolicy }];
    // grpc-js's own retries and switchyard's would both retry the same call: refused while `retry` is on...
    expect(attempt({ methodConfig }, true)).toBe(
      "options['grpc.service_config'].methodConfig[1].retryPolicy",
    );
    expect(attempt({ methodConfig: [{ name: [{}], hedgingPolicy: { maxAttempts: 2 } }] }, true)).toBe(
      "options['grpc.service_config'].methodConfig[0].hedgingPolicy",
    );
    // ...and kept when switchyard does not retry.
    expect(() =>
      channelOptions({}, { options: { 'grpc.service_config': JSON.stringify({ methodConfig }) } }),
    ).not.toThrow();
    expect(fieldOf(() => channelOptions({}, { options: { 'grpc.service_config': 'not json' } }))).toBe(
      "options['grpc.service_config']",
    );
  });

  it('installs the switchyard interceptor after the caller’s own', () => {
    const mine: grpc.Interceptor = (options, next) => new grpc.InterceptingCall(next(options));
    const out = channelOptions({}, { options: { interceptors: [mine] } });
    expect(out.interceptors).toHaveLength(2);
    expect(out.interceptors[0]).toBe(mine);
    const provided = channelOptions({}, { options: { interceptor_providers: [() => mine] } });
    expect(provided.interceptors).toBeUndefined();
    expect(provided.interceptor_providers).toHaveLength(2);
  });

  it('validates the resilience options, naming the field', () => {
    expect(fieldOf(() => channelOptions({ retry: { codes: ['NOPE'] } as never }))).toBe('retry.codes[0]');
    expect(fieldOf(() => channelOptions({ retry: { codes: ['CANCELLED'] } }))).toBe('retry.codes[0]');
    expect(fieldOf(() => channelOptions({ retry: { maxAttempts: 0 } }))).toBe('retry.maxAttempts');
    expect(fieldOf(() => channelOptions({ retry: { perTryTimeoutMs: 0 } }))).toBe('retry.perTryTimeoutMs');
    expect(fieldOf(() => channelOptions({ retry: { extra: 1 } as never }))).toBe('retry.extra');
    expect(fieldOf(() => channelOptions({ idempotentMethods: ['Echo/Who'] }))).toBe('idempotentMethods[0]');
    expect(fieldOf(() => channelOptions({ throttle: { k: 0 } }))).toBe('throttle.k');
  });
});

describe('SwitchyardLbConfig', () => {
  it('round-trips through toJsonObject', () => {
    const config = SwitchyardLbConfig.createFromJson({
      policy: { name: 'least_request', choiceCount: 3 },
      failureStatuses: [14],
      hashHeader: 'x-k',
      balancer: { name: 'rt' },
    });
    const json = config.toJsonObject() as { switchyard: unknown };
    expect(json).toEqual({
      switchyard: {
        policy: { name: 'least_request', choiceCount: 3 },
        balancer: { name: 'rt' },
        failureStatuses: ['UNAVAILABLE'],
        hashHeader: 'x-k',
        unstartedPickTimeoutMs: 5_000,
        stateRetentionMs: 600_000,
      },
    });
    expect(SwitchyardLbConfig.createFromJson(json.switchyard).toJsonObject()).toEqual(json);
  });

  it('does not throw on a bad config (grpc-js would fall back silently) but keeps the error', () => {
    const config = SwitchyardLbConfig.createFromJson({ policy: 'nope' });
    expect(config.options).toBeUndefined();
    expect(config.error).toBeInstanceOf(ConfigError);
  });
});

describe('a bad config that bypasses channelOptions()', () => {
  let servers: TestServer[];
  beforeAll(async () => {
    servers = await startServers(1);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('fails calls with the config error instead of falling back to pick_first, and warns once', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const serviceConfig = JSON.stringify({
      loadBalancingConfig: [{ switchyard: { policy: { name: 'least_request', choiceCount: 1 } } }],
    });
    const client = echoClient(`switchyard-static:///${servers[0]!.address}`, {
      'grpc.service_config': serviceConfig,
    });
    try {
      const result = await who(client, {}, 2_000);
      expect(result).toBe(
        'ERR 14: switchyard LB config rejected: policy.choiceCount: expected an integer from 2 to 100, got 1',
      );
      expect(servers[0]!.calls).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /switchyard grpc-js LB config rejected/.test(w.message))).toHaveLength(1);
      expect((warnings[0] as Error & { code?: string }).code).toBe('SY_ERR_CONFIG');
    } finally {
      process.off('warning', onWarning);
      client.close();
    }
  });
});

describe('a service config from the resolver that turns bad', () => {
  let servers: TestServer[];
  let push: ((config: unknown) => void) | undefined;
  let latest: unknown = {
    loadBalancingConfig: [{ switchyard: { policy: 'round_robin' } }],
    methodConfig: [],
  };
  beforeAll(async () => {
    servers = await startServers(1);
    const address = { host: '127.0.0.1', port: servers[0]!.port };
    // A grpc-js resolver that supplies its own service config, as a control plane would.
    class ConfigPushingResolver implements grpc.experimental.Resolver {
      constructor(
        _target: grpc.experimental.GrpcUri,
        private readonly listener: grpc.experimental.ResolverListener,
      ) {}
      updateResolution(): void {
        push = (config) => {
          latest = config;
          process.nextTick(() =>
            this.listener(
              grpc.experimental.statusOrFromValue([{ addresses: [address] }]),
              {},
              grpc.experimental.statusOrFromValue(latest as never),
              'test',
            ),
          );
        };
        push(latest);
      }
      destroy(): void {}
      static getDefaultAuthority(): string {
        return 'localhost';
      }
    }
    grpc.experimental.registerResolver('config-pushing', ConfigPushingResolver);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('stops serving at once and fails calls with the error, even after connectivity changes', async () => {
    const client = echoClient('config-pushing:///x', {});
    try {
      expect(await who(client)).toBe('s0');
      push!({
        loadBalancingConfig: [{ switchyard: { policy: 'round_robin', failureStatuses: ['NOPE'] } }],
        methodConfig: [],
      });
      await new Promise((r) => setTimeout(r, 20));
      const failed = await who(client, {}, 2_000);
      expect(failed).toMatch(
        /^ERR 14: switchyard LB config rejected: failureStatuses\[0\]: expected a gRPC status code/,
      );
      // A restart of the server (READY -> IDLE -> READY on the old subchannel) must not bring a picker back.
      await servers[0]!.stop();
      await servers[0]!.restart();
      await new Promise((r) => setTimeout(r, 200));
      expect(await who(client, {}, 2_000)).toBe(failed);
      expect(servers[0]!.calls).toBe(1);
    } finally {
      client.close();
    }
  });
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.field;
    throw error;
  }
  return undefined;
}
