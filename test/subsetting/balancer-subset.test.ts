import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import type { EndpointInput } from '../../src/endpoint.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { seededRandom } from '../../src/random.js';
import { apertureWindow, serverRing } from '../../src/subsetting/index.js';

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.2.0.${i + 1}:80`);

function balancer(endpoints: readonly EndpointInput[], subset: unknown, extra: Record<string, unknown> = {}) {
  return new Balancer({
    endpoints,
    random: seededRandom(19),
    clock: new ManualClock(),
    subset: subset as never,
    ...extra,
  });
}

function splitAddress(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host: host!, port: Number(port) };
}

/** Picks `n` times (releasing at once) and counts picks per address. */
function countPicks(b: Balancer, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const lease = b.pick();
    if (lease === undefined) throw new Error('nothing routable');
    counts.set(lease.endpoint.address, (counts.get(lease.endpoint.address) ?? 0) + 1);
    lease.release();
  }
  return counts;
}

describe('subset options', () => {
  it.each([
    [{ kind: 'nope' }, 'subset.kind'],
    [{ kind: 'aperture', minAperture: 0 }, 'subset.minAperture'],
    [{ kind: 'aperture', minAperture: 2.5 }, 'subset.minAperture'],
    [{ kind: 'aperture', minAperture: 6, maxAperture: 5 }, 'subset.maxAperture'],
    [{ kind: 'aperture', peerRing: 'odd' }, 'subset.peerRing'],
    [{ kind: 'aperture', seed: -1 }, 'subset.seed'],
    [{ kind: 'aperture', coordinate: { index: 3, count: 3 } }, 'subset.coordinate.index'],
    [{ kind: 'aperture', coordinate: { index: 0, count: 0 } }, 'subset.coordinate.count'],
    [{ kind: 'aperture', coordinate: () => ({ index: -1, count: 2 }) }, 'subset.coordinate.index'],
    [{ kind: 'aperture', coordinate: { index: 0, count: 2, zone: 'a' } }, 'subset.coordinate.zone'],
    [{ kind: 'aperture', size: 3 }, 'subset.size'],
  ])('rejects %j naming %s', (subset, field) => {
    expect(() => balancer(addresses(3), subset)).toThrow(ConfigError);
    try {
      balancer(addresses(3), subset);
    } catch (error) {
      expect((error as ConfigError).field).toBe(field);
    }
  });
});

describe('deterministic aperture in the Balancer', () => {
  const list = addresses(20);
  const coordinate = { index: 1, count: 8 };
  // 8 clients, 20 servers, a = 4, even ring: width ceil(4·8/20)/8 = 2/8, offset 1/8 → window [2.5, 7.5) in arcs.
  const subset = { kind: 'aperture', coordinate, minAperture: 4, peerRing: 'even' } as const;

  it('routes only to the window of its coordinate, with half a share to each half-covered edge', () => {
    const b = balancer(list, subset, { policy: 'random' });
    const expected = apertureWindow(serverRing(list, 0), coordinate, 4, 'even').members;
    expect(expected.map((m) => m.overlap)).toEqual([0.5, 1, 1, 1, 1, 0.5]);
    expect(b.subset?.members).toEqual(expected.map((m) => m.address));
    expect(b.stats().routable).toBe(6);
    const counts = countPicks(b, 20_000);
    expect([...counts.keys()].sort()).toEqual(expected.map((m) => m.address).sort());
    // Full members get 1/5 of the picks, edges 1/10 (20 000 picks: ±4 % of 4 000 is > 4 sd).
    for (const m of expected) expect(counts.get(m.address)! / 20_000).toBeCloseTo(m.overlap / 5, 1);
  });

  it('widens past the window end around unhealthy members instead of panicking', () => {
    const ring = serverRing(list, 0);
    const { members, rest } = apertureWindow(ring, coordinate, 4, 'even');
    const sick = new Set(members.slice(0, 4).map((m) => m.address));
    const endpoints = list.map((address) => {
      const [host, port] = address.split(':');
      return {
        host: host!,
        port: Number(port),
        health: sick.has(address) ? 'unhealthy' : 'healthy',
      } as const;
    });
    const b = balancer(endpoints, subset);
    // 6 members (two half edges), 4 unhealthy: 2 more along the ring make minAperture = 4 healthy.
    expect(b.subset?.widened).toBe(2);
    expect(b.subset?.members.slice(6)).toEqual(rest.slice(0, 2));
    expect(b.panic).toBe(false);
    const picked = countPicks(b, 2_000);
    for (const address of picked.keys()) expect(sick.has(address)).toBe(false);
  });

  it('panics over its own subset when maxAperture stops the widening', () => {
    const ring = serverRing(list, 0);
    const { members } = apertureWindow(ring, coordinate, 4, 'even');
    const sick = new Set(members.slice(0, 4).map((m) => m.address));
    const endpoints = list.map((address) => {
      const [host, port] = address.split(':');
      return {
        host: host!,
        port: Number(port),
        health: sick.has(address) ? 'unhealthy' : 'healthy',
      } as const;
    });
    const b = balancer(endpoints, { ...subset, maxAperture: 6 });
    expect(b.subset?.widened).toBe(0);
    // 2 of 6 healthy (33 % < 50 %): panic, and the panic routes over the subset, not the whole fleet.
    expect(b.panic).toBe(true);
    const picked = countPicks(b, 2_000);
    for (const address of picked.keys()) expect(b.subset?.members).toContain(address);
    expect(picked.size).toBe(6);
  });

  it('rebuilds on setCoordinate and re-reads a coordinate function at every rebuild', () => {
    let current = { index: 0, count: 8 };
    const b = balancer(list, { ...subset, coordinate: () => current });
    const first = [...b.subset!.members];
    current = { index: 4, count: 8 };
    b.setEndpoints(list); // any rebuild
    const second = [...b.subset!.members];
    expect(second).not.toEqual(first);
    expect(second).toEqual(
      apertureWindow(serverRing(list, 0), current, 4, 'even').members.map((m) => m.address),
    );
    b.subset!.setCoordinate({ index: 0, count: 8 });
    expect(b.subset!.members).toEqual(first);
    expect(() => b.subset!.setCoordinate({ index: 9, count: 8 })).toThrow(ConfigError);
    expect(b.subset!.members).toEqual(first);
  });

  it('keeps the last good coordinate when the function later answers nonsense', () => {
    let current: unknown = { index: 2, count: 8 };
    const b = balancer(list, { ...subset, coordinate: () => current });
    const before = [...b.subset!.members];
    current = { index: 8, count: 8 };
    b.setEndpoints(list);
    expect(b.subset!.coordinate).toEqual({ index: 2, count: 8 });
    expect(b.subset!.members).toEqual(before);
  });

  it('follows endpoint updates: a removed member is replaced by the ring, the ring fingerprint changes', () => {
    const b = balancer(list, subset);
    const hash = b.subset!.ringHash;
    const gone = b.subset!.members[2]!;
    b.setEndpoints(list.filter((a) => a !== gone));
    expect(b.subset!.members).not.toContain(gone);
    expect(b.subset!.ringHash).not.toBe(hash);
    // Another client with the same list in another order computes the same fingerprint.
    const other = balancer([...list].reverse(), { ...subset, coordinate: { index: 5, count: 8 } });
    expect(other.subset!.ringHash).toBe(hash);
  });

  it('restores endpoint weights when slow start is off and the subset moves away', () => {
    const b = balancer(list, subset);
    const edge = b.subset!.members[0]!;
    const weightOf = (address: string) =>
      b.stats().endpoints.find((e) => e.address === address)!.effectiveWeight;
    expect(weightOf(edge)).toBeCloseTo(0.5, 9);
    b.subset!.setCoordinate({ index: 5, count: 8 });
    if (!b.subset!.members.includes(edge)) expect(weightOf(edge)).toBe(1);
    b.subset!.setCoordinate({ index: 1, count: 8 });
    expect(weightOf(edge)).toBeCloseTo(0.5, 9); // not compounded: 0.5, not 0.25
  });
});

describe('minZones', () => {
  it('adds the first healthy endpoint of a missing zone along the ring', () => {
    const list = addresses(20);
    const zoneB = new Set(list.slice(18));
    const endpoints = list.map((address) => ({
      ...splitAddress(address),
      locality: { zone: zoneB.has(address) ? 'b' : 'a' },
    }));
    const ring = serverRing(list, 0);
    // A coordinate whose window holds no zone-b endpoint.
    const coordinate = [0, 1, 2, 3, 4, 5, 6, 7]
      .map((index) => ({ index, count: 8 }))
      .find((c) => apertureWindow(ring, c, 4, 'even').members.every((m) => !zoneB.has(m.address)))!;
    const { members, rest } = apertureWindow(ring, coordinate, 4, 'even');
    const subset = { kind: 'aperture', coordinate, minAperture: 4, peerRing: 'even' };
    expect(balancer(endpoints, subset).subset!.members).toEqual(members.map((m) => m.address));
    const b = balancer(endpoints, { ...subset, minZones: 2 });
    const firstB = rest.find((a) => zoneB.has(a))!;
    expect(b.subset!.members).toEqual([...members.map((m) => m.address), firstB]);
    // More zones asked for than exist: capped at the zones there are.
    expect(balancer(endpoints, { ...subset, minZones: 5 }).subset!.members).toHaveLength(members.length + 1);
    expect(() => balancer(endpoints, { ...subset, minZones: 0 })).toThrow(/subset\.minZones/);
  });
});

describe('random subsetting (no coordinate)', () => {
  it('routes to minAperture endpoints chosen by its own seed, and widens the same way', () => {
    const list = addresses(30);
    const b = balancer(list, { kind: 'aperture', minAperture: 5 }, { policy: 'random' });
    expect(b.subset!.coordinate).toBeUndefined();
    expect(b.subset!.members).toHaveLength(5);
    expect(new Set(countPicks(b, 1_000).keys())).toEqual(new Set(b.subset!.members));
    const again = balancer(list, { kind: 'aperture', minAperture: 5 });
    expect(again.subset!.members).toEqual(b.subset!.members); // same seeded random → same subset
    const sick = b.subset!.members[1]!;
    const first = [...b.subset!.members];
    b.setEndpoints(list.map((a) => (a === sick ? { ...splitAddress(a), health: 'unhealthy' as const } : a)));
    expect(b.subset!.members.slice(0, 5)).toEqual(first);
    expect(b.subset!.widened).toBe(1);
    expect(countPicks(b, 1_000).has(sick)).toBe(false);
  });
});
