/**
 * The `multiprobe` ring: building it from scratch, and rebuilding it from the previous ring when the endpoint set
 * changes (issue 17: an update over 10,000 endpoints within 50 ms).
 *
 * Each endpoint's points depend only on its own address and point count, and the ring is the list of all points
 * ordered by (position, endpoint index in canonical order, point number). A rebuild therefore keeps the previous
 * ring's points of every endpoint still present with the same point count (already in that order; only their
 * endpoint indices shift), hashes and sorts the points of endpoints that are new or changed count, and merges the
 * two ordered lists: O(points) without rehashing, and exactly the ring a fresh build gives (a property test checks
 * this over random sequences of adds, removes and weight changes).
 */
import { xxh32Pair, xxh32String } from '../hash/xxh32.js';

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

/** Unsorted points: positions and their endpoints' indices, in generation order. */
interface Points {
  readonly positions: Uint32Array;
  readonly owners: Int32Array;
}

/** Hashes the points of the endpoints `indices` (ascending) into one list, in generation order. */
function hashPoints(
  addresses: readonly string[],
  counts: Int32Array,
  indices: ArrayLike<number>,
  size: number,
): Points {
  const positions = new Uint32Array(size);
  const owners = new Int32Array(size);
  let p = 0;
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    const idA = xxh32String(addresses[i]!);
    const idB = xxh32String(addresses[i]!, SECOND_ID_SEED);
    for (let k = 0; k < counts[i]!; k++) {
      positions[p] = xxh32Pair(k, idB, idA);
      owners[p++] = i;
    }
  }
  return { positions, owners };
}

/** Below this many points a plain insertion sort beats allocating the 65,536 counters (a rebuild's few new points). */
const INSERTION_ONLY = 256;

/**
 * Sorts points by position, stably (equal positions keep their input order): one counting sort by the top 16 bits
 * (stable scatter), then an insertion sort inside each of those ranges (a handful of points). Replaced a three-pass
 * LSD radix sort (issue 17). Small inputs skip the counting sort. Consumes neither input.
 */
function sortPoints(points: Points): Points {
  const size = points.positions.length;
  const scattered = size <= INSERTION_ONLY ? copyPoints(points) : scatterByTopBits(points);
  const sorted = scattered.positions;
  const sortedOwners = scattered.owners;
  // Ordered by range after the scatter, so this insertion sort only ever moves points within their range.
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
  return scattered;
}

function copyPoints(points: Points): Points {
  return { positions: points.positions.slice(), owners: points.owners.slice() };
}

/** A stable counting-sort scatter by the top {@link SORT_BITS} bits of the position. */
function scatterByTopBits(points: Points): Points {
  const { positions, owners } = points;
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
  return { positions: sorted, owners: sortedOwners };
}

/**
 * Indexes sorted points into successor buckets, about two per point: a successor search reads a bucket and scans its
 * zero to two points. Measured 1.6× faster per pick than a binary search over one-point buckets (branchy,
 * mispredicted), for 4 bytes/point.
 */
function indexBuckets(sorted: Points): ProbeRing {
  const positions = sorted.positions;
  const size = positions.length;
  const shift = bucketShift(size);
  const starts = new Int32Array(2 ** (32 - shift) + 1);
  let b = 0;
  for (let j = 0; j < size; j++) b = fillStarts(starts, b, positions[j]! >>> shift, j);
  fillStarts(starts, b, starts.length - 1, size);
  return { positions, owners: sorted.owners, starts, shift };
}

/** The bucket shift for `size` points: 32 − bits, with 2^bits ≈ 2–4 buckets per point (at most 2²¹ buckets). */
function bucketShift(size: number): number {
  return 32 - Math.min(21, Math.max(1, Math.ceil(Math.log2(size)) + 1));
}

/** Points bucket `b` up to `bucket` (inclusive) at point `j`, the first point at or after them; returns the next b. */
function fillStarts(starts: Int32Array, b: number, bucket: number, j: number): number {
  while (b <= bucket) starts[b++] = j;
  return b;
}

/** Each endpoint's point count at `pointsPerWeight`, and their sum. */
function pointCounts(
  weights: ArrayLike<number>,
  pointsPerWeight: number,
): { counts: Int32Array; total: number } {
  const counts = new Int32Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    counts[i] = pointsFor(weights[i]!, pointsPerWeight);
    total += counts[i]!;
  }
  return { counts, total };
}

/** Builds the ring for endpoints named `addresses` (canonical order) with `weights`, from scratch. */
export function buildProbeRing(
  addresses: readonly string[],
  weights: ArrayLike<number>,
  requestedPointsPerWeight: number,
): ProbeRing {
  const { counts, total } = pointCounts(weights, effectivePointsPerWeight(weights, requestedPointsPerWeight));
  const all = Int32Array.from({ length: addresses.length }, (_, i) => i);
  return indexBuckets(sortPoints(hashPoints(addresses, counts, all, total)));
}

