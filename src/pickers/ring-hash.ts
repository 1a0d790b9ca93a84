/**
 * `ring_hash`: the ring of gRFC A42, bit for bit — the same ring Envoy, gRPC C-core/Go/Java and grpc-js-xds build,
 * so a key reaches the same endpoint from a switchyard client as from every other client of the fleet.
 *
 * Construction (A42; Envoy `RingHashLoadBalancer`; grpc-js-xds `constructRing`), over the endpoints in the order
 * they were listed:
 * 1. normalised weights `w_i = weight_i / Σ weight`; `scale = min(⌈min w × minRingSize⌉ / min w, maxRingSize)`;
 * 2. running targets `target += scale × w_i`; endpoint i gets entries `XXH64("<address>_<k>", seed 0)` for
 *    k = 0, 1, … while the running entry count is below the target (fractions carry over to the next endpoint);
 * 3. entries sorted by their 64-bit hash (stable: equal hashes keep list order, as JavaScript's sort does in
 *    grpc-js-xds).
 * A request goes to the first entry whose hash is ≥ XXH64(key), wrapping to the first entry.
 *
 * Why this is `ring_hash` and not an option: the name is the one xDS and gRPC service configs use, and the
 * only reason to choose a ring over Maglev is agreeing on the key → endpoint map with the rest of the fleet or
 * moving few keys; a ring that is neither compatible nor balanced serves neither. switchyard's own ring with fixed
 * points per endpoint is `ketama` (src/pickers/ketama.ts) — better balance and movement, no interop.
 *
 * What this ring inherits from A42, on purpose: the sizing rescales every survivor when the set changes, so
 * a removal moves some keys between endpoints that stayed; with the default 1024..4096 entries the balance is
 * coarse (≈ 11 entries per endpoint at 100 endpoints, max/mean ≈ 1.7); and past `ringSizeCap` entries (gRPC's
 * 4096) endpoints beyond the cap get no entry at all. See docs/consistent-hashing.md.
 *
 * Hosts: switchyard builds the ring from the routable endpoints (Envoy's choice: healthy hosts); gRPC keeps every
 * endpoint on the ring and walks past failed ones at pick time. With all endpoints healthy both agree.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { PickContext, Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { xxh64StringInto } from '../hash/xxh64.js';
import { type LoadBound, walkAccepting, walkToRoom } from './bounded-load.js';
import type { Xorshift32 } from './fast-random.js';
import { hashPolicy, listedSet, readBalanceFactor } from './hash-endpoints.js';

export const RING_HASH = 'ring_hash';

/** Largest allowed ring (Envoy's and gRPC's bound on `maximum_ring_size`, 1024 × 1024 × 8). */
export const MAX_RING_SIZE = 8_388_608;

export interface RingHashOptions {
  /**
   * Fewest entries on the ring; the lightest endpoint gets at least its weight's share of these. Integer from 1
   * to 8,388,608. Default 1024 (Envoy `minimum_ring_size`, gRPC A42).
   */
  readonly minRingSize: number;
  /**
   * Most entries on the ring. Integer from minRingSize to 8,388,608. Default 8,388,608 (Envoy's
   * `maximum_ring_size`, also what gRPC takes from xDS when it is unset) — then `ringSizeCap` applies.
   */
  readonly maxRingSize: number;
  /**
   * Cap on both sizes (gRPC's channel argument `grpc.lb.ring_hash.ring_size_cap`). Integer from 1 to 8,388,608.
   * Default 4096 (gRPC): agrees with gRPC clients out of the box. Set 8,388,608 to agree with Envoy, which has
   * no cap. Endpoints beyond the cap get no entry (never picked): raise it above ~4000 endpoints.
   */
  readonly ringSizeCap: number;
  /**
   * Bounded load (Envoy `hash_balance_factor` / 100): an endpoint holding more than ⌈c × its weighted share of the
   * in-flight requests⌉ passes the key on to the next endpoint along the ring. A number >= 1, e.g. 1.25.
   * Default `undefined`: off (Envoy default; gRPC has no bounded load).
   */
  readonly balanceFactor: number | undefined;
}

export const defaultRingHashOptions: RingHashOptions = {
  minRingSize: 1024,
  maxRingSize: MAX_RING_SIZE,
  ringSizeCap: 4096,
  balanceFactor: undefined,
};

