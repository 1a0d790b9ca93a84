/**
 * `ring_hash`: ketama-style consistent hashing (Karger et al. 1997; libketama) with virtual nodes, weighted, as in
 * Envoy's and gRPC's `ring_hash` (gRFC A42).
 *
 * Every endpoint places points on a 32-bit ring, in proportion to its weight; a key goes to the first point at or
 * after its hash (binary search within a bucket of a
 * prefix index: O(log ring size) at worst, about one comparison on average), wrapping around. When an endpoint leaves, exactly the keys on
 * its points move (to the next point's owner) and nothing else does — the least disruption any scheme can offer,
 * which is why ring hash suits caches where every moved key is a miss (exactly so while the other endpoints keep
 * their point counts; see {@link ringPointCounts}). The price is balance: an endpoint with k
 * points owns a share that deviates by about 1/√k from its weight, so a good spread needs large rings (≈ 1300
 * points per endpoint for max/mean ≤ 1.1 at 100 endpoints) and builds cost O(R log R).
 *
 * Ring size (Envoy): the lightest endpoint gets at least ⌈its normalised weight × minRingSize⌉ points and the ring
 * is scaled accordingly, up to maxRingSize points in total (see {@link ringPointCounts}). Defaults 1024 and
 * 8,388,608 (Envoy; gRPC caps at 4096 by default). With the default minimum and many endpoints each gets few
 * points: raise `minRingSize` to about 2500 × the endpoint count when balance matters (docs/consistent-hashing.md).
 *
 * Points: point k of an endpoint sits at XXH32 over (k, h₁(address)) seeded with h₀(address) — Envoy hashes the
 * string `address_k` instead; deriving from two 32-bit address hashes gives the same independence without building
 * a string per point.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import { join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { xxh32Pair, xxh32String } from '../hash/xxh32.js';
import { type LoadBound, walkAccepting, walkToRoom } from './bounded-load.js';
import type { Xorshift32 } from './fast-random.js';
import { hashPolicy, randomHash, readBalanceFactor } from './hash-endpoints.js';
import type { PickContext, Picker, Policy, PolicyDefinition } from './picker.js';

export const RING_HASH = 'ring_hash';

/** Largest allowed ring (Envoy's bound on `maximum_ring_size`). */
export const MAX_RING_SIZE = 8_388_608;

export interface RingHashOptions {
  /**
   * Fewest points on the ring; the lightest endpoint gets at least its weight's share of these. Integer from 1
   * to 8,388,608. Default 1024 (Envoy `minimum_ring_size`, gRPC A42). Larger rings balance better and build slower.
   */
  readonly minRingSize: number;
  /** Most points on the ring. Integer from 1 to 8,388,608, >= minRingSize. Default 8,388,608 (Envoy). */
  readonly maxRingSize: number;
  /**
   * Bounded load (Envoy `hash_balance_factor` / 100): an endpoint holding more than ⌈c × its weighted share of the
   * in-flight requests⌉ passes the key on to the next endpoint along the ring. A number >= 1, e.g. 1.25.
   * Default `undefined`: off (Envoy default).
   */
  readonly balanceFactor: number | undefined;
}

export const defaultRingHashOptions: RingHashOptions = {
  minRingSize: 1024,
  maxRingSize: MAX_RING_SIZE,
  balanceFactor: undefined,
};

/** A built ring: point positions in ascending order and, for each point, the index of its endpoint. */
export interface Ring {
  readonly positions: Uint32Array;
  readonly owners: Int32Array;
  /**
   * Search accelerator: `starts[b]` is the first point at or after position `b << shift` (and `starts[B]` the
   * point count). A lookup binary-searches only its bucket — about one point — instead of the whole ring.
   */
  readonly starts: Int32Array;
  readonly shift: number;
}

/** At most 2²⁰ buckets (4 MiB): beyond that a bucket holds a few points and the search stays short anyway. */
const MAX_BUCKET_BITS = 20;

const SECOND_ID_SEED = 0x5bd1e995;

