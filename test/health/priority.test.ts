import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import { levelHealth, priorityLoad } from '../../src/balancer/routing/priority.js';
import { selectRoutable } from '../../src/balancer/routing/routable.js';
import { ManualClock } from '../../src/clock.js';
import { type EndpointInput, parseEndpoint } from '../../src/endpoint.js';
import { defaultRoutingOptions } from '../../src/health/options.js';
import { seededRandom } from '../../src/random.js';

const level = (total: number, healthy: number) => ({ total, healthy });
const round = (xs: readonly number[]) => xs.map((x) => Math.round(x * 10_000) / 100);

describe('levelHealth (Envoy integer percent, factor 1.4)', () => {
  it.each([
    [10, 10, 100],
    [10, 8, 100],
    [7, 5, 100], // 1.4 × 5/7 = 1 exactly: the boundary where a level stops keeping all its traffic
    [10, 7, 98],
    [10, 5, 70],
    [10, 1, 14],
    [10, 0, 0],
    [0, 0, 0],
  ])('%i endpoints, %i healthy → %i %%', (total, healthy, expected) => {
    expect(levelHealth(level(total, healthy), 1.4)).toBe(expected);
  });
});

describe('priorityLoad', () => {
  it('level 0 keeps everything while healthy × 1.4 ≥ 100 %', () => {
    expect(round(priorityLoad([level(10, 8), level(10, 10)], 1.4, 50).load)).toEqual([100, 0]);
  });

  it('spills proportionally: 7 of 10 healthy keeps 98 %, 5 of 10 keeps 70 %', () => {
    expect(round(priorityLoad([level(10, 7), level(10, 10)], 1.4, 50).load)).toEqual([98, 2]);
    expect(round(priorityLoad([level(10, 5), level(10, 10)], 1.4, 50).load)).toEqual([70, 30]);
  });

  it('spills through several levels in order', () => {
    expect(round(priorityLoad([level(10, 3), level(10, 3), level(10, 10)], 1.4, 50).load)).toEqual([
      42, 42, 16,
    ]);
  });

  it('not enough capacity anywhere: loads normalized by availability, no panic above the threshold', () => {
    const r = priorityLoad([level(10, 5), level(10, 1)], 1.4, 50);
    // health 70 and 14, sum 84 < 100: 70/84 and 14/84.
    expect(round(r.load)).toEqual([83.33, 16.67]);
    expect(r.panic).toEqual([false, true]);
  });

  it('total panic: every level below the threshold spreads over all endpoints by count', () => {
    const r = priorityLoad([level(10, 2), level(30, 3)], 1.4, 50);
    expect(r.panic).toEqual([true, true]);
    expect(round(r.load)).toEqual([25, 75]);
  });

  it('panic is ignored when lower levels make up the capacity (normalized total 100 %)', () => {
    const r = priorityLoad([level(10, 1), level(10, 10)], 1.4, 50);
    expect(r.panic).toEqual([false, false]);
    expect(round(r.load)).toEqual([14, 86]);
  });

  it('panic threshold 0 and nothing healthy: no load anywhere', () => {
    expect(priorityLoad([level(3, 0)], 1.4, 0).load).toEqual([0]);
  });

  it('overprovisioning factor 1 spills as soon as one endpoint is down', () => {
    expect(round(priorityLoad([level(10, 9), level(10, 10)], 1, 50).load)).toEqual([90, 10]);
  });
});

function states(inputs: readonly EndpointInput[]): EndpointState[] {
  return inputs.map((input, i) => new EndpointState(parseEndpoint(input, `e[${i}]`), 0, 30));
}

function counts(b: Balancer, picks: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const lease = b.pick()!;
    out.set(lease.endpoint.address, (out.get(lease.endpoint.address) ?? 0) + 1);
    lease.release();
  }
  return out;
}

function share(c: Map<string, number>, predicate: (address: string) => boolean, total: number): number {
  let n = 0;
  for (const [address, k] of c) if (predicate(address)) n += k;
  return n / total;
}

