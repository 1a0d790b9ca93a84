/**
 * What a simulation run measures: client-visible latency of every successful request (exact percentiles from a
 * sorted array: a million doubles sort in ~100 ms), errors, retries, and how many attempts each backend got per
 * time bucket (the load-over-time chart).
 */

/** Latency percentiles of successful requests, in ms. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export class Recorder {
  #latencies = new Float64Array(1 << 16);
  #count = 0;
  errors = 0;
  retries = 0;
  /** Errors by final failure kind (plus `unavailable` when the balancer had nothing to pick). */
  readonly errorKinds = new Map<string, number>();
  readonly #buckets: Float64Array;
  readonly #bucketMs: number;
  readonly #bucketCount: number;
  readonly #backends: number;

  constructor(backends: number, durationMs: number, bucketMs: number) {
    this.#backends = backends;
    this.#bucketMs = bucketMs;
    this.#bucketCount = Math.max(1, Math.ceil(durationMs / bucketMs));
    this.#buckets = new Float64Array(backends * this.#bucketCount);
  }

  success(latencyMs: number): void {
    if (this.#count === this.#latencies.length) {
      const grown = new Float64Array(this.#latencies.length * 2);
      grown.set(this.#latencies);
      this.#latencies = grown;
    }
    this.#latencies[this.#count++] = latencyMs;
  }

  failure(kind: string): void {
    this.errors++;
    this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
  }

  /** One attempt sent to backend `index` at `now`. */
  attempt(index: number, now: number): void {
    const bucket = (now / this.#bucketMs) | 0;
    if (bucket < this.#bucketCount) this.#buckets[bucket * this.#backends + index]!++;
  }

  get successes(): number {
    return this.#count;
  }

  /** Latencies of successful requests, sorted ascending. */
  sortedLatencies(): Float64Array {
    return this.#latencies.slice(0, this.#count).sort();
  }

  /** Attempts per second sent to each backend, per bucket: `[backend][bucket]`. */
  loadSeries(): number[][] {
    const out: number[][] = [];
    const perSecond = 1000 / this.#bucketMs;
    for (let b = 0; b < this.#backends; b++) {
      const series: number[] = [];
      for (let t = 0; t < this.#bucketCount; t++)
        series.push(this.#buckets[t * this.#backends + b]! * perSecond);
      out.push(series);
    }
    return out;
  }
}

/** The value at quantile `q` (0–1) of an ascending array, nearest-rank; NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function summarize(sorted: Float64Array): LatencySummary {
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}
