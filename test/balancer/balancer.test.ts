import { describe, expect, it, vi } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { ExtensionContext } from '../../src/balancer/extension.js';
import type { Lease } from '../../src/balancer/lease.js';
import type { Resolver, ResolverListener } from '../../src/balancer/resolver.js';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { seededRandom } from '../../src/random.js';
import { StaticResolver } from '../../src/resolvers/static.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function balancer(endpoints: unknown[], extra: Record<string, unknown> = {}) {
  return new Balancer({
    endpoints: endpoints as never,
    random: seededRandom(1),
    clock: new ManualClock(),
    ...extra,
  });
}

describe('Balancer options', () => {
  it.each([
    [{}, 'endpoints'],
    [{ endpoints: [], resolver: new StaticResolver([]) }, 'endpoints'],
    [{ endpoints: ['a:1'], policy: 'nope' }, 'policy'],
    [{ endpoints: ['a:1'], policy: { name: 'least_request', choiceCount: 1 } }, 'policy.choiceCount'],
    [
      { endpoints: ['a:1'], policy: { name: 'least_request', activeRequestBias: -1 } },
      'policy.activeRequestBias',
    ],
    [{ endpoints: ['a:1'], policy: { name: 'p2c_peak_ewma', decayMs: 0 } }, 'policy.decayMs'],
    [{ endpoints: ['a:1'], policy: { name: 'p2c_peak_ewma', defaultRttMs: 0 } }, 'policy.defaultRttMs'],
    [{ endpoints: ['a:1'], policy: { name: 'round_robin', choiceCount: 2 } }, 'policy.choiceCount'],
    [{ endpoints: ['a:1'], panicThreshold: 101 }, 'panicThreshold'],
    [{ endpoints: ['a:1'], panicThreshold: -1 }, 'panicThreshold'],
    [{ endpoints: ['a:1'], closeTimeoutMs: Number.NaN }, 'closeTimeoutMs'],
    [{ endpoints: ['a:1'], clock: { now: () => 0 } }, 'clock'],
    [{ endpoints: ['a:1'], random: 4 }, 'random'],
    [{ endpoints: ['a:1'], polcy: 'random' }, 'polcy'],
    [{ endpoints: ['a'] }, 'endpoints[0]'],
    [{ endpoints: ['a:0'] }, 'endpoints[0].port'],
    [{ endpoints: ['a:65536'] }, 'endpoints[0].port'],
    [{ endpoints: ['a:1', 'a:1'] }, 'endpoints[1]'],
    [{ endpoints: [{ host: 'a', port: 1, weight: 0 }] }, 'endpoints[0].weight'],
    [{ endpoints: [{ host: 'a', port: 1, weight: -2 }] }, 'endpoints[0].weight'],
    [{ endpoints: [{ host: 'a', port: 1, priority: 1.5 }] }, 'endpoints[0].priority'],
    [{ endpoints: [{ host: 'a', port: 1, health: 'fine' }] }, 'endpoints[0].health'],
    [{ endpoints: [{ host: 'a', port: 1, locality: { zone: 3 } }] }, 'endpoints[0].locality.zone'],
    [{ endpoints: [{ host: '', port: 1 }] }, 'endpoints[0].host'],
    [{ endpoints: [{ host: 'a', port: 1, colour: 'red' }] }, 'endpoints[0].colour'],
  ])('rejects %j naming %s', (options, field) => {
    const attempt = () => new Balancer(options as never);
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).field).toBe(field);
      expect((error as ConfigError).code).toBe('SY_ERR_CONFIG');
      expect((error as Error).message).toContain(`${field}: expected`);
    }
  });

  it('parses addresses, IPv6 and defaults', () => {
    const b = balancer([
      '127.0.0.1:80',
      '[::1]:81',
      { host: '::1', port: 82, weight: 2, locality: { zone: 'b' } },
    ]);
    const stats = b.stats().endpoints;
    expect(stats.map((e) => e.address)).toEqual(['127.0.0.1:80', '[::1]:81', '[::1]:82']);
    expect(stats[2]).toMatchObject({
      host: '::1',
      port: 82,
      weight: 2,
      priority: 0,
      locality: { zone: 'b' },
    });
    expect(b.policy).toBe('p2c_robust_ewma');
  });
});

