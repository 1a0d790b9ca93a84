import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Details of a pick that found nothing routable. */
export interface NoEndpointErrorDetails {
  /** Name of the Balancer that had no endpoint. */
  readonly balancer: string;
  /** The failure that preceded this one, when a retry found no endpoint. */
  readonly cause?: unknown;
}

/**
 * No endpoint could be picked: the balancer has no routable endpoint (none resolved yet, all removed, or it is
 * closed). `balancer.tryPick()` answered `'unavailable'`. No network call was made.
 */
export class NoEndpointError extends SwitchyardError {
  static readonly code = 'SY_ERR_NO_ENDPOINT';
  readonly balancer: string;

  constructor(details: NoEndpointErrorDetails) {
    super(
      `${details.balancer}: no routable endpoint`,
      NoEndpointError.code,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'NoEndpointError';
    this.balancer = details.balancer;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, NoEndpointError.code);
  }
}

/** Type guard for {@link NoEndpointError}. */
export function isNoEndpointError(value: unknown): value is NoEndpointError {
  return hasErrorCode(value, NoEndpointError.code);
}
