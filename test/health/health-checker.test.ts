/**
 * Scheduling, thresholds, jitter and fan-out of the active health checker, with a scripted prober on a ManualClock
 * (the protocol probes are tested against real servers in http-check.test.ts and test/grpc/health-check.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { EndpointState } from '../../src/balancer/endpoint-state.js';
import { ManualClock } from '../../src/clock.js';
import type { Endpoint } from '../../src/endpoint.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { HealthChecker } from '../../src/health/active/health-checker.js';
import type { ProbeResult, Prober } from '../../src/health/active/prober.js';
import {
  defaultHealthCheckOptions,
  type HealthCheckOptions,
  parseHealthCheck,
} from '../../src/health/options.js';
import { channelNames } from '../../src/observability/channels.js';
import { collect, harness } from './harness.js';

/** A prober whose answers the test controls: per address healthy or not, optionally never settling. */
class ScriptedProber implements Prober {
  readonly healthy = new Map<string, boolean>();
  readonly probes: { address: string; at: number }[] = [];
  hang = false;
  running = 0;
  maxRunning = 0;
  now: () => number = () => 0;

  probe(endpoint: Endpoint, signal: AbortSignal): Promise<ProbeResult> {
    this.probes.push({ address: endpoint.address, at: this.now() });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise((resolve) => {
      const done = (result: ProbeResult) => {
        this.running--;
        resolve(result);
      };
      if (this.hang) {
        signal.addEventListener('abort', () => done({ healthy: false, detail: 'timeout' }));
        return;
      }
      const ok = this.healthy.get(endpoint.address) ?? true;
      queueMicrotask(() => done({ healthy: ok, detail: ok ? 'ok' : 'bad' }));
    });
  }

  close(): void {}
}

/** Lets probe promises and p-limit's queue settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

function setup(options: object, count = 3) {
  const prober = new ScriptedProber();
  const passes: EndpointState[] = [];
  const checker = new HealthChecker(
    parseHealthCheck({ intervalJitterPercent: 0, ...options }, 'healthCheck')!,
    { onPass: (s) => passes.push(s) },
    prober,
  );
  const h = harness(checker, count);
  prober.now = () => h.clock.now();
  /** Advances the fake clock and lets the probes it started finish. */
  const tick = async (ms: number) => {
    h.clock.advance(ms);
    await settle();
  };
  return { checker, prober, passes, tick, ...h };
}

describe('options', () => {
  it('defaults', () => {
    expect(defaultHealthCheckOptions).toMatchObject({
      protocol: 'http',
      path: '/healthz',
      expectedStatuses: [200],
      intervalMs: 10_000,
      timeoutMs: 1_000,
      unhealthyThreshold: 3,
      healthyThreshold: 1,
      concurrency: 32,
    });
    expect(parseHealthCheck(false, 'h')).toBeUndefined();
  });

  it.each([
    [{ protocol: 'tcp' }, 'healthCheck.protocol: expected one of "http", "grpc", got "tcp"'],
    [{ path: 'healthz' }, 'healthCheck.path: expected a path starting with "/", got "healthz"'],
    [
      { expectedStatuses: [] },
      'healthCheck.expectedStatuses: expected a non-empty array of HTTP statuses, got an array of length 0',
    ],
    [
      { expectedStatuses: [200, 700] },
      'healthCheck.expectedStatuses[1]: expected an integer from 100 to 599, got 700',
    ],
    [{ timeoutMs: 0 }, 'healthCheck.timeoutMs: expected a number from 1 to 600000, got 0'],
    [{ concurrency: 0 }, 'healthCheck.concurrency: expected an integer from 1 to 10000, got 0'],
    [{ service: 3 }, 'healthCheck.service: expected a string, got 3'],
    [
      { protocol: 'grpc' },
      'healthCheck.prober: expected grpcHealthProber from "switchyard-lb/grpc" when protocol is "grpc"',
    ],
    [{ prober: 'grpc' }, 'healthCheck.prober: expected a function (options) => Prober, got "grpc"'],
  ])('rejects %j', (options, message) => {
    expect(() => parseHealthCheck(options, 'healthCheck')).toThrow(message);
  });

  it('a gRPC check without a prober is refused by the Balancer too (the core never loads grpc-js)', () => {
    expect(
      () => new Balancer({ endpoints: ['127.0.0.1:1'], healthCheck: { protocol: 'grpc', service: 'x' } }),
    ).toThrow(ConfigError);
  });

  it('healthCheck.prober builds the prober from the validated options, and its verdicts count', async () => {
    const made: HealthCheckOptions[] = [];
    const prober = new ScriptedProber();
    prober.healthy.set('127.0.0.1:2', false);
    const balancer = new Balancer({
      endpoints: ['127.0.0.1:1', '127.0.0.1:2'],
      clock: new ManualClock(),
      panicThreshold: 0,
      healthCheck: {
        unhealthyThreshold: 1,
        service: 'custom',
        prober: (options) => {
          made.push(options);
          return prober;
        },
      },
    });
    await balancer.health.healthChecker!.checkAll();
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ service: 'custom', unhealthyThreshold: 1 });
    expect(prober.probes.map((p) => p.address).sort()).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(balancer.stats().endpoints.map((e) => e.condition)).toEqual(['routable', 'unhealthy']);
    await balancer.close();
  });
});