/** A built ring: entry hashes in ascending order as 32-bit halves, and each entry's endpoint index. */
export interface Ring {
  readonly high: Uint32Array<ArrayBufferLike>;
  readonly low: Uint32Array<ArrayBufferLike>;
  readonly owners: Int32Array<ArrayBufferLike>;
  /**
   * Search accelerator: `starts[b]` is the first entry whose high half is at or after `b << shift` (and
   * `starts[B]` the entry count). A lookup binary-searches only its bucket — about one entry.
   */
  readonly starts: Int32Array;
  readonly shift: number;
}

/** At most 2²⁰ buckets (4 MiB): beyond that a bucket holds a few entries and the search stays short anyway. */
const MAX_BUCKET_BITS = 20;

/**
 * Entries per endpoint, in list order: exactly gRPC's and Envoy's arithmetic (same floating-point operations in
 * the same order, so the same counts). `minRingSize` and `maxRingSize` are the already-capped sizes.
 */
export function ringEntryCounts(
  weights: ArrayLike<number>,
  minRingSize: number,
  maxRingSize: number,
): number[] {
  const n = weights.length;
  let weightSum = 0;
  for (let i = 0; i < n; i++) weightSum += weights[i]!;
  const normalized = new Float64Array(n);
  let minNormalized = 1;
  for (let i = 0; i < n; i++) {
    normalized[i] = weights[i]! / weightSum;
    minNormalized = Math.min(normalized[i]!, minNormalized);
  }
  const scale = Math.min(Math.ceil(minNormalized * minRingSize) / minNormalized, maxRingSize);
  const counts: number[] = [];
  let current = 0;
  let target = 0;
  for (let i = 0; i < n; i++) {
    target += scale * normalized[i]!;
    let count = 0;
    while (current < target) {
      current++;
      count++;
    }
    counts.push(count);
  }
  return counts;
}

/**
 * Stable LSD radix sort of the entries by (high, low): six passes of 11/11/10 bits, low half first. O(R) — a
 * comparison sort of 8M 64-bit keys would take seconds. Consumes its inputs (they become scratch space).
 */
function sortEntries(
  high: Uint32Array,
  low: Uint32Array,
  owners: Int32Array,
): Omit<Ring, 'starts' | 'shift'> {
  const size = high.length;
  let h: Uint32Array = high;
  let l: Uint32Array = low;
  let o: Int32Array = owners;
  let h2: Uint32Array = new Uint32Array(size);
  let l2: Uint32Array = new Uint32Array(size);
  let o2: Int32Array = new Int32Array(size);
  for (let pass = 0; pass < 6; pass++) {
    const keys = pass < 3 ? l : h;
    const shift = (pass % 3) * 11;
    const mask = pass % 3 === 2 ? 0x3ff : 0x7ff;
    const next = new Int32Array(mask + 2);
    for (let j = 0; j < size; j++) next[((keys[j]! >>> shift) & mask) + 1]!++;
    for (let d = 1; d <= mask + 1; d++) next[d]! += next[d - 1]!;
    for (let j = 0; j < size; j++) {
      const at = next[(keys[j]! >>> shift) & mask]!++;
      h2[at] = h[j]!;
      l2[at] = l[j]!;
      o2[at] = o[j]!;
    }
    [h, h2] = [h2, h];
    [l, l2] = [l2, l];
    [o, o2] = [o2, o];
  }
  return { high: h, low: l, owners: o };
}

/** Builds the A42 ring for endpoints named `addresses` (in list order) with `weights`. */
export function buildRing(
  addresses: readonly string[],
  weights: ArrayLike<number>,
  options: Pick<RingHashOptions, 'minRingSize' | 'maxRingSize' | 'ringSizeCap'>,
): Ring {
  const cap = options.ringSizeCap;
  const counts = ringEntryCounts(
    weights,
    Math.min(options.minRingSize, cap),
    Math.min(options.maxRingSize, cap),
  );
  let size = 0;
  for (const count of counts) size += count;
  const high = new Uint32Array(size);
  const low = new Uint32Array(size);
  const owners = new Int32Array(size);
  const out = new Uint32Array(2);
  let p = 0;
  for (let i = 0; i < addresses.length; i++) {
    for (let k = 0; k < counts[i]!; k++) {
      xxh64StringInto(out, `${addresses[i]!}_${k}`);
      high[p] = out[0]!;
      low[p] = out[1]!;
      owners[p++] = i;
    }
  }
  const sorted = sortEntries(high, low, owners);
  const bits = Math.min(MAX_BUCKET_BITS, Math.max(1, Math.ceil(Math.log2(Math.max(size, 2)))));
  const shift = 32 - bits;
  const buckets = 2 ** bits;
  const starts = new Int32Array(buckets + 1);
  let j = 0;
  for (let b = 0; b < buckets; b++) {
    while (j < size && sorted.high[j]! >>> shift < b) j++;
    starts[b] = j;
  }
  starts[buckets] = size;
  return { ...sorted, starts, shift };
}

