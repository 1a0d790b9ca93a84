import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import xxhashWasm from 'xxhash-wasm';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import {
  buildRing,
  defaultRingHashOptions,
  type Ring,
  ringEntryCounts,
  ringHash,
  ringIndex,
} from '../../src/pickers/ring-hash.js';
import { checkProperty } from '../helpers/properties.js';
import { address, makeKeys, makePolicy, makeStates, range, route, tally } from './ring-hash-fixtures.js';

const SIZES = { minRingSize: 1024, maxRingSize: 8_388_608, ringSizeCap: 4096 };
const entryHash = (ring: Ring, j: number) => (BigInt(ring.high[j]!) << 32n) | BigInt(ring.low[j]!);

/**
 * grpc-js-xds 1.14.1's `constructRing` + `findIndexForHash`, transcribed with BigInt and xxhash-wasm (the
 * independent reference): the address each key goes to.
 */
async function referenceRoute(
  addresses: readonly string[],
  weights: readonly number[],
  keys: readonly string[],
  minRingSize = 1024,
  maxRingSize = 4096,
): Promise<string[]> {
  const { h64 } = await xxhashWasm();
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const normalized = weights.map((w) => w / weightSum);
  const minNormalized = Math.min(1, ...normalized);
  const scale = Math.min(Math.ceil(minNormalized * minRingSize) / minNormalized, maxRingSize);
  const ring: { hash: bigint; address: string }[] = [];
  let current = 0;
  let target = 0;
  addresses.forEach((a, i) => {
    target += scale * normalized[i]!;
    for (let count = 0; current < target; count++, current++)
      ring.push({ hash: h64(`${a}_${count}`, 0n), address: a });
  });
  ring.sort((x, y) => (x.hash > y.hash ? 1 : x.hash < y.hash ? -1 : 0));
  return keys.map((key) => {
    const h = h64(key, 0n);
    const i = ring.findIndex((e) => e.hash >= h);
    return ring[i === -1 ? 0 : i]!.address;
  });
}

