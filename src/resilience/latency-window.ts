/**
 * A percentile over the most recent latencies, for hedging delays: a fixed ring of samples, from which the
 * percentile is re-selected (quickselect into a scratch array) every {@link RECOMPUTE_EVERY} observations.
 * Allocation-free after construction: observing writes one number, reading the percentile is a field read.
 *
 * Why a ring rather than a P² estimator: P² tracks the quantile of the whole history and adapts slowly after a
 * shift, while a hedge delay must follow the backend's latency *now*; a ring of the last 256 samples forgets in
 * 256 requests. Quickselect over 256 doubles is O(n) — a few hundred comparisons every 32 samples — where a sort
 * would be O(n log n) and `TypedArray.prototype.sort` allocates a copy.
 */

/** Samples kept. */
export const WINDOW_SIZE = 256;
/** Observations between two recomputations of the percentile. */
export const RECOMPUTE_EVERY = 32;

export class LatencyWindow {
  readonly #ring = new Float64Array(WINDOW_SIZE);
  readonly #scratch = new Float64Array(WINDOW_SIZE);
  readonly #quantile: number;
  #count = 0;
  #next = 0;
  #sinceRecompute = 0;
  #value = Number.NaN;

  /** @param percentile from 0 (exclusive) to 100 (inclusive), e.g. 95. */
  constructor(percentile: number) {
    this.#quantile = percentile / 100;
  }

  /** Records one latency, in ms. */
  observe(latencyMs: number): void {
    this.#ring[this.#next] = latencyMs;
    this.#next = (this.#next + 1) % WINDOW_SIZE;
    if (this.#count < WINDOW_SIZE) this.#count++;
    if (++this.#sinceRecompute >= RECOMPUTE_EVERY) this.#recompute();
  }

  /** Samples held (at most {@link WINDOW_SIZE}). */
  get count(): number {
    return this.#count;
  }

  /**
   * The percentile as of the last recomputation, in ms; `NaN` until {@link RECOMPUTE_EVERY} samples were seen.
   * Nearest-rank definition.
   */
  get value(): number {
    return this.#value;
  }

  #recompute(): void {
    this.#sinceRecompute = 0;
    const n = this.#count;
    const scratch = this.#scratch;
    scratch.set(this.#ring);
    const rank = Math.max(1, Math.ceil(this.#quantile * n));
    this.#value = select(scratch, n, rank - 1);
  }
}

/**
 * The k-th smallest (0-based) of `a[0..n)`, rearranging `a` (Hoare's quickselect, median-of-three pivot).
 * Expected O(n); no allocation.
 */
export function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot: sorted inputs (latencies often are) stay O(n).
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
