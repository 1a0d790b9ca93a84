/**
 * Retries and client-side throttling in the simulator, done by the library's own mechanisms: each client gets a
 * real {@link RetryPolicy} (retryable failures, attempts, jittered backoff, its retry budget) and, when configured,
 * a real {@link AdaptiveThrottle}, both on the simulation's clock and seeded random sources. The engine consults
 * them in the order switchyard's executor does: throttle before every attempt, budget deposit per request,
 * `decide()` after every failed attempt, and each retry goes back through the client's Balancer with the endpoints
 * already tried excluded.
 */
import type { Clock } from '../clock.js';
import { join } from '../config/validate.js';
import type { RandomSource } from '../random.js';
import { AdaptiveThrottle, type AdaptiveThrottleOptions } from '../resilience/adaptive-throttle.js';
import type { RetryBudgetOptions } from '../resilience/retry-budget.js';
import { RetryPolicy, type RetryPolicyOptions } from '../resilience/retry-policy.js';
import { withFieldPrefix } from './field-prefix.js';

/**
 * Retry settings of one configuration: {@link RetryPolicyOptions} as plain JSON — `maxAttempts` (default 3),
 * `retryOn`, `perTryTimeoutMs` (overrides the fleet's `timeoutMs`), `deadlineMs`, `backoff` (`baseMs` 25, `maxMs`
 * 250), `budget` (retry-budget options, or `false` for none; default 20 % + 10/s over 10 s). See docs/retries.md.
 */
export type RetryConfig = Omit<RetryPolicyOptions, 'budget'> & {
  readonly budget?: RetryBudgetOptions | false;
};

/** Validated retry and throttle settings of a configuration; builds the per-client instances. */
export interface RetryPlan {
  /** True when the configuration retries at all. */
  readonly enabled: boolean;
  /** Per-try timeout from the retry policy, if set (ms). */
  readonly perTryTimeoutMs: number | undefined;
  /** A retry policy for one client, or `undefined` when retries are off. */
  policy(clock: Clock, random: RandomSource): RetryPolicy | undefined;
  /** An adaptive throttle for one client, or `undefined` when throttling is off. */
  throttle(clock: Clock, random: RandomSource): AdaptiveThrottle | undefined;
}

/** No retries, no throttling: one attempt per request. */
export const NO_RETRY: RetryPlan = Object.freeze({
  enabled: false,
  perTryTimeoutMs: undefined,
  policy: () => undefined,
  throttle: () => undefined,
});

/**
 * Validates a configuration's `retry` and `throttle` sections by building the real objects once; their
 * {@link ConfigError}s are re-issued with the full path (`configurations[2].retry.backoff.maxMs`).
 */
export function parseRetry(retry: unknown, throttle: unknown, path: string): RetryPlan {
  if (retry === undefined && throttle === undefined) return NO_RETRY;
  const retryOptions = retry as RetryPolicyOptions | undefined;
  const throttleOptions = throttle as AdaptiveThrottleOptions | undefined;
  const probe =
    retryOptions === undefined
      ? undefined
      : withFieldPrefix(() => new RetryPolicy(retryOptions), path, under('retry'));
  if (throttleOptions !== undefined) {
    withFieldPrefix(() => new AdaptiveThrottle(throttleOptions), path, under('throttle'));
  }
  return {
    enabled: retryOptions !== undefined,
    perTryTimeoutMs: probe?.perTryTimeoutMs,
    policy: (clock, random) =>
      retryOptions === undefined ? undefined : new RetryPolicy(retryOptions, { clock, random }),
    throttle: (clock, random) =>
      throttleOptions === undefined ? undefined : new AdaptiveThrottle(throttleOptions, clock, random),
  };
}

/** Field names of the resilience classes start with their own prefix (`retry.backoff.maxMs`); keep it once. */
function under(prefix: string): (field: string) => string {
  return (field) => (field.startsWith(prefix) ? field : join(prefix, field));
}
