/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded
 * Loads", SODA 2018; Envoy `hash_balance_factor`), shared by `ring_hash` and `maglev`.
 *
 * Plain consistent hashing sends every request for a key to the same endpoint, so one hot key (a popular
 * product page, a big tenant) overloads its endpoint while the others idle. With a balance factor c ≥ 1, an
 * endpoint may hold at most ⌈c × (its weighted share of the in-flight requests, this one included)⌉; when the
 * key's endpoint is full the request walks on to the next candidate in ring/table order, which is a pseudo-random
 * endpoint (ring points and table slots of different endpoints are interleaved), so overflow spreads instead of
 * cascading onto one neighbour. Keys move only while their endpoint is over the bound, and a smaller c means more
 * movement: the paper bounds the extra moves per update by O(1/ε²) for c = 1 + ε.
 *
 * The bound can always be met: the caps add up to at least c × (total + 1) > total, so some endpoint is below its
 * cap. The mean uses the Balancer-wide in-flight total ({@link SharedLoad}), which also counts requests still
 * running on removed (draining) endpoints; while those drain the bound is slightly looser, never tighter.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { SharedLoad } from '../balancer/policy/picker.js';

/** Floating-point slack so that an exact product like 1.1 × 10 = 11.000000000000002 still rounds up to 11. */
const EPSILON = 1e-9;

/**
 * The per-picker bound: each endpoint's cap from its weight, and a visit stamp per endpoint so a walk over the
 * ring or table checks each endpoint once without allocating a set.
 */
export class LoadBound {
  /** c × weightᵢ / Σ weights: the factor applied to (total in flight + 1) to get endpoint i's cap. */
  readonly #capScale: Float64Array;
  readonly #load: SharedLoad;
  readonly #visited: Uint32Array;
  #stamp = 0;

  /** `weights[i]` is the weight of endpoint i (the same order the picker indexes endpoints in). */
  constructor(weights: ArrayLike<number>, balanceFactor: number, load: SharedLoad) {
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    this.#capScale = new Float64Array(n);
    for (let i = 0; i < n; i++) this.#capScale[i] = (balanceFactor * weights[i]!) / total;
    this.#load = load;
    this.#visited = new Uint32Array(n);
  }

  /** Most requests endpoint `i` may hold once the request being placed is counted. */
  cap(i: number): number {
    return Math.ceil(this.#capScale[i]! * (this.#load.totalInFlight + 1) - EPSILON);
  }

  /** True when endpoint `i` (state `state`) can take one more request within its cap. */
  hasRoom(state: EndpointState, i: number): boolean {
    return state.inFlight < this.cap(i);
  }

  /** Starts a walk: every endpoint counts as not yet visited. O(1) (stamps, not a clear). */
  beginWalk(): void {
    this.#stamp++;
    if (this.#stamp === 0xffffffff) {
      this.#visited.fill(0);
      this.#stamp = 1;
    }
  }

  /** Marks endpoint `i` visited in this walk; false when it already was. */
  firstVisit(i: number): boolean {
    if (this.#visited[i] === this.#stamp) return false;
    this.#visited[i] = this.#stamp;
    return true;
  }
}

/**
 * Walks `slots` (endpoint indices in ring/table order) from `start`, wrapping around, and returns the first
 * endpoint with room under `bound`. Each endpoint is checked once; the walk stops after all `endpoints.length`
 * have been seen or every slot has been passed. Returns `fallback` (the key's own endpoint) if none has room —
 * which the bound rules out unless some endpoint has no slot at all (a table smaller than the endpoint set).
 */
export function walkToRoom(
  slots: Int32Array,
  start: number,
  endpoints: readonly EndpointState[],
  bound: LoadBound,
  fallback: EndpointState,
): EndpointState {
  const size = slots.length;
  let unseen = endpoints.length;
  bound.beginWalk();
  let slot = start;
  for (let step = 0; step < size && unseen > 0; step++) {
    const i = slots[slot]!;
    if (bound.firstVisit(i)) {
      const state = endpoints[i]!;
      if (bound.hasRoom(state, i)) return state;
      unseen--;
    }
    slot = slot + 1 === size ? 0 : slot + 1;
  }
  return fallback;
}

/**
 * Walks `slots` from the slot after `start`, wrapping around, and returns the first endpoint `accept` takes, or
 * `undefined` when it takes none. Used for retries of keyed requests (see `Picker.pickNext`); a walk that rejects
 * everything visits every slot once, which only happens when every endpoint is excluded or full.
 */
export function walkAccepting(
  slots: Int32Array,
  start: number,
  endpoints: readonly EndpointState[],
  accept: (state: EndpointState) => boolean,
): EndpointState | undefined {
  const size = slots.length;
  let slot = start;
  for (let step = 0; step < size; step++) {
    slot = slot + 1 === size ? 0 : slot + 1;
    const state = endpoints[slots[slot]!]!;
    if (accept(state)) return state;
  }
  return undefined;
}
