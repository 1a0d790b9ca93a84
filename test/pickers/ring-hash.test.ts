import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import {
  buildRing,
  defaultRingHashOptions,
  ringHash,
  ringIndex,
  ringPointCounts,
} from '../../src/pickers/ring-hash.js';
import { address, makeKeys, makePolicy, makeStates, range, route, tally } from './ring-hash-fixtures.js';

describe('ring_hash options', () => {
  it('defaults to Envoy ring sizes with bounded load off', () => {
    expect(ringHash.parse({}, 'policy')).toEqual(defaultRingHashOptions);
    expect(defaultRingHashOptions).toEqual({
      minRingSize: 1024,
      maxRingSize: 8_388_608,
      balanceFactor: undefined,
    });
  });

  it('rejects ring sizes out of range, min above max, and unknown keys, naming the field', () => {
    expect(() => ringHash.parse({ minRingSize: 0 }, 'policy')).toThrow(
      'policy.minRingSize: expected an integer from 1 to 8388608, got 0',
    );
    expect(() => ringHash.parse({ maxRingSize: 8_388_609 }, 'policy')).toThrow(ConfigError);
    expect(() => ringHash.parse({ minRingSize: 10.5 }, 'policy')).toThrow(ConfigError);
    expect(() => ringHash.parse({ minRingSize: 4096, maxRingSize: 2048 }, 'policy')).toThrow(
      'policy.maxRingSize: expected an integer from minRingSize (4096) to 8388608, got 2048',
    );
    expect(() => ringHash.parse({ balanceFactor: 0 }, 'policy')).toThrow('policy.balanceFactor');
    expect(() => ringHash.parse({ ringSize: 10 }, 'policy')).toThrow(/policy\.ringSize/);
    expect(
      () => new Balancer({ endpoints: ['10.0.0.1:80'], policy: { name: 'ring_hash', minRingSize: -1 } }),
    ).toThrow(ConfigError);
  });
});

describe('ring_hash ring', () => {
  it('sizes the ring like Envoy: the lightest endpoint gets ⌈share × minRingSize⌉ points, total capped', () => {
    expect(ringPointCounts([1, 1, 1], 1024, 8_388_608)).toEqual([342, 342, 342]);
    expect(ringPointCounts([1, 3], 1024, 8_388_608)).toEqual([256, 768]);
    expect(ringPointCounts(new Array(100).fill(1), 1024, 8_388_608)[0]).toBe(11);
    expect(ringPointCounts([1, 1], 1024, 100)).toEqual([50, 50]);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 1, max: 100_000 }),
        (weights, minRingSize) => {
          const counts = ringPointCounts(weights, minRingSize, 8_388_608);
          const total = counts.reduce((x, y) => x + y, 0);
          expect(total).toBeGreaterThanOrEqual(Math.min(minRingSize, 8_388_608) - weights.length);
          expect(counts.every((c) => c >= 1)).toBe(true);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('keeps positions sorted and finds the first point at or after a hash, wrapping past the last', () => {
    const ring = buildRing(range(7).map(address), [1, 2, 1, 1, 3, 1, 1], 2000, 8_388_608);
    for (let j = 1; j < ring.positions.length; j++)
      expect(ring.positions[j]!).toBeGreaterThanOrEqual(ring.positions[j - 1]!);
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (hash) => {
        const j = ringIndex(ring, hash);
        const last = ring.positions[ring.positions.length - 1]!;
        if (hash > last) expect(j).toBe(0);
        else {
          expect(ring.positions[j]!).toBeGreaterThanOrEqual(hash);
          if (j > 0) expect(ring.positions[j - 1]!).toBeLessThan(hash);
        }
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('finds the same point as a linear scan, for rings from 1 point up (bucket edges, wrap-around)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 50 }),
        (n, minRingSize, hashes) => {
          const ring = buildRing(range(n).map(address), new Array(n).fill(1), minRingSize, minRingSize);
          const positions = [...ring.positions];
          for (const hash of [...hashes, 0, 0xffffffff, ...positions, ...positions.map((p) => p + 1)]) {
            const linear = positions.findIndex((p) => p >= hash);
            expect(ringIndex(ring, hash)).toBe(linear === -1 ? 0 : linear);
          }
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('routes keys in proportion to weight (weights 1:2:3:4, 4096-point minimum, 40k keys, within 15 % of each share)', () => {
    const weights = [1, 2, 3, 4];
    const picker = makePolicy(ringHash, { minRingSize: 4096 }).policy.build(makeStates(range(4), weights));
    const counts = tally(route(picker, makeKeys(40_000)));
    for (let i = 0; i < 4; i++) {
      const share = (counts.get(address(i)) ?? 0) / 40_000;
      expect(Math.abs(share - weights[i]! / 10)).toBeLessThan(0.15 * (weights[i]! / 10));
    }
  });
});

describe('ring_hash through the Balancer', () => {
  it('keeps keys on their endpoint; a removal moves the removed keys and at most the rescaled share of others', () => {
    const endpoints = range(12).map((i) => `127.0.0.1:${9200 + i}`);
    const balancer = new Balancer({ endpoints, policy: { name: 'ring_hash', minRingSize: 4096 } });
    const keys = makeKeys(600, 9);
    const home = new Map<string, string>();
    for (const hashKey of keys) {
      const lease = balancer.pick({ hashKey })!;
      home.set(hashKey, lease.endpoint.address);
      lease.release();
    }
    const removed = endpoints[5]!;
    balancer.setEndpoints(endpoints.filter((e) => e !== removed));
    // 12 → 11 endpoints rescales each survivor from 342 to 373 points (Envoy sizing): up to that share may move.
    const before = ringPointCounts(new Array(12).fill(1), 4096, 8_388_608)[0]!;
    const after = ringPointCounts(new Array(11).fill(1), 4096, 8_388_608)[0]!;
    const rescale = (after - before) / after;
    let stayed = 0;
    let others = 0;
    for (const hashKey of keys) {
      const lease = balancer.pick({ hashKey })!;
      expect(lease.endpoint.address).not.toBe(removed);
      if (home.get(hashKey) !== removed) {
        others++;
        if (lease.endpoint.address === home.get(hashKey)) stayed++;
      }
      lease.release();
    }
    expect(stayed / others).toBeGreaterThanOrEqual(1 - rescale - 0.03);
  });
});