describe('ring_hash options', () => {
  it("defaults to A42's ring sizes with gRPC's 4096 cap, bounded load off", () => {
    expect(ringHash.parse({}, 'policy')).toEqual(defaultRingHashOptions);
    expect(defaultRingHashOptions).toEqual({
      minRingSize: 1024,
      maxRingSize: 8_388_608,
      ringSizeCap: 4096,
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
    expect(() => ringHash.parse({ ringSizeCap: 0 }, 'policy')).toThrow('policy.ringSizeCap');
    expect(() => ringHash.parse({ ringSize: 10 }, 'policy')).toThrow(/policy\.ringSize/);
    expect(
      () => new Balancer({ endpoints: ['10.0.0.1:80'], policy: { name: 'ring_hash', minRingSize: -1 } }),
    ).toThrow(ConfigError);
  });
});

describe('ring_hash ring (gRFC A42)', () => {
  it('sizes the ring as gRPC and Envoy do (hashing-compat.md §2), carrying fractions in list order', () => {
    const equal = (n: number) => ringEntryCounts(new Array(n).fill(1), 1024, 4096);
    const sum = (c: number[]) => c.reduce((x, y) => x + y, 0);
    expect(equal(3)).toEqual([342, 342, 342]);
    expect(sum(equal(7))).toBe(1029);
    expect(equal(7)[0]).toBe(147);
    expect(sum(equal(10))).toBe(1030);
    expect([equal(100)[0], sum(equal(100))]).toEqual([11, 1100]);
    expect([equal(1000)[0], sum(equal(1000))]).toEqual([2, 2000]);
    expect(ringEntryCounts([1, 2], 1024, 4096)).toEqual([342, 684]);
    expect(sum(ringEntryCounts([1, 1000], 1024, 4096))).toBe(2002);
    // Envoy's own example: 4 hosts of 0.25 with scale 6 get 2, 1, 2, 1.
    expect(ringEntryCounts([1, 1, 1, 1], 6, 6)).toEqual([2, 1, 2, 1]);
    // The 4096 cap: of 5000 equal endpoints, 4096 get one entry and 904 none (gRPC's documented edge).
    const capped = equal(5000);
    expect([sum(capped), capped.filter((c) => c === 0).length]).toEqual([4096, 904]);
  });

  it('places entry k of an endpoint at XXH64("<address>_<k>", 0), sorted ascending', () => {
    const ring = buildRing(['10.0.0.1:8080', '[::1]:50051'], [1, 1], SIZES);
    const hashes = range(ring.high.length).map((j) => entryHash(ring, j));
    expect(hashes).toContain(0x23a29ae775dfd4a3n); // 10.0.0.1:8080_0
    expect(hashes).toContain(0xe6acd2238f8f5a9cn); // 10.0.0.1:8080_1
    expect(hashes).toContain(0x1d53eb4cd5d9421an); // [::1]:50051_0
    expect(hashes.length).toBe(1024);
    for (let j = 1; j < hashes.length; j++) expect(hashes[j]! > hashes[j - 1]!).toBe(true);
  });

  it('finds the first entry ≥ the 64-bit hash (linear scan as the oracle), wrapping past the last', () => {
    checkProperty(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), { minLength: 1, maxLength: 40 }),
        (n, size, queries) => {
          const ring = buildRing(range(n).map(address), new Array(n).fill(1), {
            minRingSize: size,
            maxRingSize: size,
            ringSizeCap: size,
          });
          const hashes = range(ring.high.length).map((j) => entryHash(ring, j));
          const probes = [...queries, 0n, 0xffff_ffff_ffff_ffffn, ...hashes, ...hashes.map((h) => h + 1n)];
          for (const q of probes) {
            const linear = hashes.findIndex((h) => h >= q);
            const got = ringIndex(ring, Number((q >> 32n) & 0xffffffffn), Number(q & 0xffffffffn));
            expect(got).toBe(linear === -1 ? 0 : linear);
          }
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('maps keys exactly as a BigInt transcription of grpc-js-xds, for equal and uneven weights', async () => {
    const keys = makeKeys(3000, 11);
    for (const weights of [
      [1, 1, 1, 1, 1, 1, 1],
      [1, 2, 3, 4, 5, 6, 7],
      [3, 1, 1000, 2, 7, 1, 1],
    ]) {
      const addrs = range(weights.length).map(address);
      const picker = makePolicy(ringHash).policy.build(makeStates(range(weights.length), weights));
      expect(route(picker, keys)).toEqual(await referenceRoute(addrs, weights, keys));
    }
  });

  it('follows the list order (as gRPC does): the same (address, weight) pairs in another order are another ring', async () => {
    // Weights 2, 3, 5, 3, 7: scale 103 / 0.1 = 1030, so the odd weights carry half an entry to the next endpoint.
    const keys = makeKeys(2000, 12);
    const weightOf = [2, 3, 5, 3, 7];
    const build = (order: number[]) =>
      makePolicy(ringHash).policy.build(
        makeStates(
          order,
          order.map((i) => weightOf[i]!),
        ),
      );
    const order = [4, 0, 3, 1, 2];
    const picked = route(build(order), keys);
    expect(picked).toEqual(
      await referenceRoute(
        order.map(address),
        order.map((i) => weightOf[i]!),
        keys,
      ),
    );
    // In address order the half entries land elsewhere: some endpoint owns a different number of entries.
    const entriesOf = (order: number[]) => {
      const counts = ringEntryCounts(
        order.map((i) => weightOf[i]!),
        1024,
        4096,
      );
      return new Map(order.map((i, j) => [address(i), counts[j]!]));
    };
    expect(entriesOf(range(5))).not.toEqual(entriesOf(order));
  });

  it('routes keys in proportion to weight (weights 1:2:3:4, 4096-entry minimum, 40k keys, within 15 % of each share)', () => {
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
    // 12 → 11 endpoints rescales each survivor from 342 to 373 entries (A42 sizing): up to that share may move.
    const before = ringEntryCounts(new Array(12).fill(1), 4096, 4096)[0]!;
    const after = ringEntryCounts(new Array(11).fill(1), 4096, 4096)[0]!;
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

  it('builds the ring in the order of the latest endpoint list (the order gRPC sees), not first-seen order', async () => {
    const keys = makeKeys(1500, 13);
    const endpoints = [2, 3, 5, 3, 7].map((weight, i) => ({ host: '127.0.0.1', port: 9300 + i, weight }));
    const balancer = new Balancer({ endpoints, policy: 'ring_hash' });
    const reordered = [endpoints[2]!, endpoints[0]!, endpoints[4]!, endpoints[3]!, endpoints[1]!];
    balancer.setEndpoints(reordered);
    const picked = keys.map((hashKey) => {
      const lease = balancer.pick({ hashKey })!;
      lease.release();
      return lease.endpoint.address;
    });
    const expected = await referenceRoute(
      reordered.map((e) => `127.0.0.1:${e.port}`),
      reordered.map((e) => e.weight),
      keys,
    );
    expect(picked).toEqual(expected);
  });
});
