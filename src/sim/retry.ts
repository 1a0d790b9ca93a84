/**
 * Retries in the simulator: how many attempts, on which failures, after what backoff, and (once a budget is
 * configured) whether the client's retry budget allows one more.
 *
 * Each retry goes back through the client's Balancer with the endpoints already tried excluded, as the adapters
 * do, so the policy under test also decides where retries land.
 */

import type { FailureKind } from '../balancer/outcome.js';
import { checkNumber, join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import type { RandomSource } from '../random.js';

/** Retry settings of one configuration, as JSON. */
export interface RetryConfig {
  /** Attempts per request including the first. Integer from 1 to 10. Default 3 when a `retry` section is given. */
  readonly maxAttempts?: number;
  /** First backoff, ms; full jitter (a uniform draw up to base × 2^(retry−1)). From 0 to 60,000. Default 25 (Envoy). */
  readonly backoffBaseMs?: number;
  /** Cap on one backoff, ms. From 0 to 600,000. Default 250 (Envoy: 10 × base). */
  readonly backoffMaxMs?: number;
  /** Failure kinds to retry. Default all but `cancelled` and `other`. */
  readonly on?: readonly FailureKind[];
}

/** Validated retry settings. */
export interface RetryPlan {
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly on: ReadonlySet<FailureKind>;
}

/** No retries: one attempt per request. */
export const NO_RETRY: RetryPlan = Object.freeze({
  maxAttempts: 1,
  backoffBaseMs: 0,
  backoffMaxMs: 0,
  on: new Set<FailureKind>(),
});

const KINDS: readonly FailureKind[] = ['connect', 'reset', 'timeout', 'status', 'overloaded'];

/** Validates a `retry` section; `undefined` means no retries. */
export function parseRetry(input: unknown, path: string): RetryPlan {
  if (input === undefined) return NO_RETRY;
  const obj = readObject(input, path, ['maxAttempts', 'backoffBaseMs', 'backoffMaxMs', 'on']);
  const on = obj.on === undefined ? KINDS : obj.on;
  if (!Array.isArray(on) || on.some((k) => !KINDS.includes(k as FailureKind))) {
    throw new ConfigError({
      field: join(path, 'on'),
      allowed: `an array of ${KINDS.map((k) => `"${k}"`).join(', ')}`,
      received: obj.on,
    });
  }
  const backoffBaseMs = readNumber(obj, 'backoffBaseMs', path, { min: 0, max: 60_000 }, 25);
  return {
    maxAttempts: readNumber(obj, 'maxAttempts', path, { integer: true, min: 1, max: 10 }, 3),
    backoffBaseMs,
    backoffMaxMs:
      obj.backoffMaxMs === undefined
        ? Math.max(backoffBaseMs, 10 * backoffBaseMs)
        : checkNumber(obj.backoffMaxMs, join(path, 'backoffMaxMs'), { min: backoffBaseMs, max: 600_000 }),
    on: new Set(on as FailureKind[]),
  };
}

/** Backoff before retry number `retry` (1-based): full jitter over an exponential ceiling. */
export function backoffDelay(plan: RetryPlan, retry: number, random: RandomSource): number {
  if (plan.backoffBaseMs === 0) return 0;
  const ceiling = Math.min(plan.backoffMaxMs, plan.backoffBaseMs * 2 ** (retry - 1));
  return random() * ceiling;
}
