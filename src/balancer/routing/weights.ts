/**
 * Weight helpers shared by the weighted pickers.
 */
import type { EndpointState } from '../endpoint-state.js';

/** True when every endpoint has the same effective weight (the pickers then take their unweighted fast path). */
export function uniformWeights(endpoints: readonly EndpointState[]): boolean {
  const first = endpoints[0]?.effectiveWeight;
  for (let i = 1; i < endpoints.length; i++) if (endpoints[i]!.effectiveWeight !== first) return false;
  return true;
}

/**
 * Vose's alias table: O(n) to build, O(1) to sample an index with probability proportional to its weight, from a
 * single uniform draw (the integer part picks a column, the fractional part flips that column's biased coin).
 */
export class AliasTable {
  readonly size: number;
  readonly #prob: Float64Array;
  readonly #alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    this.size = n;
    this.#prob = new Float64Array(n);
    this.#alias = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      (scaled[i]! < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.#prob[s] = scaled[s]!;
      this.#alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // Leftovers are 1 up to rounding error.
    for (const i of large) this.#prob[i] = 1;
    for (const i of small) this.#prob[i] = 1;
  }

  /** Maps one uniform draw in [0, 1) to an index. */
  sample(u: number): number {
    const x = u * this.size;
    const column = x | 0;
    return x - column < this.#prob[column]! ? column : this.#alias[column]!;
  }
}
