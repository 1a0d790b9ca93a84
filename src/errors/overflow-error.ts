import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Which circuit-breaker limit was hit. */
export type OverflowLimit = 'maxRequests' | 'maxRequestsPerEndpoint' | 'maxPending';

/** Details of a request refused by circuit breaking. */
export interface OverflowErrorDetails {
  /** Name of the Balancer whose limit was reached. */
  readonly balancer: string;
  /** The limit that was reached. */
  readonly limit: OverflowLimit;
  /** The failure that preceded this one, when a retry overflowed. */
  readonly cause?: unknown;
}

/**
 * A request failed fast because a circuit-breaker limit was reached (Envoy's `upstream_rq_pending_overflow`): the
 * balancer already has `maxRequests` in flight, every routable endpoint is at `maxRequestsPerEndpoint`, or
 * `maxPending` requests are queued. No network call was made.
 */
export class OverflowError extends SwitchyardError {
  static readonly code = 'SY_ERR_OVERFLOW';
  readonly balancer: string;
  readonly limit: OverflowLimit;

  constructor(details: OverflowErrorDetails) {
    super(
      `${details.balancer}: circuit breaker open (${details.limit} reached)`,
      OverflowError.code,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'OverflowError';
    this.balancer = details.balancer;
    this.limit = details.limit;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, OverflowError.code);
  }
}

/** Type guard for {@link OverflowError}. */
export function isOverflowError(value: unknown): value is OverflowError {
  return hasErrorCode(value, OverflowError.code);
}
