import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Details of a request rejected locally by client-side adaptive throttling. */
export interface ThrottledErrorDetails {
  /** Name of the Balancer the request was meant for. */
  readonly balancer: string;
  /** The rejection probability in force when the request was rejected, from 0 to 1. */
  readonly probability: number;
  /** The failure that preceded this rejection, when a retry was throttled. */
  readonly cause?: unknown;
}

/**
 * A request was rejected locally, without any network call, by client-side adaptive throttling (Google SRE book,
 * "Handling Overload"): the backends have recently been refusing more requests than they accepted, so sending more
 * would only add load. Retrying at once is pointless; back off or shed the request.
 */
export class ThrottledError extends SwitchyardError {
  static readonly code = 'SY_ERR_THROTTLED';
  readonly balancer: string;
  readonly probability: number;

  constructor(details: ThrottledErrorDetails) {
    super(
      `${details.balancer}: request throttled locally (rejection probability ${details.probability.toFixed(3)})`,
      ThrottledError.code,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'ThrottledError';
    this.balancer = details.balancer;
    this.probability = details.probability;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, ThrottledError.code);
  }
}

/** Type guard for {@link ThrottledError}. */
export function isThrottledError(value: unknown): value is ThrottledError {
  return hasErrorCode(value, ThrottledError.code);
}
