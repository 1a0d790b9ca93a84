/**
 * Errors the undici adapter hands to callers. Users of undici match on undici's classes and codes, so we keep them:
 * errors from a Pool pass through unchanged in class and code, with the endpoint named; the adapter's own
 * "nothing to send to" error subclasses undici's `BalancedPoolMissingUpstreamError` (what `BalancedPool` throws
 * in the same situation), so existing `instanceof` checks and `code === 'UND_ERR_BPL_MISSING_UPSTREAM'` still work.
 */
import { errors } from 'undici';

/**
 * Why no endpoint could be picked: nothing routable, every routable endpoint at its in-flight limit (circuit
 * breaking), or adaptive throttling rejected the request locally.
 */
export type NoEndpointReason = 'unavailable' | 'overflow' | 'throttled';

/**
 * No endpoint could take the request. `code` stays undici's `UND_ERR_BPL_MISSING_UPSTREAM`; `reason` says why and
 * `balancer` names the service.
 */
export class NoEndpointAvailableError extends errors.BalancedPoolMissingUpstreamError {
  readonly reason: NoEndpointReason;
  readonly balancer: string;

  constructor(balancer: string, reason: NoEndpointReason, cause?: unknown) {
    super(MESSAGES[reason](balancer));
    this.reason = reason;
    this.balancer = balancer;
    if (cause !== undefined) this.cause = cause;
  }
}

const MESSAGES: Record<NoEndpointReason, (balancer: string) => string> = {
  unavailable: (b) => `switchyard: no routable endpoint for "${b}"`,
  overflow: (b) => `switchyard: every endpoint of "${b}" is at its in-flight limit`,
  throttled: (b) => `switchyard: request to "${b}" rejected by adaptive throttling`,
};

/**
 * No response headers before the retry policy's per-try timeout or overall deadline. Subclasses undici's
 * `HeadersTimeoutError` (code `UND_ERR_HEADERS_TIMEOUT`): to a caller it is the same situation, bounded by our
 * policy instead of the Pool's `headersTimeout`. `scope` says which limit fired; `cause` is switchyard's
 * `DeadlineExceededError`.
 */
export class RequestTimeoutError extends errors.HeadersTimeoutError {
  readonly scope: 'request' | 'attempt';
  readonly balancer: string;

  constructor(balancer: string, scope: 'request' | 'attempt', timeoutMs: number, cause: unknown) {
    super(
      scope === 'request'
        ? `switchyard: no response from "${balancer}" within the ${timeoutMs} ms deadline`
        : `switchyard: no response from "${balancer}" within the ${timeoutMs} ms per-try timeout`,
    );
    this.scope = scope;
    this.balancer = balancer;
    this.cause = cause;
  }
}

/** Fields the adapter adds to errors it passes through. */
export interface EndpointErrorFields {
  /** Address (`host:port`) of the endpoint the failed attempt went to. */
  endpoint?: string;
  /** Name of the balancer (the logical service). */
  balancer?: string;
}

/**
 * Names the endpoint on an error from a Pool, keeping its class, code and identity: adds `endpoint` and `balancer`
 * properties and, unless the message already contains the address (Node's ECONNREFUSED messages do), appends it.
 */
export function nameEndpoint<E>(error: E, balancer: string, address: string): E {
  if (typeof error !== 'object' || error === null) return error;
  const fields = error as EndpointErrorFields & { message?: unknown };
  if (fields.endpoint !== undefined) return error;
  try {
    fields.endpoint = address;
    fields.balancer = balancer;
    if (typeof fields.message === 'string' && !fields.message.includes(address)) {
      fields.message = `${fields.message} (endpoint ${address} of "${balancer}")`;
    }
  } catch {
    // A frozen error: leave it as it is rather than replace it with another object.
  }
  return error;
}