describe('pick and release', () => {
  it('counts in-flight, measures latency from the pick with the injected clock, ignores double release', () => {
    const clock = new ManualClock(1000);
    const b = new Balancer({ endpoints: ['a:1'], clock, policy: 'round_robin' });
    const lease = b.pick()!;
    expect(lease.endpoint.address).toBe('a:1');
    expect(b.stats().endpoints[0]!.inFlight).toBe(1);
    clock.advance(40);
    lease.release();
    lease.release({ ok: false, failure: 'connect' });
    const [s] = b.stats().endpoints;
    expect(s).toMatchObject({ inFlight: 0, picks: 1, successes: 1, failures: 0 });
    // Default estimate 30 ms, one 40 ms response: the peak rule jumps straight to 40.
    expect(s!.latencyEstimateMs).toBeCloseTo(40, 9);
  });

  it('uses latencyMs when given and does not read the clock', () => {
    const clock = new ManualClock(0);
    const now = vi.spyOn(clock, 'now');
    const b = new Balancer({ endpoints: ['a:1'], clock, policy: 'round_robin' });
    now.mockClear();
    const lease = b.pick({ now: 5 })!;
    lease.release({ ok: true, latencyMs: 70 });
    expect(now).not.toHaveBeenCalled();
    // Picked at 5, answered 70 ms later: the estimate (30 at t=0, decayed) jumps to the 70 ms peak.
    expect(b.stats().endpoints[0]!.latencyEstimateMs).toBeCloseTo(70, 6);
  });

  it('a fast failure never lowers the latency estimate; a slow one raises it', () => {
    const clock = new ManualClock();
    const b = balancer(['a:1'], { policy: 'round_robin', clock });
    b.pick({ now: 0 })!.release({ ok: false, failure: 'connect', latencyMs: 0.1, now: 0.1 });
    expect(b.stats().endpoints[0]!.latencyEstimateMs).toBeCloseTo(30, 3);
    b.pick({ now: 1 })!.release({ ok: false, failure: 'timeout', latencyMs: 500, now: 501 });
    expect(b.stats().endpoints[0]!.failures).toBe(2);
    // The 500 ms failure is above the 30 ms estimate: the peak rule takes the estimate up to it.
    clock.set(501);
    expect(b.stats().endpoints[0]!.latencyEstimateMs).toBeCloseTo(500, 3);
  });

  it('cancelled releases free the slot without touching latency or counters', () => {
    const b = balancer(['a:1'], { policy: 'round_robin' });
    b.pick({ now: 0 })!.release({ ok: false, failure: 'cancelled', latencyMs: 900, now: 900 });
    expect(b.stats().endpoints[0]).toMatchObject({ inFlight: 0, successes: 0, failures: 0 });
    expect(b.stats().endpoints[0]!.latencyEstimateMs).toBeCloseTo(30, 9);
  });

  it('exclude steers away from tried endpoints, but never fails because of it', () => {
    const b = balancer(['a:1', 'b:1', 'c:1'], { policy: 'round_robin' });
    for (let i = 0; i < 30; i++) {
      const lease = b.pick({ exclude: ['a:1', 'b:1'] })!;
      expect(lease.endpoint.address).toBe('c:1');
      lease.release();
    }
    expect(b.pick({ exclude: new Set(['a:1', 'b:1', 'c:1']) })).toBeDefined();
  });

  it('tryPick skips full endpoints and reports overflow when every endpoint is at its in-flight limit', () => {
    let context: ExtensionContext | undefined;
    const b = balancer(['a:1', 'b:1'], {
      policy: 'round_robin',
      extensions: [{ attach: (c: ExtensionContext) => (context = c) }],
    });
    // maxInFlight is what circuit breaking sets; set it directly here to test the core mechanism.
    for (const state of context!.states()) state.maxInFlight = 1;
    const first = b.tryPick();
    const second = b.tryPick();
    expect(typeof first).toBe('object');
    expect(typeof second).toBe('object');
    const addresses = [first, second].map((l) => (l as Lease).endpoint.address).sort();
    expect(addresses).toEqual(['a:1', 'b:1']);
    expect(b.tryPick()).toBe('overflow');
    (first as Lease).release();
    expect((b.tryPick() as Lease).endpoint.address).toBe((first as Lease).endpoint.address);
  });

  it('returns unavailable when nothing is routable, and after close', async () => {
    const b = balancer(['a:1']);
    b.setEndpoints([]);
    expect(b.tryPick()).toBe('unavailable');
    expect(b.pick()).toBeUndefined();
    b.setEndpoints(['a:1']);
    b.pick()!.release();
    await b.close();
    expect(b.tryPick()).toBe('unavailable');
  });
});

