/**
 * Errors the undici adapter hands to callers. Users of undici match on undici's classes and codes, so we keep them:
 * errors from a Pool pass through unchanged in class and code, with the endpoint named; the adapter's own
 * "nothing to send to" error subclasses undici's `BalancedPoolMissingUpstreamError` (what `BalancedPool` throws
 * in the same situation), so existing `instanceof` checks and `code === 'UND_ERR_BPL_MISSING_UPSTREAM'` still work.
 */
import { errors } from 'undici';

/** Why no endpoint could be picked: nothing routable, or every routable endpoint at its in-flight limit. */
export type NoEndpointReason = 'unavailable' | 'overflow';

/**
 * No endpoint could take the request. `code` stays undici's `UND_ERR_BPL_MISSING_UPSTREAM`; `reason` says why and
 * `balancer` names the service.
 */
export class NoEndpointAvailableError extends errors.BalancedPoolMissingUpstreamError {
  readonly reason: NoEndpointReason;
  readonly balancer: string;

  constructor(balancer: string, reason: NoEndpointReason) {
    super(
      reason === 'overflow'
        ? `switchyard: every endpoint of "${balancer}" is at its in-flight limit`
        : `switchyard: no routable endpoint for "${balancer}"`,
    );
    this.reason = reason;
    this.balancer = balancer;
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