/**
 * Index of the first entry whose hash is ≥ (high, low), wrapping to 0 past the last one — grpc-js-xds's
 * `findIndexForHash` and Envoy's ketama search, by binary search within the hash's bucket.
 */
export function ringIndex(ring: Ring, high: number, low: number): number {
  const hs = ring.high;
  const ls = ring.low;
  const bucket = high >>> ring.shift;
  let lo = ring.starts[bucket]!;
  // Every entry before `hi` is in an earlier bucket or this one; if none here is ≥ the hash, the answer is `hi`.
  let hi = ring.starts[bucket + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const mh = hs[mid]!;
    if (mh < high || (mh === high && ls[mid]! < low)) lo = mid + 1;
    else hi = mid;
  }
  return lo === hs.length ? 0 : lo;
}

class RingHashPicker implements Picker {
  protected readonly owners: Int32Array;
  /** The request hash, [high, low] (reused: a pick allocates nothing). */
  readonly #hash = new Uint32Array(2);
  constructor(
    readonly endpoints: readonly EndpointState[],
    /** The ring (shared with later pickers over the same set). */
    readonly ring: Ring,
    protected readonly rng: Xorshift32,
  ) {
    this.owners = ring.owners;
  }

  protected entryFor(ctx: PickContext): number {
    const key = ctx.hashKey;
    const hash = this.#hash;
    if (key === undefined) {
      // No key: a random 64-bit hash (gRPC A76, Envoy), so key-less picks spread like a key population.
      hash[0] = this.rng.uniform() * 4294967296;
      hash[1] = this.rng.uniform() * 4294967296;
    } else xxh64StringInto(hash, key);
    return ringIndex(this.ring, hash[0]!, hash[1]!);
  }

  pick(ctx: PickContext): EndpointState | undefined {
    return this.endpoints[this.owners[this.entryFor(ctx)]!];
  }

  /** The key's second choices: the next entries clockwise, i.e. where the key goes if its endpoint leaves. */
  pickNext(
    ctx: PickContext,
    _now: number,
    accept: (state: EndpointState) => boolean,
  ): EndpointState | undefined {
    return walkAccepting(this.owners, this.entryFor(ctx), this.endpoints, accept);
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
    const entry = this.entryFor(ctx);
    const i = this.owners[entry]!;
    const state = this.endpoints[i]!;
    if (this.#bound.hasRoom(state, i)) return state;
    return walkToRoom(this.owners, entry, this.endpoints, this.#bound, state);
  }
}

export const ringHash: PolicyDefinition<RingHashOptions> = {
  name: RING_HASH,
  description:
    'gRFC A42 ring hash on ctx.hashKey (XXH64; same mapping as Envoy/gRPC; weighted, optional bounded load); random without a key.',
  parse(raw, path) {
    const obj = readObject(raw, path, ['minRingSize', 'maxRingSize', 'ringSizeCap', 'balanceFactor']);
    const range = { integer: true, min: 1, max: MAX_RING_SIZE } as const;
    const minRingSize = readNumber(obj, 'minRingSize', path, range, defaultRingHashOptions.minRingSize);
    const maxRingSize = readNumber(obj, 'maxRingSize', path, range, defaultRingHashOptions.maxRingSize);
    const ringSizeCap = readNumber(obj, 'ringSizeCap', path, range, defaultRingHashOptions.ringSizeCap);
    if (maxRingSize < minRingSize) {
      throw new ConfigError({
        field: join(path, 'maxRingSize'),
        allowed: `an integer from minRingSize (${minRingSize}) to ${MAX_RING_SIZE}`,
        received: maxRingSize,
      });
    }
    return { minRingSize, maxRingSize, ringSizeCap, balanceFactor: readBalanceFactor(obj, path) };
  },
  create(options, env): Policy {
    return hashPolicy(
      RING_HASH,
      env,
      options.balanceFactor,
      (set) => buildRing(set.addresses, set.weights, options),
      (endpoints, ring, rng, bound) =>
        bound === undefined
          ? new RingHashPicker(endpoints, ring, rng)
          : new BoundedRingHashPicker(endpoints, ring, rng, bound),
      listedSet,
    );
  },
};