describe('endpoint updates', () => {
  it('keeps runtime state of endpoints present before and after; drains removed ones', () => {
    const b = balancer(['a:1', 'b:1'], { policy: 'round_robin' });
    const drained: string[] = [];
    b.on('drained', (e) => drained.push(e.address));
    const leases = [b.pick()!, b.pick()!];
    const onA = leases.find((l) => l.endpoint.address === 'a:1')!;
    const onB = leases.find((l) => l.endpoint.address === 'b:1')!;
    b.setEndpoints([{ host: 'a', port: 1, weight: 5 }, 'c:1']);
    const stats = Object.fromEntries(b.stats().endpoints.map((e) => [e.address, e]));
    expect(stats['a:1']).toMatchObject({ inFlight: 1, picks: 1, weight: 5, condition: 'routable' });
    expect(stats['b:1']).toMatchObject({ inFlight: 1, condition: 'draining' });
    expect(drained).toEqual([]);
    for (let i = 0; i < 20; i++) {
      const lease = b.pick()!;
      expect(lease.endpoint.address).not.toBe('b:1');
      lease.release();
    }
    onB.release({ ok: false, failure: 'reset' });
    expect(drained).toEqual(['b:1']);
    expect(
      b
        .stats()
        .endpoints.map((e) => e.address)
        .sort(),
    ).toEqual(['a:1', 'c:1']);
    onA.release();
    expect(b.stats().endpoints.find((e) => e.address === 'a:1')!.inFlight).toBe(0);
  });

  it('an endpoint added after traffic starts at the mean estimate of its observed peers', () => {
    const b = balancer(['a:1', 'b:1'], { policy: 'round_robin' });
    b.pick({ now: 0 })!.release({ ok: true, latencyMs: 100, now: 0 });
    b.pick({ now: 0 })!.release({ ok: true, latencyMs: 200, now: 0 });
    b.setEndpoints(['a:1', 'b:1', 'c:1']);
    const c = b.stats().endpoints.find((e) => e.address === 'c:1')!;
    expect(c.latencyEstimateMs).toBeCloseTo(150, 6);
  });

  it('follows a resolver, rejects a bad update whole and keeps the last good set', async () => {
    const resolver = new StaticResolver(['a:1', 'b:1']);
    const b = new Balancer({ resolver, policy: 'round_robin', random: seededRandom(3) });
    const errors: Error[] = [];
    b.on('resolver-error', (e) => errors.push(e));
    await flush();
    expect(b.stats().endpoints).toHaveLength(2);
    resolver.set(['a:1', 'c:99999']);
    await flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect((errors[0] as ConfigError).field).toBe('resolver.endpoints[1].port');
    expect(b.stats().endpoints.map((e) => e.address)).toEqual(['a:1', 'b:1']);
    resolver.set(['c:1']);
    await flush();
    expect(b.stats().endpoints.map((e) => e.address)).toEqual(['c:1']);
    await b.close();
  });

  it('reports resolver errors without dropping endpoints, and closes the resolver', async () => {
    let listener: ResolverListener | undefined;
    const closed = vi.fn();
    const resolver: Resolver = { start: (l) => (listener = l), refresh: vi.fn(), close: closed };
    const b = new Balancer({ resolver });
    listener!.onUpdate({ endpoints: ['a:1'] });
    const errors: Error[] = [];
    b.on('resolver-error', (e) => errors.push(e));
    listener!.onError(new Error('SERVFAIL'));
    expect(errors.map((e) => e.message)).toEqual(['SERVFAIL']);
    const lease = b.pick()!;
    expect(lease.endpoint.address).toBe('a:1');
    lease.release();
    b.refresh();
    expect(resolver.refresh).toHaveBeenCalledTimes(1);
    expect(await b.close()).toBe(true);
    expect(closed).toHaveBeenCalledTimes(1);
  });
});

describe('panic threshold', () => {
  const fleet = (unhealthy: number, total: number) =>
    Array.from({ length: total }, (_, i) => ({
      host: 'h',
      port: i + 1,
      health: i < unhealthy ? ('unhealthy' as const) : ('healthy' as const),
    }));

  it('routes only to healthy endpoints at or above the threshold', () => {
    const b = balancer(fleet(5, 10), { policy: 'round_robin' });
    expect(b.panic).toBe(false);
    expect(b.stats().routable).toBe(5);
  });

  it('routes across all endpoints below the threshold, and says so', () => {
    const b = balancer(fleet(5, 10), { policy: 'round_robin' });
    const events: boolean[] = [];
    b.on('panic', (p) => events.push(p));
    b.setEndpoints(fleet(6, 10));
    expect(b.panic).toBe(true);
    expect(b.stats().routable).toBe(10);
    b.setEndpoints(fleet(4, 10));
    expect(events).toEqual([true, false]);
  });

  it('0 disables panic: nothing healthy means nothing routable', () => {
    const b = balancer(fleet(10, 10), { policy: 'round_robin', panicThreshold: 0 });
    expect(b.panic).toBe(false);
    expect(b.pick()).toBeUndefined();
  });
});

