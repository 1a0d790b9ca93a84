import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Details of a timeout. */
export interface DeadlineExceededErrorDetails {
  /** Name of the Balancer the request went through. */
  readonly balancer: string;
  /** `'request'`: the overall deadline (all attempts and backoff); `'attempt'`: one attempt's per-try timeout. */
  readonly scope: 'request' | 'attempt';
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;
  /** The last attempt's failure, if any. */
  readonly cause?: unknown;
}

/**
 * A deadline passed: the overall request deadline (`retry.deadlineMs`), or a single attempt's per-try timeout
 * (`retry.perTryTimeoutMs`) when that was the last failure. The attempt in flight was aborted.
 */
export class DeadlineExceededError extends SwitchyardError {
  static readonly code = 'SY_ERR_DEADLINE';
  readonly balancer: string;
  readonly scope: 'request' | 'attempt';
  readonly timeoutMs: number;

  constructor(details: DeadlineExceededErrorDetails) {
    super(
      `${details.balancer}: ${details.scope === 'request' ? 'deadline' : 'per-try timeout'} of ${details.timeoutMs} ms exceeded`,
      DeadlineExceededError.code,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'DeadlineExceededError';
    this.balancer = details.balancer;
    this.scope = details.scope;
    this.timeoutMs = details.timeoutMs;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, DeadlineExceededError.code);
  }
}

/** Type guard for {@link DeadlineExceededError}. */
export function isDeadlineExceededError(value: unknown): value is DeadlineExceededError {
  return hasErrorCode(value, DeadlineExceededError.code);
}