/** What a ring was built from: enough to tell which of its points a later set keeps. */
interface BuiltFrom {
  readonly addresses: readonly string[];
  readonly counts: Int32Array;
  readonly pointsPerWeight: number;
  readonly ring: ProbeRing;
}

/** Whether `addresses` is strictly ascending in code-unit order (canonical order without duplicates). */
function strictlyAscending(addresses: readonly string[]): boolean {
  for (let i = 1; i < addresses.length; i++) if (!(addresses[i - 1]! < addresses[i]!)) return false;
  return true;
}

/**
 * Builds rings for a sequence of endpoint sets, reusing the previous ring's points (see the module comment). Falls
 * back to a full build for the first set, when the effective `pointsPerWeight` changes (the point cap rescales every
 * endpoint), or when the addresses are not strictly ascending (the merge relies on canonical order).
 */
export class ProbeRingBuilder {
  #last: BuiltFrom | undefined;
  constructor(private readonly requestedPointsPerWeight: number) {}

  build(addresses: readonly string[], weights: ArrayLike<number>): ProbeRing {
    const pointsPerWeight = effectivePointsPerWeight(weights, this.requestedPointsPerWeight);
    const { counts, total } = pointCounts(weights, pointsPerWeight);
    const last = this.#last;
    const ordered = strictlyAscending(addresses);
    const ring =
      last !== undefined && ordered && last.pointsPerWeight === pointsPerWeight
        ? rebuild(last, addresses, counts, total)
        : buildProbeRing(addresses, weights, this.requestedPointsPerWeight);
    this.#last = ordered ? { addresses, counts, pointsPerWeight, ring } : undefined;
    return ring;
  }
}

/**
 * The new index of each endpoint of `last` whose points survive (same address, same count), else -1; and the
 * endpoints of the new set whose points must be hashed. Both address lists are strictly ascending.
 */
function matchEndpoints(
  last: BuiltFrom,
  addresses: readonly string[],
  counts: Int32Array,
): { newIndex: Int32Array; added: number[]; addedPoints: number } {
  const newIndex = new Int32Array(last.addresses.length).fill(-1);
  const added: number[] = [];
  let addedPoints = 0;
  let o = 0;
  for (let i = 0; i < addresses.length; i++) {
    const address = addresses[i]!;
    while (o < last.addresses.length && last.addresses[o]! < address) o++;
    if (o < last.addresses.length && last.addresses[o] === address && last.counts[o] === counts[i]) {
      newIndex[o++] = i;
    } else {
      added.push(i);
      addedPoints += counts[i]!;
    }
  }
  return { newIndex, added, addedPoints };
}

/** The ring for the new set: the previous ring's surviving points merged with the added endpoints' sorted points. */
function rebuild(
  last: BuiltFrom,
  addresses: readonly string[],
  counts: Int32Array,
  total: number,
): ProbeRing {
  const { newIndex, added, addedPoints } = matchEndpoints(last, addresses, counts);
  const fresh = sortPoints(hashPoints(addresses, counts, added, addedPoints));
  const old = last.ring;
  const oldPositions = old.positions;
  const oldOwners = old.owners;
  const oldSize = oldPositions.length;
  const positions = new Uint32Array(total);
  const owners = new Int32Array(total);
  // The bucket index is filled as the points are written: one pass instead of two over ~400,000 points.
  const shift = bucketShift(total);
  const starts = new Int32Array(2 ** (32 - shift) + 1);
  let b = 0;
  let i = 0;
  let j = 0;
  for (let p = 0; p < total; p++) {
    // Next surviving old point, with its owner's new index.
    let owner = -1;
    while (i < oldSize && (owner = newIndex[oldOwners[i]!]!) === -1) i++;
    let position: number;
    // Ties by endpoint index, as in a full build (never the same endpoint: an added one has no old points).
    if (
      j < addedPoints &&
      (i >= oldSize ||
        fresh.positions[j]! < oldPositions[i]! ||
        (fresh.positions[j]! === oldPositions[i]! && fresh.owners[j]! < owner))
    ) {
      position = fresh.positions[j]!;
      owner = fresh.owners[j++]!;
    } else {
      position = oldPositions[i++]!;
    }
    b = fillStarts(starts, b, position >>> shift, p);
    positions[p] = position;
    owners[p] = owner;
  }
  fillStarts(starts, b, starts.length - 1, total);
  return { positions, owners, starts, shift };
}
