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
import { xxh32String } from '../hash/xxh32.js';
import { type LoadBound, walkAccepting, walkToRoom } from './bounded-load.js';
import type { Xorshift32 } from './fast-random.js';
import { hashPolicy, randomHash, readBalanceFactor } from './hash-endpoints.js';
import { type ProbeRing, ProbeRingBuilder } from './probe-ring.js';

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

/** Probe j of a key sits at fmix32(hash + j × golden ratio), a bijection: distinct probes never collide. */
const PROBE_STEP = 0x9e3779b9 | 0;

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
    // One builder per policy instance: each rebuild reuses the previous ring's points (probe-ring.ts).
    const rings = new ProbeRingBuilder(options.pointsPerWeight);
    return hashPolicy(
      MULTIPROBE,
      env,
      options.balanceFactor,
      (set) => rings.build(set.addresses, set.weights),
      (endpoints, ring, rng, bound) =>
        bound === undefined
          ? new MultiprobePicker(endpoints, ring, rng, options.probes)
          : new BoundedMultiprobePicker(endpoints, ring, rng, options.probes, bound),
    );
  },
};
