/**
 * `least_request`: draw N candidates, send to the one with the fewest requests in flight ("power of N choices").
 *
 * Mitzenmacher's result: two random choices already cut the maximum load from O(log n / log log n) to
 * O(log log n), without the herd behaviour of a global "least connections" (every client sending to the same
 * momentarily idle endpoint). Defaults follow Envoy and gRPC A48: `choiceCount` 2, `activeRequestBias` 1.0.
 *
 * - Equal weights: candidates are drawn uniformly; with `choiceCount` 2 they are distinct (Finagle's P2C), which
 *   matters with few endpoints — with replacement a pair of 2 is the same endpoint half the time.
 * - Unequal weights (after Envoy's active-request bias): candidates are drawn in proportion to weight and compared
 *   on `inFlight^bias / weight`, lowest wins. Envoy schedules `weight / (active + 1)^bias` with a dynamic EDF; we
 *   keep O(1) picks by sampling instead, and drop the `+ 1` so that idle candidates tie — the first (weighted) draw
 *   then wins and idle traffic splits exactly in proportion to weight. Bias 0 ignores load (plain weighted random).
 * - Ties go to the first candidate, and a candidate replaces the current best only when strictly better, so the
 *   more loaded of two is never chosen.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { AliasTable, uniformWeights } from '../balancer/routing/weights.js';
import { readNumber, readObject } from '../config/validate.js';
import type { RandomSource } from '../random.js';
import { scaleBelow, Xorshift32, xorshift32 } from './fast-random.js';

export const LEAST_REQUEST = 'least_request';

export interface LeastRequestOptions {
  /** Candidates drawn per pick. Integer from 2 to 100. Default 2 (Envoy, gRPC A48). */
  readonly choiceCount: number;
  /**
   * How strongly in-flight requests count against weight when weights differ: score = weight / (inFlight + 1)^bias.
   * Number from 0 to 10. Default 1.0 (Envoy `active_request_bias`).
   */
  readonly activeRequestBias: number;
}

export const defaultLeastRequestOptions: LeastRequestOptions = { choiceCount: 2, activeRequestBias: 1 };

/**
 * Two distinct uniform candidates: the common case, kept branch-free. The generator's state is a field of the picker
 * (one load and one store per pick), and the second draw skips the first without a branch: `if (j >= i) j++` is a
 * coin flip the CPU mispredicts half the time, which made this picker 2× a hand-written P2C. Same draws, same picks.
 */
class TwoChoicePicker implements Picker {
  readonly #endpoints: readonly EndpointState[];
  /** @internal xorshift32 state (a signed 32-bit integer, see fast-random.ts), seeded from the Balancer's random. */
  x: number;
  constructor(endpoints: readonly EndpointState[], random: RandomSource) {
    this.#endpoints = endpoints;
    this.x = new Xorshift32(random).x;
  }
  pick(): EndpointState | undefined {
    const eps = this.#endpoints;
    const n = eps.length;
    if (n === 1) return eps[0];
    const x1 = xorshift32(this.x);
    const x2 = xorshift32(x1);
    this.x = x2;
    const i = scaleBelow(x1, n);
    const j = scaleBelow(x2, n - 1);
    // j + (j >= i ? 1 : 0): for 0 ≤ i, j < 2^31 the sign bit of j − i is 1 exactly when j < i.
    const a = eps[i]!;
    const b = eps[j + (((j - i) >>> 31) ^ 1)]!;
    return b.inFlight < a.inFlight ? b : a;
  }
}

/** N uniform candidates with replacement. */
class ManyChoicePicker implements Picker {
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
    private readonly choices: number,
  ) {}
  pick(): EndpointState | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    let best = eps[this.rng.below(n)]!;
    for (let k = 1; k < this.choices; k++) {
      const c = eps[this.rng.below(n)]!;
      if (c.inFlight < best.inFlight) best = c;
    }
    return best;
  }
}

/** Weighted candidates compared on inFlight^bias / weight (lower wins, ties to the first draw). */
class WeightedChoicePicker implements Picker {
  readonly #table: AliasTable;
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
    private readonly choices: number,
    private readonly bias: number,
  ) {
    this.#table = new AliasTable(endpoints.map((e) => e.effectiveWeight));
  }
  #load(e: EndpointState): number {
    const b = this.bias;
    return (b === 1 ? e.inFlight : b === 0 ? 0 : e.inFlight ** b) / e.effectiveWeight;
  }
  pick(): EndpointState | undefined {
    const eps = this.endpoints;
    let best = eps[this.#table.sample(this.rng.uniform())]!;
    let bestLoad = this.#load(best);
    for (let k = 1; k < this.choices; k++) {
      const c = eps[this.#table.sample(this.rng.uniform())]!;
      const load = this.#load(c);
      if (load < bestLoad) {
        best = c;
        bestLoad = load;
      }
    }
    return best;
  }
}

export const leastRequest: PolicyDefinition<LeastRequestOptions> = {
  name: LEAST_REQUEST,
  description: 'Fewest in-flight requests among N random candidates (default 2).',
  parse(raw, path) {
    const obj = readObject(raw, path, ['choiceCount', 'activeRequestBias']);
    return {
      choiceCount: readNumber(obj, 'choiceCount', path, { integer: true, min: 2, max: 100 }, 2),
      activeRequestBias: readNumber(obj, 'activeRequestBias', path, { min: 0, max: 10 }, 1),
    };
  },
  create(options, env): Policy {
    return {
      name: LEAST_REQUEST,
      build(endpoints) {
        if (!uniformWeights(endpoints)) {
          return new WeightedChoicePicker(
            endpoints,
            new Xorshift32(env.random),
            options.choiceCount,
            options.activeRequestBias,
          );
        }
        return options.choiceCount === 2
          ? new TwoChoicePicker(endpoints, env.random)
          : new ManyChoicePicker(endpoints, new Xorshift32(env.random), options.choiceCount);
      },
    };
  },
};