describe('close', () => {
  it('waits for outstanding leases', async () => {
    const b = balancer(['a:1']);
    const lease = b.pick()!;
    let done: boolean | undefined;
    const closing = b.close().then((r) => (done = r));
    await flush();
    expect(done).toBeUndefined();
    lease.release();
    await closing;
    expect(done).toBe(true);
  });

  it('gives up after closeTimeoutMs on the injected clock', async () => {
    const clock = new ManualClock();
    const b = new Balancer({ endpoints: ['a:1'], clock, closeTimeoutMs: 5000 });
    b.pick();
    const closing = b.close();
    await flush();
    clock.advance(4999);
    clock.advance(1);
    expect(await closing).toBe(false);
  });
});

describe('cluster settings from a resolver', () => {
  it('switches policy when the control plane changes it, and keeps the instance when it resends the same one', () => {
    let listener: ResolverListener | undefined;
    const resolver: Resolver = { start: (l) => (listener = l), refresh() {}, close() {} };
    const b = new Balancer({ resolver, policy: 'round_robin' });
    const pickers: number[] = [];
    b.on('picker', (p) => pickers.push(p.routable));
    listener!.onUpdate({
      endpoints: ['a:1'],
      cluster: { policy: { name: 'least_request', choiceCount: 3 } },
    });
    expect(b.policy).toBe('least_request');
    listener!.onUpdate({
      endpoints: ['a:1', 'b:1'],
      cluster: { policy: { name: 'least_request', choiceCount: 3 } },
    });
    expect(b.policy).toBe('least_request');
    const errors: Error[] = [];
    b.on('resolver-error', (e) => errors.push(e));
    listener!.onUpdate({
      endpoints: ['c:1'],
      cluster: { policy: { name: 'least_request', choiceCount: 0 } },
    });
    expect((errors[0] as ConfigError).field).toBe('resolver.cluster.policy.choiceCount');
    expect(b.stats().endpoints.map((e) => e.address)).toEqual(['a:1', 'b:1']);
    expect(pickers).toEqual([1, 2]);
  });
});

describe('endpoint-set updates (issue 17: the diff without serialising)', () => {
  const ep = (port: number, extra: Record<string, unknown> = {}) => ({ host: '10.0.0.1', port, ...extra });
  const addresses = (b: Balancer) => b.stats().endpoints.map((e) => e.address);

  it('reports locality and metadata changes, and only those, as changed', () => {
    const b = balancer([ep(1, { metadata: { a: 'x' } }), ep(2, { locality: { zone: 'z1' } }), ep(3)]);
    const updates: { changed: readonly string[] }[] = [];
    b.on('update', (u) => updates.push(u));
    // Equal values in new objects: unchanged.
    b.setEndpoints([ep(1, { metadata: { a: 'x' } }), ep(2, { locality: { zone: 'z1' } }), ep(3)]);
    b.setEndpoints([
      ep(1, { metadata: { a: 'y' } }),
      ep(2, { locality: { zone: 'z2' } }),
      ep(3, { metadata: {} }),
    ]);
    b.setEndpoints([ep(1, { metadata: { a: 'y', b: 'x' } }), ep(2, { locality: { zone: 'z2' } }), ep(3)]);
    b.setEndpoints([ep(1, { metadata: { b: 'x', a: 'y' } }), ep(2, { locality: { region: 'z2' } }), ep(3)]);
    expect(updates.map((u) => u.changed)).toEqual([
      [],
      ['10.0.0.1:1', '10.0.0.1:2'],
      ['10.0.0.1:1'],
      ['10.0.0.1:1', '10.0.0.1:2'],
    ]);
    void b.close();
  });

  it('keeps the states in the order of the latest list, whether or not it changed', () => {
    const b = balancer([ep(1), ep(2), ep(3)]);
    b.setEndpoints([ep(2), ep(3), ep(4)]); // removal and append: already in order
    expect(addresses(b)).toEqual(['10.0.0.1:2', '10.0.0.1:3', '10.0.0.1:4']);
    b.setEndpoints([ep(4), ep(1), ep(2)]);
    expect(addresses(b)).toEqual(['10.0.0.1:4', '10.0.0.1:1', '10.0.0.1:2']);
    b.setEndpoints([ep(2), ep(4), ep(1)]);
    expect(addresses(b)).toEqual(['10.0.0.1:2', '10.0.0.1:4', '10.0.0.1:1']);
    void b.close();
  });
});
