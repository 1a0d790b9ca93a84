/**
 * `multiprobe`: switchyard's own consistent-hashing ring — multi-probe consistent hashing (Appleton and O'Reilly,
 * "Multi-probe consistent hashing", 2015, arXiv:1505.00062) with a few points per unit of weight.
 *
 * Every endpoint places `round(pointsPerWeight × weight)` points (at least 1) on a 32-bit ring; a key is hashed
 * once and probed at `probes` derived positions, and goes to the owner of the point closest *after* any probe
 * (the smallest clockwise distance wins; ties go to the earlier probe).
 *
 * Why this and not a bigger ring: a plain ring's balance comes only from point count (≈ 1300 points per endpoint
 * for max/mean 1.10 at 100 endpoints, i.e. ~8 MB for 1000 endpoints), and A42's sizing rescales every survivor's
 * point count when the set changes, moving extra keys. Taking the best of 21 probes evens out the arcs instead:
 * measured max/mean 1.07 at 100 endpoints with 16 points each (96 bytes per endpoint), and since each endpoint's
 * points depend only on its own address and weight, removing an endpoint moves exactly its own keys — a removed
 * point can only have been a key's winner, never made another probe's distance shorter. Adding one moves keys only
 * to it; changing one weight moves keys only to or from that endpoint. The price is the pick: one key hash plus
 * `probes` short searches (≈ 2–3× a Maglev pick; docs/consistent-hashing.md).
 *
 * Not wire-compatible with anything: use `ring_hash` (gRFC A42) to agree with Envoy/gRPC clients.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { PickContext, Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { readNumber, readObject } from '../config/validate.js';
import { xxh32Pair, xxh32String } from '../hash/xxh32.js';
import { type LoadBound, walkAccepting, walkToRoom } from './bounded-load.js';
import type { Xorshift32 } from './fast-random.js';
import { hashPolicy, randomHash, readBalanceFactor } from './hash-endpoints.js';

export const MULTIPROBE = 'multiprobe';

export interface MultiprobeOptions {
  /**
   * Points per unit of weight: an endpoint of weight w gets max(1, round(pointsPerWeight × w)) points. Integer
   * from 1 to 1024. Default 16: weights resolve to 1/16, and 16 points with 21 probes measured max/mean 1.07 at
   * 100 endpoints (1M keys). Memory is ~6 bytes per point.
   */
  readonly pointsPerWeight: number;
  /**
   * Probes per key. Integer from 1 to 64. Default 21 (the paper's choice for a peak-to-mean ratio of ≈ 1.05).
   * Fewer probes pick faster and balance worse (16: 1.09; 8: 1.14 with 16 points).
   */
  readonly probes: number;
  /**
   * Bounded load: an endpoint holding more than ⌈c × its weighted share of the in-flight requests⌉ passes the key
   * on to the next endpoint along the ring from the winning point. A number >= 1. Default `undefined`: off.
   */
  readonly balanceFactor: number | undefined;
}

export const defaultMultiprobeOptions: MultiprobeOptions = {
  pointsPerWeight: 16,
  probes: 21,
  balanceFactor: undefined,
};

/** A built ring: point positions in ascending order, each point's endpoint, and a bucket index over them. */
export interface ProbeRing {
  readonly positions: Uint32Array<ArrayBufferLike>;
  readonly owners: Int32Array<ArrayBufferLike>;
  /** `starts[b]`: the first point at or after `b << shift`; `starts[B]` is the point count. ~2 buckets per point. */
  readonly starts: Int32Array;
  readonly shift: number;
}

/** Seed of an endpoint's second address hash (points are XXH32 over (k, second) seeded with the first). */
const SECOND_ID_SEED = 0x5bd1e995;
/** Probe j of a key sits at fmix32(hash + j × golden ratio), a bijection: distinct probes never collide. */
const PROBE_STEP = 0x9e3779b9 | 0;

/** Points of an endpoint of `weight`: a function of its own weight only, so survivors never change. */
export function pointsFor(weight: number, pointsPerWeight: number): number {
  return Math.max(1, Math.round(pointsPerWeight * weight));
}

/**
 * Most points on one ring: 2²¹ (~24 MB with the index). Weights are relative and may be as large as 10⁶, so
 * `pointsPerWeight × weight` is unbounded; a set above the cap is built with `pointsPerWeight` halved until it
 * fits. That halving rescales every endpoint (as A42 does), but only for sets whose total weight exceeds
 * 2²¹ / pointsPerWeight — 131,072 units of weight with the default — never in the common case.
 */
