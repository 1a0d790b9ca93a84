/**
 * The incremental `multiprobe` ring (src/pickers/probe-ring.ts): whatever sequence of endpoint sets it is given, each
 * ring equals a fresh build of the same set — same points, same owners, same tie order, same bucket index.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildProbeRing,
  MAX_PROBE_POINTS,
  type ProbeRing,
  ProbeRingBuilder,
} from '../../src/pickers/probe-ring.js';
import { checkProperty } from '../helpers/properties.js';
import { address, range } from './ring-hash-fixtures.js';

/** A set in canonical order (ascending address), as the policy receives it. */
function canonical(weights: ReadonlyMap<number, number>): { addresses: string[]; weights: Float64Array } {
  const entries = [...weights].map(([id, w]) => [address(id), w] as const);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { addresses: entries.map((e) => e[0]), weights: Float64Array.from(entries, (e) => e[1]) };
}

function expectSameRing(actual: ProbeRing, expected: ProbeRing): void {
  expect(actual.shift).toBe(expected.shift);
  // Typed-array equality through Buffer: toEqual on 10⁵-element typed arrays is slow.
  expect(Buffer.from(actual.positions.buffer).equals(Buffer.from(expected.positions.buffer))).toBe(true);
  expect(Buffer.from(actual.owners.buffer).equals(Buffer.from(expected.owners.buffer))).toBe(true);
  expect(Buffer.from(actual.starts.buffer).equals(Buffer.from(expected.starts.buffer))).toBe(true);
}

const weight = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.double({ min: 0.01, max: 4, noNaN: true }));
const id = fc.integer({ min: 0, max: 400 });
const change = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), id, weight }), // add, or change the weight of a present one
  fc.record({ kind: fc.constant('remove' as const), id }),
  fc.record({ kind: fc.constant('removeSome' as const), count: fc.integer({ min: 1, max: 20 }) }),
);

describe('ProbeRingBuilder', () => {
  it('gives the ring a fresh build gives, after any sequence of adds, removes and weight changes', () => {
    checkProperty(
      fc.property(
        fc.constantFrom(1, 3, 16),
        fc.array(fc.tuple(id, weight), { maxLength: 60 }),
        fc.array(fc.array(change, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        (pointsPerWeight, initial, updates) => {
          const current = new Map(initial);
          const builder = new ProbeRingBuilder(pointsPerWeight);
          const first = canonical(current);
          expectSameRing(
            builder.build(first.addresses, first.weights),
            buildProbeRing(first.addresses, first.weights, pointsPerWeight),
          );
          for (const update of updates) {
            for (const c of update) {
              if (c.kind === 'set') current.set(c.id, c.weight);
              else if (c.kind === 'remove') current.delete(c.id);
              else for (const key of [...current.keys()].slice(0, c.count)) current.delete(key);
            }
            const set = canonical(current);
            expectSameRing(
              builder.build(set.addresses, set.weights),
              buildProbeRing(set.addresses, set.weights, pointsPerWeight),
            );
          }
        },
      ),
      { seed: 1717, numRuns: 100 },
    );
  });

  it('orders equal positions of a kept and an added endpoint by endpoint index, as a full build does', () => {
    // 10,000 endpoints × 64 points: ~48 pairs of equal positions expected (birthday bound), found, not assumed.
    const all = canonical(new Map(range(10_000).map((i) => [i, 4])));
    const full = buildProbeRing(all.addresses, all.weights, 16);
    // Drop one endpoint of each tied pair, alternately the lower and the higher index, then add them back: each tie
    // is then between a kept and an added point, on both sides of the index comparison.
    const dropped = new Set<number>();
    for (let p = 1; p < full.positions.length; p++) {
      if (full.positions[p] === full.positions[p - 1] && full.owners[p] !== full.owners[p - 1]) {
        const [lower, higher] = [full.owners[p - 1]!, full.owners[p]!].sort((x, y) => x - y);
        // A pair may share several points: decide once per pair, and never drop both.
        if (!dropped.has(lower!) && !dropped.has(higher!))
          dropped.add(dropped.size % 2 === 0 ? lower! : higher!);
      }
    }
    expect(dropped.size).toBeGreaterThan(1);
    const without = {
      addresses: all.addresses.filter((_, i) => !dropped.has(i)),
      weights: all.weights.filter((_, i) => !dropped.has(i)),
    };
    const builder = new ProbeRingBuilder(16);
    builder.build(without.addresses, without.weights);
    expectSameRing(builder.build(all.addresses, all.weights), full);
    expectSameRing(
      builder.build(without.addresses, without.weights),
      buildProbeRing(without.addresses, without.weights, 16),
    );
  });

  it('rebuilds from scratch when the point cap halves pointsPerWeight, and for lists not in canonical order', () => {
    const small = canonical(new Map(range(50).map((i) => [i, 1 + (i % 3)])));
    // One endpoint of weight 150,000 puts 2.4M points over the 2²¹ cap: every endpoint is rescaled.
    const capped = canonical(new Map(range(50).map((i) => [i, i === 7 ? 150_000 : 1 + (i % 3)])));
    const builder = new ProbeRingBuilder(16);
    builder.build(small.addresses, small.weights);
    const big = builder.build(capped.addresses, capped.weights);
    expect(big.positions.length).toBeLessThanOrEqual(MAX_PROBE_POINTS);
    expectSameRing(big, buildProbeRing(capped.addresses, capped.weights, 16));
    expectSameRing(
      builder.build(small.addresses, small.weights),
      buildProbeRing(small.addresses, small.weights, 16),
    );
    // Reversed and duplicated addresses: the merge needs strictly ascending ones, so these take the full build.
    for (const addresses of [[...small.addresses].reverse(), [...small.addresses, small.addresses[0]!]]) {
      const weights = Float64Array.from(addresses, () => 2);
      expectSameRing(builder.build(addresses, weights), buildProbeRing(addresses, weights, 16));
      expectSameRing(
        builder.build(small.addresses, small.weights),
        buildProbeRing(small.addresses, small.weights, 16),
      );
    }
  });
});
