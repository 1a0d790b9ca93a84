/**
 * The `switchyard` policy driving real grpc-js channels against real servers on 127.0.0.1.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { channelOptions, setup } from '../../src/grpc/index.js';
import { burst, type TestServer, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(3);
const { servers } = fleet;
const open = (options: grpc.ChannelOptions) => fleet.open(fleet.target(), options);
const balancerNamed = (name: string) => fleet.balancer(name);

describe('distribution per policy', () => {
  for (const policy of ['round_robin', 'random', 'least_request', 'p2c_peak_ewma', 'weighted_round_robin']) {
    it(`${policy} spreads 300 calls over the 3 servers`, async () => {
      const client = open(channelOptions({ policy, balancer: { name: `dist-${policy}` } }));
      // Calls made before every subchannel is READY all go to the first one that is: connect first.
      await who(client);
      await waitRoutable(`dist-${policy}`, 3);
      const counts = await burst(client, 300, 6);
      expect(Object.keys(counts).sort()).toEqual(['s0', 's1', 's2']);
      for (const name of ['s0', 's1', 's2']) {
        // Even share is 100; random and the load-aware policies vary, but none may starve an endpoint.
        expect(counts[name]).toBeGreaterThan(policy === 'round_robin' ? 95 : 40);
      }
      const stats = balancerNamed(`dist-${policy}`)!.stats();
      expect(stats.policy).toBe(policy);
      expect(stats.totalInFlight).toBe(0);
      expect(stats.endpoints.reduce((sum, e) => sum + e.successes, 0)).toBe(301);
    });
  }
});

it('p2c_peak_ewma avoids a slow server', async () => {
  servers[2]!.behaviour.delayMs = 60;
  const client = open(channelOptions({ policy: 'p2c_peak_ewma', balancer: { name: 'slow' } }));
  await who(client);
  await waitRoutable('slow', 3);
  const counts = await burst(client, 300, 4);
  // Fast servers answer in ~1 ms, so once measured the slow one is only picked when both choices are it or its
  // estimate has decayed; it should get far less than a third.
  expect(counts.s2 ?? 0).toBeLessThan(30);
  expect((counts.s0 ?? 0) + (counts.s1 ?? 0)).toBeGreaterThan(270);
});

it('feeds in-flight from call start to end, and classifies statuses', async () => {
  const client = open(
    channelOptions({ policy: 'round_robin', balancer: { name: 'classify', panicThreshold: 0 } }),
  );
  const balancer = () => balancerNamed('classify')!;
  // Connect first: calls made before every subchannel is READY all go to the first one that is.
  await who(client);
  await waitRoutable('classify', 3);
  const before = new Map(
    balancer()
      .stats()
      .endpoints.map((e) => [e.address, e]),
  );
  servers[0]!.behaviour.failWith = grpc.status.UNAVAILABLE;
  servers[1]!.behaviour.failWith = grpc.status.NOT_FOUND;
  for (const s of servers) s.behaviour.delayMs = 40;
  const calls = Promise.all(Array.from({ length: 9 }, () => who(client)));
  await waitFor(() => balancer().stats().totalInFlight === 9, 3_000, '9 calls in flight');
  const results = await calls;
  expect(results.filter((r) => r.startsWith('ERR 14'))).toHaveLength(3);
  expect(results.filter((r) => r.startsWith('ERR 5'))).toHaveLength(3);
  const after = new Map(
    balancer()
      .stats()
      .endpoints.map((e) => [e.address, e]),
  );
  const delta = (s: TestServer) => {
    const a = after.get(s.address)!;
    const b = before.get(s.address)!;
    return { failures: a.failures - b.failures, successes: a.successes - b.successes, inFlight: a.inFlight };
  };
  expect(delta(servers[0]!)).toEqual({ failures: 3, successes: 0, inFlight: 0 });
  // NOT_FOUND is the application answering: a success for the balancer.
  expect(delta(servers[1]!)).toEqual({ failures: 0, successes: 3, inFlight: 0 });
  expect(delta(servers[2]!)).toEqual({ failures: 0, successes: 3, inFlight: 0 });
});

it('configurable failure statuses', async () => {
  const client = open(
    channelOptions({
      policy: 'round_robin',
      failureStatuses: ['NOT_FOUND'],
      // Counting every failure: no ejection (on by default) may take s1 out of the rotation.
      balancer: { name: 'custom-failures', panicThreshold: 0, outlierDetection: false },
    }),
  );
  await who(client);
  await waitRoutable('custom-failures', 3, 3_000);
  servers[1]!.behaviour.failWith = grpc.status.NOT_FOUND;
  const s1 = () =>
    balancerNamed('custom-failures')!
      .stats()
      .endpoints.find((e) => e.address === servers[1]!.address)!;
  const before = s1();
  const results = await burst(client, 30);
  expect(results['ERR 5: s1 fails']).toBe(10);
  expect(s1().failures - before.failures).toBe(10);
  expect(s1().successes - before.successes).toBe(0);
});

it('outlier detection is on by default, as in the undici adapter: a server failing every call is ejected', async () => {
  const lost = async (name: string, outlierDetection?: false) => {
    const client = open(channelOptions({ policy: 'round_robin', balancer: { name, outlierDetection } }));
    await who(client);
    await waitRoutable(name, 3, 3_000);
    servers[1]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    const results = await burst(client, 90);
    servers[1]!.behaviour.failWith = undefined;
    return results['ERR 14: s1 fails'] ?? 0;
  };
  // Without ejection a third of the calls fail; with the default, s1 leaves after 5 consecutive failures.
  expect(await lost('od-off', false)).toBe(30);
  expect(await lost('od-default')).toBeLessThanOrEqual(6);
  const s1 = balancerNamed('od-default')!
    .stats()
    .endpoints.find((e) => e.address === servers[1]!.address)!;
  expect(s1.condition).toBe('ejected');
});

it('circuit breaker overflow drops the call with UNAVAILABLE (no retry, no queueing)', async () => {
  const client = open(
    channelOptions({
      policy: 'least_request',
      balancer: { name: 'breaker', circuitBreaker: { maxRequestsPerEndpoint: 1 } },
    }),
  );
  await who(client);
  await waitRoutable('breaker', 3);
  for (const s of servers) s.behaviour.delayMs = 300;
  const results = await Promise.all(Array.from({ length: 5 }, () => who(client)));
  expect(results.filter((r) => /^s[012]$/.test(r)).sort()).toEqual(['s0', 's1', 's2']);
  expect(results.filter((r) => r.startsWith('ERR'))).toEqual([
    'ERR 14: switchyard (breaker): every routable endpoint is at its in-flight limit (circuit breaker open)',
    'ERR 14: switchyard (breaker): every routable endpoint is at its in-flight limit (circuit breaker open)',
  ]);
  expect(balancerNamed('breaker')!.stats().totalInFlight).toBe(0);
});

describe('an endpoint with several addresses (dual-stack)', () => {
  /** A grpc-js resolver (not a switchyard scheme) that answers with the endpoints the test sets. */
  let answer: grpc.experimental.Endpoint[] = [];
  class ListResolver implements grpc.experimental.Resolver {
    constructor(
      _target: grpc.experimental.GrpcUri,
      readonly listener: grpc.experimental.ResolverListener,
    ) {}
    updateResolution(): void {
      process.nextTick(() => this.listener(grpc.experimental.statusOrFromValue(answer), {}, null, 'list'));
    }
    destroy(): void {}
    static getDefaultAuthority(): string {
      return 'localhost';
    }
  }
  grpc.experimental.registerResolver('sy-test-list', ListResolver);

  it('is one endpoint whose connection tries its addresses in order', async () => {
    // A port nothing listens on: bind one, then free it.
    const dead = await new Promise<number>((resolve) => {
      const s = new grpc.Server();
      s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (_e, port) => {
        s.forceShutdown();
        resolve(port);
      });
    });
    const host = '127.0.0.1';
    answer = [
      {
        addresses: [
          { host, port: dead },
          { host, port: servers[0]!.port },
        ],
      },
      { addresses: [{ host, port: servers[1]!.port }] },
    ];
    const client = fleet.open(
      'sy-test-list:///two',
      channelOptions({ policy: 'round_robin', balancer: { name: 'dual' } }),
    );
    await who(client);
    await waitRoutable('dual', 2, 5_000);
    const stats = balancerNamed('dual')!.stats();
    expect(stats.endpoints.map((e) => e.address).sort()).toEqual(
      [`${host}:${dead}`, servers[1]!.address].sort(),
    );
    // The first endpoint's calls go over its second address.
    expect(await burst(client, 10)).toEqual({ s0: 5, s1: 5 });
  });
});
