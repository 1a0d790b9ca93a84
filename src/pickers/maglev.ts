/**
 * `maglev`: Google's Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
 * Load Balancer", NSDI 2016, §3.4), weighted as in Envoy.
 *
 * Each endpoint gets a pseudo-random permutation of the M table slots from two hashes of its address
 * (`offset = h₀ mod M`, `skip = h₁ mod (M − 1) + 1`; M prime makes every such sequence a full permutation). The
 * endpoints then take turns claiming their next preferred free slot until the table is full, so every endpoint
 * ends up with M/N slots give or take one — near-perfect balance — and a pick is `table[hash(key) mod M]`: O(1),
 * one hash and two array reads.
 *
 * Weighted (Envoy's MaglevTable): turns are handed out in proportion to weight — in round r an endpoint of
 * normalised weight w (the heaviest has 1) takes a turn when r × w has caught up with the turns it has taken.
 *
 * Disruption: when an endpoint leaves, its slots are re-filled by the others and a few slots of remaining
 * endpoints change owner too (the paper's "small excess"); with M = 65537 and 100 endpoints we measure about
 * 1.5 % of keys moving when 1 % of capacity leaves, against exactly the leaving share for a ring (see
 * docs/performance.md). In exchange Maglev builds ~10× faster than a large ring and picks in O(1).
 *
 * Table size: default 65537 (Envoy), prime, at most 5,000,011 (Envoy's limit). The paper keeps every endpoint
 * within 1 % of its share when M > 100 × N; a table smaller than the endpoint set leaves some endpoints out.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { PickContext, Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { xxh32String } from '../hash/xxh32.js';
import { type LoadBound, walkAccepting, walkToRoom } from './bounded-load.js';
import type { Xorshift32 } from './fast-random.js';
import { hashPolicy, randomHash, readBalanceFactor } from './hash-endpoints.js';

export const MAGLEV = 'maglev';

/** Largest allowed `tableSize` (Envoy's bound). */
export const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

export interface MaglevOptions {
  /**
   * Slots in the lookup table; must be prime. From 2 to 5,000,011. Default 65537 (Envoy). Keep it above
   * 100 × the endpoint count for balance within 1 % (Maglev paper); memory is 4 bytes per slot.
   */
  readonly tableSize: number;
  /**
   * Bounded load (Envoy `hash_balance_factor` / 100): an endpoint holding more than ⌈c × its weighted share of the
   * in-flight requests⌉ passes the key on to the next endpoint in table order. A number >= 1, e.g. 1.25.
   * Default `undefined`: off (Envoy default).
   */
  readonly balanceFactor: number | undefined;
}

export const defaultMaglevOptions: MaglevOptions = { tableSize: 65537, balanceFactor: undefined };

/** Seeds of the two address hashes that give an endpoint its permutation (any two distinct seeds would do). */
const OFFSET_SEED = 0;
const SKIP_SEED = 1;

/** True when `n` is a prime (trial division; n ≤ 5,000,011 needs at most ~1,100 divisions). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/**
 * Builds a Maglev table of `size` slots (prime) over endpoints named `addresses` with `weights`. Returns, per
 * slot, the index of its endpoint. O(M log M) for equal weights.
 */
export function buildMaglevTable(
  addresses: readonly string[],
  weights: ArrayLike<number>,
  size: number,
): Int32Array {
  const n = addresses.length;
  const table = new Int32Array(size).fill(-1);
  // Each endpoint's next preferred slot, offset + j × skip (mod M), advanced incrementally. Int32: M ≤ 5,000,011.
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const weight = new Float64Array(n); // normalised: the heaviest endpoint has 1
  const turns = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) maxWeight = Math.max(maxWeight, weights[i]!);
  for (let i = 0; i < n; i++) {
    position[i] = xxh32String(addresses[i]!, OFFSET_SEED) % size;
    skip[i] = (xxh32String(addresses[i]!, SKIP_SEED) % (size - 1)) + 1;
    weight[i] = weights[i]! / maxWeight;
  }
  let filled = 0;
  for (let round = 0; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      // An endpoint of weight w takes a turn once round × w has caught up with the turns it already had.
      if (round * weight[i]! < turns[i]!) continue;
      turns[i]! += 1;
      let slot = position[i]!;
      while (table[slot] !== -1) slot = advance(slot, skip[i]!, size);
      table[slot] = i;
      position[i] = advance(slot, skip[i]!, size);
      filled++;
    }
  }
  return table;
}