export const MAX_PROBE_POINTS = 2 ** 21;

/** `pointsPerWeight`, halved until the set's points fit {@link MAX_PROBE_POINTS}. */
export function effectivePointsPerWeight(weights: ArrayLike<number>, pointsPerWeight: number): number {
  let perWeight = pointsPerWeight;
  for (let halvings = 0; halvings < 64; halvings++) {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += pointsFor(weights[i]!, perWeight);
    if (total <= MAX_PROBE_POINTS) return perWeight;
    perWeight /= 2;
  }
  return perWeight;
}

/** Top bits the points are counting-sorted by: 65,536 counters (256 KiB) stay in cache, unlike a bucket each. */
const SORT_BITS = 16;

/**
 * Sorts the points by position (stable: equal positions keep their input order) and indexes the successor buckets:
 * one counting sort by the top 16 bits (stable scatter), an insertion sort inside each of those ranges (a handful of
 * points), then one sequential pass for the bucket starts. Replaced a three-pass LSD radix sort plus a bucket scan
 * with a nested loop: ~35 ms of a 10,000-endpoint update (400,000 points; issue 17). Consumes neither input.
 */
function sortIntoBuckets(
  positions: Uint32Array,
  owners: Int32Array,
  shift: number,
  buckets: number,
): ProbeRing {
  const size = positions.length;
  const sortShift = 32 - SORT_BITS;
  const counts = new Int32Array(2 ** SORT_BITS + 1);
  for (let j = 0; j < size; j++) counts[(positions[j]! >>> sortShift) + 1]!++;
  for (let r = 1; r < counts.length; r++) counts[r]! += counts[r - 1]!;
  const sorted = new Uint32Array(size);
  const sortedOwners = new Int32Array(size);
  for (let j = 0; j < size; j++) {
    const at = counts[positions[j]! >>> sortShift]!++;
    sorted[at] = positions[j]!;
    sortedOwners[at] = owners[j]!;
  }
  // counts[r] is now the end of range r: the whole array is ordered by range, so one insertion sort over it only
  // ever moves points within their own range.
  for (let j = 1; j < size; j++) {
    const position = sorted[j]!;
    if (sorted[j - 1]! <= position) continue;
    const owner = sortedOwners[j]!;
    let k = j - 1;
    for (; k >= 0 && sorted[k]! > position; k--) {
      sorted[k + 1] = sorted[k]!;
      sortedOwners[k + 1] = sortedOwners[k]!;
    }
    sorted[k + 1] = position;
    sortedOwners[k + 1] = owner;
  }
  const starts = new Int32Array(buckets + 1);
  let b = 0;
  for (let j = 0; j < size; j++) {
    const bucket = sorted[j]! >>> shift;
    while (b <= bucket) starts[b++] = j;
  }
  while (b <= buckets) starts[b++] = size;
  return { positions: sorted, owners: sortedOwners, starts, shift };
}

/** Builds the ring for endpoints named `addresses` (canonical order) with `weights`. */
export function buildProbeRing(
  addresses: readonly string[],
  weights: ArrayLike<number>,
  requestedPointsPerWeight: number,
): ProbeRing {
  const pointsPerWeight = effectivePointsPerWeight(weights, requestedPointsPerWeight);
  let size = 0;
  for (let i = 0; i < addresses.length; i++) size += pointsFor(weights[i]!, pointsPerWeight);
  const positions = new Uint32Array(size);
  const owners = new Int32Array(size);
  let p = 0;
  for (let i = 0; i < addresses.length; i++) {
    const idA = xxh32String(addresses[i]!);
    const idB = xxh32String(addresses[i]!, SECOND_ID_SEED);
    const count = pointsFor(weights[i]!, pointsPerWeight);
    for (let k = 0; k < count; k++) {
      positions[p] = xxh32Pair(k, idB, idA);
      owners[p++] = i;
    }
  }
  // About two buckets per point: a successor search reads a bucket and scans its zero to two points. Measured
  // 1.6× faster per pick than a binary search over one-point buckets (branchy, mispredicted), for 4 bytes/point.
  const bits = Math.min(21, Math.max(1, Math.ceil(Math.log2(size)) + 1));
  return sortIntoBuckets(positions, owners, 32 - bits, 2 ** bits);
}

/** Index of the first point at or after `position`, wrapping to 0 past the last one. */
export function successor(ring: ProbeRing, position: number): number {
  const positions = ring.positions;
  const bucket = position >>> ring.shift;
  let lo = ring.starts[bucket]!;
  let hi = ring.starts[bucket + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid]! < position) lo = mid + 1;
    else hi = mid;
  }
  return lo === positions.length ? 0 : lo;
}