describe('scheduling and thresholds', () => {
  it('probes every endpoint at once, then every intervalMs after the previous probe settles', async () => {
    const t = setup({ intervalMs: 5_000 });
    await t.tick(0);
    expect(t.prober.probes.map((p) => p.at)).toEqual([0, 0, 0]);
    await t.tick(4_999);
    expect(t.prober.probes).toHaveLength(3);
    await t.tick(1);
    expect(t.prober.probes).toHaveLength(6);
  });

  it('marks unhealthy after unhealthyThreshold failures in a row (boundary: 2 of 3 keeps it healthy)', async () => {
    const checks = collect(channelNames.healthCheck);
    const t = setup({ intervalMs: 1_000, unhealthyThreshold: 3 });
    t.prober.healthy.set(t.states[0]!.address, false);
    await t.tick(0);
    await t.tick(1_000);
    expect(t.states[0]!.activeHealthy).toBe(true);
    expect(t.invalidations()).toBe(0);
    await t.tick(1_000);
    expect(t.states[0]!.activeHealthy).toBe(false);
    expect(t.invalidations()).toBe(1);
    const mine = checks.filter((c) => (c as { address: string }).address === t.states[0]!.address);
    expect(mine).toHaveLength(3);
    expect(mine.at(-1)).toMatchObject({ balancer: 'test', passed: false, detail: 'bad', healthy: false });
  });

  it('a pass in between resets the failure count', async () => {
    const t = setup({ intervalMs: 1_000, unhealthyThreshold: 2 });
    const a = t.states[0]!.address;
    t.prober.healthy.set(a, false);
    await t.tick(0);
    t.prober.healthy.set(a, true);
    await t.tick(1_000);
    t.prober.healthy.set(a, false);
    await t.tick(1_000);
    expect(t.states[0]!.activeHealthy).toBe(true);
    await t.tick(1_000);
    expect(t.states[0]!.activeHealthy).toBe(false);
  });

  it('marks healthy again after healthyThreshold passes in a row, and reports every pass (outlier return)', async () => {
    const t = setup({ intervalMs: 1_000, unhealthyThreshold: 1, healthyThreshold: 2 });
    const a = t.states[0]!.address;
    t.prober.healthy.set(a, false);
    await t.tick(0);
    expect(t.states[0]!.activeHealthy).toBe(false);
    t.prober.healthy.set(a, true);
    await t.tick(1_000);
    expect(t.states[0]!.activeHealthy).toBe(false);
    await t.tick(1_000);
    expect(t.states[0]!.activeHealthy).toBe(true);
    expect(t.passes.filter((s) => s.address === a)).toHaveLength(2);
  });

  it('a hanging probe fails at timeoutMs and the next is scheduled after it', async () => {
    const checks = collect(channelNames.healthCheck);
    const t = setup({ intervalMs: 1_000, timeoutMs: 300, unhealthyThreshold: 1 }, 1);
    t.prober.hang = true;
    await t.tick(0);
    await t.tick(299);
    expect(checks).toHaveLength(0);
    await t.tick(1);
    expect(checks[0]).toMatchObject({ passed: false, detail: 'timeout', durationMs: 300 });
    expect(t.states[0]!.activeHealthy).toBe(false);
    await t.tick(999);
    expect(t.prober.probes).toHaveLength(1);
    await t.tick(1);
    expect(t.prober.probes).toHaveLength(2);
  });

  it('endpoints added after start-up are pending (unhealthy) until one probe passes', async () => {
    const t = setup({ intervalMs: 1_000, healthyThreshold: 3 });
    await t.tick(0);
    const added = t.states[0]!;
    // Simulate a later resolver update adding it again as a fresh endpoint.
    t.checker.endpointRemoved(added);
    t.checker.endpointAdded(added);
    expect(added.activeHealthy).toBe(false);
    await t.tick(0);
    expect(added.activeHealthy).toBe(true);
  });

  it('jitter: intervals fall within [interval, interval × (1 + percent) + jitterMs]', async () => {
    const t = setup({ intervalMs: 1_000, intervalJitterPercent: 20, intervalJitterMs: 100 }, 20);
    await t.tick(0);
    // Small steps, so each probe starts (p-limit runs it a microtask later) close to its timer's time.
    for (let i = 0; i < 130; i++) await t.tick(10);
    const second = t.prober.probes.slice(20).map((p) => p.at);
    expect(second).toHaveLength(20);
    for (const at of second) {
      expect(at).toBeGreaterThanOrEqual(1_000);
      expect(at).toBeLessThanOrEqual(1_300);
    }
    expect(new Set(second).size).toBeGreaterThan(10);
  });

  it('fan-out is bounded: 1,000 endpoints with concurrency 8 never run more than 8 probes at once', async () => {
    const t = setup({ intervalMs: 60_000, concurrency: 8 }, 1_000);
    t.clock.advance(0);
    expect(t.checker.active).toBe(8);
    expect(t.checker.queued).toBe(992);
    await settle();
    for (let i = 0; i < 200 && t.prober.probes.length < 1_000; i++) await settle();
    expect(t.prober.probes).toHaveLength(1_000);
    expect(t.prober.maxRunning).toBe(8);
  });

  it('removing an endpoint stops its probes; close() stops all', async () => {
    const t = setup({ intervalMs: 1_000 }, 2);
    await t.tick(0);
    t.states[0]!.removed = true;
    t.checker.endpointRemoved(t.states[0]!);
    await t.tick(1_000);
    expect(t.prober.probes.filter((p) => p.address === t.states[0]!.address)).toHaveLength(1);
    await t.checker.close();
    expect(t.clock.pendingTimers).toBe(0);
  });
});