function advance(slot: number, skip: number, size: number): number {
  const next = slot + skip;
  return next >= size ? next - size : next;
}

/**
 * Maps a 32-bit hash to a slot in [0, size) by multiply-shift (⌊hash × size / 2³²⌋, Lemire's "fastrange") rather
 * than `hash % size`: a hash above 2³¹ is not a small integer in V8, so `%` becomes a floating-point remainder,
 * which measured ~12 ns slower per pick. Exact enough: the product is below 2⁵⁵, its rounding error (< 8) cannot
 * reach the next multiple of 2³², and the division by 2³² is exact.
 */
export function slotOf(hash: number, size: number): number {
  return ((hash * size) / 4294967296) | 0;
}

/** Plain Maglev: the key's slot decides. */
class MaglevPicker implements Picker {
  constructor(
    readonly endpoints: readonly EndpointState[],
    /** Endpoint index per slot (shared with later pickers over the same set). */
    readonly table: Int32Array,
    protected readonly rng: Xorshift32,
  ) {}

  protected slotFor(ctx: PickContext): number {
    const key = ctx.hashKey;
    const hash = key === undefined ? randomHash(this.rng) : xxh32String(key);
    return slotOf(hash, this.table.length);
  }

  pick(ctx: PickContext): EndpointState | undefined {
    return this.endpoints[this.table[this.slotFor(ctx)]!];
  }

  /** The key's second choices: the slots after its own, in table order (a stable, pseudo-random endpoint order). */
  pickNext(
    ctx: PickContext,
    _now: number,
    accept: (state: EndpointState) => boolean,
  ): EndpointState | undefined {
    return walkAccepting(this.table, this.slotFor(ctx), this.endpoints, accept);
  }
}

/** Maglev with bounded load: a full endpoint passes the key on, in table order. */
class BoundedMaglevPicker extends MaglevPicker {
  readonly #bound: LoadBound;
  constructor(endpoints: readonly EndpointState[], table: Int32Array, rng: Xorshift32, bound: LoadBound) {
    super(endpoints, table, rng);
    this.#bound = bound;
  }

  override pick(ctx: PickContext): EndpointState | undefined {
    const slot = this.slotFor(ctx);
    const i = this.table[slot]!;
    const state = this.endpoints[i]!;
    if (this.#bound.hasRoom(state, i)) return state;
    return walkToRoom(this.table, slot, this.endpoints, this.#bound, state);
  }
}

export const maglev: PolicyDefinition<MaglevOptions> = {
  name: MAGLEV,
  description:
    'Maglev consistent hashing on ctx.hashKey (O(1) table lookup, weighted, optional bounded load); random without a key.',
  parse(raw, path) {
    const obj = readObject(raw, path, ['tableSize', 'balanceFactor']);
    const tableSize = readNumber(
      obj,
      'tableSize',
      path,
      { integer: true, min: 2, max: MAX_MAGLEV_TABLE_SIZE },
      defaultMaglevOptions.tableSize,
    );
    if (!isPrime(tableSize)) {
      throw new ConfigError({
        field: join(path, 'tableSize'),
        allowed: 'a prime number (e.g. 65537, 131071, 655373)',
        received: tableSize,
      });
    }
    return { tableSize, balanceFactor: readBalanceFactor(obj, path) };
  },
  create(options, env): Policy {
    return hashPolicy(
      MAGLEV,
      env,
      options.balanceFactor,
      (set) => buildMaglevTable(set.addresses, set.weights, options.tableSize),
      (endpoints, table, rng, bound) =>
        bound === undefined
          ? new MaglevPicker(endpoints, table, rng)
          : new BoundedMaglevPicker(endpoints, table, rng, bound),
    );
  },
};
