/**
 * Lifetime counters of the executor ({@link execute}): requests that ended without a usable attempt. They are facts
 * about running requests, not about any one policy, so they live in their own object that the caller of `execute`
 * owns and passes as `stats`.
 */

/** A snapshot of {@link ExecutorStats}. */
export interface ExecutorStatsSnapshot {
  /** Requests (or retries, hedges) that failed fast because a circuit-breaker limit was reached. */
  readonly overflow: number;
  /** Requests (or retries, hedges) that failed fast because no endpoint was routable. */
  readonly noEndpoint: number;
  /** Attempts rejected by adaptive throttling. */
  readonly throttled: number;
  /** Requests that hit the overall deadline. */
  readonly deadlineExceeded: number;
}

/** Counters the executor bumps with plain field writes (no allocation on the request path). */
export class ExecutorStats implements ExecutorStatsSnapshot {
  overflow = 0;
  noEndpoint = 0;
  throttled = 0;
  deadlineExceeded = 0;

  /** A copy of the counters. Allocates; not for the hot path. */
  snapshot(): ExecutorStatsSnapshot {
    return {
      overflow: this.overflow,
      noEndpoint: this.noEndpoint,
      throttled: this.throttled,
      deadlineExceeded: this.deadlineExceeded,
    };
  }
}
