/**
 * A percentile over the most recent latencies, for hedging delays: a fixed ring of samples, sorted into a scratch
 * array only every {@link RECOMPUTE_EVERY} observations. Allocation-free after construction: observing writes one
 * number, reading the percentile is a field read.
 *
 * Why a ring rather than a P² estimator: P² tracks the quantile of the whole history and adapts slowly after a
 * shift, while a hedge delay must follow the backend's latency *now*; a ring of the last 256 samples forgets in
 * 256 requests. Sorting 256 doubles every 32 samples costs well under a microsecond per observation.
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
    const scratch = this.#scratch;
    // Unfilled slots sort to the end as +Infinity, so the whole fixed-size array can be sorted without a subarray.
    scratch.set(this.#ring);
    if (this.#count < WINDOW_SIZE) scratch.fill(Number.POSITIVE_INFINITY, this.#count);
    scratch.sort();
    const rank = Math.max(1, Math.ceil(this.#quantile * this.#count));
    this.#value = scratch[rank - 1]!;
  }
}