/** murmur3's 32-bit finaliser: a bijection that spreads consecutive probe seeds over the ring. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The winning point for a 32-bit key hash (signed or unsigned, same bits): the smallest clockwise distance from
 * any probe to its successor point. The successor search is written out here rather than calling
 * {@link successor}: V8 passes an unsigned value ≥ 2³¹ to a function it does not inline as a boxed heap number,
 * which made every probe allocate.
 */
export function winningPoint(ring: ProbeRing, hash: number, probes: number): number {
  const positions = ring.positions;
  const starts = ring.starts;
  const shift = ring.shift;
  const size = positions.length;
  let best = 0;
  let bestDistance = 4294967296;
  for (let j = 0; j < probes; j++) {
    const probe = fmix32((hash + Math.imul(j, PROBE_STEP)) | 0) >>> 0;
    const bucket = probe >>> shift;
    let i = starts[bucket]!;
    const stop = starts[bucket + 1]!;
    while (i < stop && positions[i]! < probe) i++;
    const point = i === size ? 0 : i;
    // Unsigned distance clockwise, wrapping past 2³² (the successor of a probe after the last point is point 0).
    const distance = (positions[point]! - probe) >>> 0;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = point;
    }
  }
  return best;
}

class MultiprobePicker implements Picker {
  protected readonly owners: Int32Array<ArrayBufferLike>;
  constructor(
    readonly endpoints: readonly EndpointState[],
    readonly ring: ProbeRing,
    protected readonly rng: Xorshift32,
    protected readonly probes: number,
  ) {
    this.owners = ring.owners;
  }

  protected pointFor(ctx: PickContext): number {
    const key = ctx.hashKey;
    const hash = key === undefined ? randomHash(this.rng) : xxh32String(key);
    return winningPoint(this.ring, hash | 0, this.probes);
  }

  pick(ctx: PickContext): EndpointState | undefined {
    return this.endpoints[this.owners[this.pointFor(ctx)]!];
  }

  /** The key's second choices: the points after its winning point, clockwise. */
  pickNext(
    ctx: PickContext,
    _now: number,
    accept: (state: EndpointState) => boolean,
  ): EndpointState | undefined {
    return walkAccepting(this.owners as Int32Array, this.pointFor(ctx), this.endpoints, accept);
  }
}

class BoundedMultiprobePicker extends MultiprobePicker {
  readonly #bound: LoadBound;
  constructor(
    endpoints: readonly EndpointState[],
    ring: ProbeRing,
    rng: Xorshift32,
    probes: number,
    bound: LoadBound,
  ) {
    super(endpoints, ring, rng, probes);
    this.#bound = bound;
  }

  override pick(ctx: PickContext): EndpointState | undefined {
    const point = this.pointFor(ctx);
    const i = this.owners[point]!;
    const state = this.endpoints[i]!;
    if (this.#bound.hasRoom(state, i)) return state;
    return walkToRoom(this.owners as Int32Array, point, this.endpoints, this.#bound, state);
  }
}

export const multiprobe: PolicyDefinition<MultiprobeOptions> = {
  name: MULTIPROBE,
  description:
    "Multi-probe consistent hashing on ctx.hashKey (fixed points per endpoint: a removal moves only that endpoint's keys; weighted, optional bounded load); random without a key.",
  parse(raw, path) {
    const obj = readObject(raw, path, ['pointsPerWeight', 'probes', 'balanceFactor']);
    const pointsPerWeight = readNumber(
      obj,
      'pointsPerWeight',
      path,
      { integer: true, min: 1, max: 1024 },
      defaultMultiprobeOptions.pointsPerWeight,
    );
    const probes = readNumber(
      obj,
      'probes',
      path,
      { integer: true, min: 1, max: 64 },
      defaultMultiprobeOptions.probes,
    );
    return { pointsPerWeight, probes, balanceFactor: readBalanceFactor(obj, path) };
  },
  create(options, env): Policy {
    return hashPolicy(
      MULTIPROBE,
      env,
      options.balanceFactor,
      (set) => buildProbeRing(set.addresses, set.weights, options.pointsPerWeight),
      (endpoints, ring, rng, bound) =>
        bound === undefined
          ? new MultiprobePicker(endpoints, ring, rng, options.probes)
          : new BoundedMultiprobePicker(endpoints, ring, rng, options.probes, bound),
    );
  },
};