/**
 * Points per endpoint, in endpoint order (Envoy's sizing): the ring is scaled so that the lightest endpoint gets
 * ⌈its normalised weight × minRingSize⌉ points, capped at `maxRingSize` points in total; every endpoint gets
 * `round(scale × its normalised weight)` points, at least 1. Each count depends only on the endpoint's own weight
 * and the scale, never on list order.
 *
 * The scale follows the set: 100 equal endpoints with minRingSize 131072 get 1311 points each, 99 get 1324. So a
 * removal also adds points to the survivors and moves some keys between them — about the removed share again
 * (we measured 1.9 % moved instead of 1 %). With small rings the rounding hides it (minRingSize 1024: 11 points
 * each at both 99 and 100 endpoints). We keep Envoy's rule: the alternatives we tried (rounding the rate to a
 * power of two) move half the keys whenever the set crosses a power of two — a rare but much worse miss storm.
 */
export function ringPointCounts(
  weights: ArrayLike<number>,
  minRingSize: number,
  maxRingSize: number,
): number[] {
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  let minWeight = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) minWeight = Math.min(minWeight, weights[i]! / total);
  const scale = Math.min(Math.ceil(minWeight * minRingSize) / minWeight, maxRingSize);
  const counts: number[] = [];
  for (let i = 0; i < n; i++) counts.push(Math.max(1, Math.round((scale * weights[i]!) / total)));
  return counts;
}

/**
 * Sorts points by position with an LSD radix sort (11 + 11 + 10 bits): O(R), ~10× faster than a typed-array sort
 * at 131,072 points. Stable, so ties (two points at one position) keep endpoint order — the lower address wins,
 * deterministically on every client. Consumes its inputs (they become scratch space).
 */
function sortPoints(
  positions: Uint32Array,
  owners: Int32Array,
): { positions: Uint32Array; owners: Int32Array } {
  const size = positions.length;
  let from: Uint32Array = positions;
  let fromOwners: Int32Array = owners;
  let to: Uint32Array = new Uint32Array(size);
  let toOwners: Int32Array = new Int32Array(size);
  for (let pass = 0; pass < 3; pass++) {
    const shift = pass * 11;
    const mask = pass === 2 ? 0x3ff : 0x7ff;
    const next = new Int32Array(mask + 2);
    for (let j = 0; j < size; j++) next[((from[j]! >>> shift) & mask) + 1]!++;
    for (let d = 1; d <= mask + 1; d++) next[d]! += next[d - 1]!;
    for (let j = 0; j < size; j++) {
      const at = next[(from[j]! >>> shift) & mask]!++;
      to[at] = from[j]!;
      toOwners[at] = fromOwners[j]!;
    }
    const spare = from;
    const spareOwners = fromOwners;
    from = to;
    fromOwners = toOwners;
    to = spare;
    toOwners = spareOwners;
  }
  return { positions: from, owners: fromOwners };
}

/** Builds the ring for endpoints named `addresses` with `weights`. */
export function buildRing(
  addresses: readonly string[],
  weights: ArrayLike<number>,
  minRingSize: number,
  maxRingSize: number,
): Ring {
  const counts = ringPointCounts(weights, minRingSize, maxRingSize);
  let size = 0;
  for (const count of counts) size += count;
  const unsortedPositions = new Uint32Array(size);
  const unsortedOwners = new Int32Array(size);
  let p = 0;
  for (let i = 0; i < addresses.length; i++) {
    const idA = xxh32String(addresses[i]!);
    const idB = xxh32String(addresses[i]!, SECOND_ID_SEED);
    for (let k = 0; k < counts[i]!; k++) {
      unsortedPositions[p] = xxh32Pair(k, idB, idA);
      unsortedOwners[p++] = i;
    }
  }
  const { positions, owners } = sortPoints(unsortedPositions, unsortedOwners);
  const bits = Math.min(MAX_BUCKET_BITS, Math.max(1, Math.ceil(Math.log2(size))));
  const shift = 32 - bits;
  const buckets = 2 ** bits;
  const starts = new Int32Array(buckets + 1);
  let j = 0;
  const bucketWidth = 2 ** shift;
  for (let b = 0; b < buckets; b++) {
    const bucketStart = b * bucketWidth;
    while (j < size && positions[j]! < bucketStart) j++;
    starts[b] = j;
  }
  starts[buckets] = size;
  return { positions, owners, starts, shift };
}