describe('selectRoutable', () => {
  it('excludes removed endpoints and, without panic, unhealthy ones', () => {
    const s = states(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    s[0]!.removed = true;
    s[1]!.ejected = true;
    const r = selectRoutable(s, defaultRoutingOptions);
    expect(r.endpoints.map((e) => e.address)).toEqual(['10.0.0.3:80']);
    expect(r.panic).toBe(false);
  });

  it('a bare number is the panic threshold (the core signature)', () => {
    const s = states(['10.0.0.1:80', '10.0.0.2:80']);
    s[0]!.ejected = true;
    expect(selectRoutable(s, 60).panic).toBe(true);
    expect(selectRoutable(s, 50).panic).toBe(false);
  });

  it('reported health counts: unhealthy and draining are not healthy', () => {
    const s = states([
      { host: '10.0.0.1', port: 80, health: 'unhealthy' },
      { host: '10.0.0.2', port: 80, health: 'draining' },
      { host: '10.0.0.3', port: 80, health: 'degraded' },
      { host: '10.0.0.4', port: 80 },
    ]);
    expect(selectRoutable(s, 50).endpoints.map((e) => e.address)).toEqual(['10.0.0.3:80', '10.0.0.4:80']);
  });
});

describe('priorities through the Balancer (seeded distribution, ±1.5 %)', () => {
  const p0 = Array.from({ length: 10 }, (_, i) => ({ host: '10.0.0.1', port: 8000 + i, priority: 0 }));
  const p1 = Array.from({ length: 10 }, (_, i) => ({ host: '10.0.1.1', port: 9000 + i, priority: 1 }));

  it('all traffic to priority 0 while it is healthy; level 1 endpoints are on standby', () => {
    const b = new Balancer({ endpoints: [...p0, ...p1], policy: 'random', random: seededRandom(3) });
    const c = counts(b, 2_000);
    expect(share(c, (a) => a.startsWith('10.0.1.'), 2_000)).toBe(0);
    expect(b.stats().endpoints.filter((e) => e.condition === 'standby')).toHaveLength(10);
  });

  it('5 of 10 unhealthy at level 0 sends 30 % to level 1', () => {
    const endpoints = [
      ...p0.map((e, i) => ({ ...e, health: i < 5 ? ('unhealthy' as const) : ('healthy' as const) })),
      ...p1,
    ];
    const b = new Balancer({ endpoints, policy: 'round_robin', random: seededRandom(3) });
    const c = counts(b, 20_000);
    expect(share(c, (a) => a.startsWith('10.0.1.'), 20_000)).toBeCloseTo(0.3, 1);
    expect(Math.abs(share(c, (a) => a.startsWith('10.0.1.'), 20_000) - 0.3)).toBeLessThan(0.015);
    expect(b.panic).toBe(false);
  });

  it('overprovisioningFactor is a Balancer option (1.0: 9 of 10 healthy sends 10 % on)', () => {
    const endpoints = [
      ...p0.map((e, i) => ({ ...e, health: i === 0 ? ('unhealthy' as const) : ('unknown' as const) })),
      ...p1,
    ];
    const b = new Balancer({
      endpoints,
      policy: 'random',
      random: seededRandom(4),
      overprovisioningFactor: 1,
    });
    const c = counts(b, 20_000);
    expect(Math.abs(share(c, (a) => a.startsWith('10.0.1.'), 20_000) - 0.1)).toBeLessThan(0.015);
    expect(() => new Balancer({ endpoints: p0, overprovisioningFactor: 0.5 })).toThrow(
      'overprovisioningFactor: expected a number from 1 to 100, got 0.5',
    );
  });

  it('panic per level: when every level is mostly down, routes across all endpoints of every level', () => {
    const endpoints = [
      ...p0.map((e, i) => ({ ...e, health: i < 9 ? ('unhealthy' as const) : ('healthy' as const) })),
      ...p1.map((e, i) => ({ ...e, health: i < 9 ? ('unhealthy' as const) : ('healthy' as const) })),
    ];
    const b = new Balancer({ endpoints, policy: 'random', random: seededRandom(5) });
    expect(b.panic).toBe(true);
    expect(b.stats().routable).toBe(20);
    const c = counts(b, 20_000);
    expect(Math.abs(share(c, (a) => a.startsWith('10.0.1.'), 20_000) - 0.5)).toBeLessThan(0.015);
  });

  it('cluster settings from the resolver (xDS) override panicThreshold and overprovisioningFactor', async () => {
    let listener: { onUpdate(u: object): void } | undefined;
    const b = new Balancer({
      resolver: { start: (l) => (listener = l), refresh() {}, close() {} },
      policy: 'random',
      random: seededRandom(6),
    });
    const endpoints = [
      ...p0.map((e, i) => ({ ...e, health: i < 6 ? ('unhealthy' as const) : ('healthy' as const) })),
    ];
    listener!.onUpdate({ endpoints });
    expect(b.panic).toBe(true);
    listener!.onUpdate({ endpoints, cluster: { panicThreshold: 30 } });
    expect(b.panic).toBe(false);
    const errors: Error[] = [];
    b.on('resolver-error', (e) => errors.push(e));
    listener!.onUpdate({ endpoints: [], cluster: { overprovisioningFactor: 0 } });
    expect(errors[0]!.message).toBe(
      'resolver.cluster.overprovisioningFactor: expected a number from 1 to 100, got 0',
    );
    expect(b.stats().endpoints).toHaveLength(10);
    await b.close();
  });
});

describe('localities', () => {
  const zone = (z: string, n: number, base: number, extra: object = {}) =>
    Array.from({ length: n }, (_, i) => ({
      host: '10.0.0.1',
      port: base + i,
      locality: { zone: z },
      ...extra,
    }));

  it('localZone: all traffic stays in the caller zone while it has capacity', () => {
    const b = new Balancer({
      endpoints: [...zone('a', 3, 1000), ...zone('b', 3, 2000)],
      policy: 'random',
      localZone: 'a',
      random: seededRandom(8),
    });
    const c = counts(b, 5_000);
    expect(share(c, (a) => a.includes(':1'), 5_000)).toBe(1);
  });

  it('localZone: 2 of 3 healthy keeps 1.4 × 2/3 = 93.3 %, the rest spills to other zones', () => {
    const local = zone('a', 3, 1000).map((e, i) => ({
      ...e,
      health: i === 0 ? ('unhealthy' as const) : ('unknown' as const),
    }));
    const b = new Balancer({
      endpoints: [...local, ...zone('b', 3, 2000)],
      policy: 'random',
      localZone: 'a',
      random: seededRandom(9),
    });
    const c = counts(b, 20_000);
    expect(Math.abs(share(c, (a) => a.includes(':1'), 20_000) - 0.9333)).toBeLessThan(0.015);
  });

  it('localZone does not apply below zoneAwareMinClusterSize (default 6)', () => {
    const b = new Balancer({
      endpoints: [...zone('a', 2, 1000), ...zone('b', 3, 2000)],
      policy: 'round_robin',
      localZone: 'a',
      random: seededRandom(10),
    });
    const c = counts(b, 5_000);
    expect(share(c, (a) => a.includes(':1'), 5_000)).toBeCloseTo(0.4, 5);
    const small = new Balancer({
      endpoints: [...zone('a', 2, 1000), ...zone('b', 3, 2000)],
      policy: 'round_robin',
      localZone: 'a',
      zoneAwareMinClusterSize: 5,
      random: seededRandom(10),
    });
    expect(share(counts(small, 1_000), (a) => a.includes(':1'), 1_000)).toBe(1);
  });

  it('locality weights (metadata localityWeight) divide traffic 1:3, scaled by availability', () => {
    const a = zone('a', 4, 1000, { metadata: { localityWeight: '1' } });
    const bz = zone('b', 4, 2000, { metadata: { localityWeight: '3' } });
    const b = new Balancer({ endpoints: [...a, ...bz], policy: 'round_robin', random: seededRandom(11) });
    expect(Math.abs(share(counts(b, 20_000), (x) => x.includes(':1'), 20_000) - 0.25)).toBeLessThan(0.015);
    // Zone b loses 2 of 4: availability min(1, 1.4 × 2/4) = 0.7 → weights 1 : 2.1.
    const degraded = bz.map((e, i) => ({
      ...e,
      health: i < 2 ? ('unhealthy' as const) : ('unknown' as const),
    }));
    const b2 = new Balancer({
      endpoints: [...a, ...degraded],
      policy: 'round_robin',
      random: seededRandom(12),
    });
    expect(Math.abs(share(counts(b2, 20_000), (x) => x.includes(':1'), 20_000) - 1 / 3.1)).toBeLessThan(
      0.015,
    );
  });

  it('a hash key chooses the group deterministically', () => {
    const local = zone('a', 3, 1000).map((e, i) => ({
      ...e,
      health: i === 0 ? ('unhealthy' as const) : ('unknown' as const),
    }));
    const b = new Balancer({
      endpoints: [...local, ...zone('b', 3, 2000)],
      policy: 'round_robin',
      localZone: 'a',
      random: seededRandom(13),
    });
    const first = b.pick({ hashKey: 'user-42' })!;
    first.release();
    const zoneOf = (address: string) => (address.includes(':1') ? 'a' : 'b');
    for (let i = 0; i < 20; i++) {
      const lease = b.pick({ hashKey: 'user-42' })!;
      expect(zoneOf(lease.endpoint.address)).toBe(zoneOf(first.endpoint.address));
      lease.release();
    }
  });
});

describe('clock-free: no timers are created by routing alone', () => {
  it('a Balancer without health options schedules nothing', () => {
    const clock = new ManualClock();
    new Balancer({ endpoints: ['10.0.0.1:80'], clock });
    expect(clock.pendingTimers).toBe(0);
  });
});