/**
 * Index of the first point at or after `hash`, wrapping to 0 past the last one: a binary search within the hash's
 * bucket — O(log n) at worst, about one comparison on average.
 */
export function ringIndex(ring: Ring, hash: number): number {
  const positions = ring.positions;
  const bucket = hash >>> ring.shift;
  let lo = ring.starts[bucket]!;
  // Every point before `hi` is below the next bucket; if none in the bucket is >= hash, the answer is `hi`.
  let hi = ring.starts[bucket + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo === positions.length ? 0 : lo;
}

class RingHashPicker implements Picker {
  protected readonly owners: Int32Array;
  constructor(
    readonly endpoints: readonly EndpointState[],
    /** The ring (shared with later pickers over the same set). */
    readonly ring: Ring,
    protected readonly rng: Xorshift32,
  ) {
    this.owners = ring.owners;
  }

  protected pointFor(ctx: PickContext): number {
    const key = ctx.hashKey;
    const hash = key === undefined ? randomHash(this.rng) : xxh32String(key);
    return ringIndex(this.ring, hash);
  }

  pick(ctx: PickContext): EndpointState | undefined {
    return this.endpoints[this.owners[this.pointFor(ctx)]!];
  }

  /** The key's second choices: the next points clockwise, i.e. where the key goes if its endpoint leaves the ring. */
  pickNext(
    ctx: PickContext,
    _now: number,
    accept: (state: EndpointState) => boolean,
  ): EndpointState | undefined {
    return walkAccepting(this.owners, this.pointFor(ctx), this.endpoints, accept);
  }
}

/** Ring hash with bounded load: a full endpoint passes the key on, along the ring. */
class BoundedRingHashPicker extends RingHashPicker {
  readonly #bound: LoadBound;
  constructor(endpoints: readonly EndpointState[], ring: Ring, rng: Xorshift32, bound: LoadBound) {
    super(endpoints, ring, rng);
    this.#bound = bound;
  }

  override pick(ctx: PickContext): EndpointState | undefined {
    const point = this.pointFor(ctx);
    const i = this.owners[point]!;
    const state = this.endpoints[i]!;
    if (this.#bound.hasRoom(state, i)) return state;
    return walkToRoom(this.owners, point, this.endpoints, this.#bound, state);
  }
}

export const ringHash: PolicyDefinition<RingHashOptions> = {
  name: RING_HASH,
  description:
    'Ketama ring hash on ctx.hashKey (binary search, weighted, optional bounded load); random without a key.',
  parse(raw, path) {
    const obj = readObject(raw, path, ['minRingSize', 'maxRingSize', 'balanceFactor']);
    const range = { integer: true, min: 1, max: MAX_RING_SIZE } as const;
    const minRingSize = readNumber(obj, 'minRingSize', path, range, defaultRingHashOptions.minRingSize);
    const maxRingSize = readNumber(obj, 'maxRingSize', path, range, defaultRingHashOptions.maxRingSize);
    if (maxRingSize < minRingSize) {
      throw new ConfigError({
        field: join(path, 'maxRingSize'),
        allowed: `an integer from minRingSize (${minRingSize}) to ${MAX_RING_SIZE}`,
        received: maxRingSize,
      });
    }
    return { minRingSize, maxRingSize, balanceFactor: readBalanceFactor(obj, path) };
  },
  create(options, env): Policy {
    return hashPolicy(
      RING_HASH,
      env,
      options.balanceFactor,
      (set) => buildRing(set.addresses, set.weights, options.minRingSize, options.maxRingSize),
      (endpoints, ring, rng, bound) =>
        bound === undefined
          ? new RingHashPicker(endpoints, ring, rng)
          : new BoundedRingHashPicker(endpoints, ring, rng, bound),
    );
  },
};
