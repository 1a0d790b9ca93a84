import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/**
 * How a failed DNS query is treated by the DNS resolver.
 *
 * - `not-found`: the server answered authoritatively that the name has no such records (NXDOMAIN, surfaced by
 *   node:dns as `ENOTFOUND`, or NODATA, `ENODATA`). The name really has nothing; whether that may empty the endpoint
 *   set is the resolver's `notFound` option.
 * - `transient`: no usable answer at all (SERVFAIL, REFUSED, timeout, connection refused, a malformed response).
 *   Says nothing about the name; the last-known-good set is always kept.
 */
export type DnsFailureKind = 'not-found' | 'transient';

/** Details of a {@link DnsResolutionError}. */
export interface DnsResolutionErrorDetails {
  /** The name that was queried, e.g. `orders.internal` or `_http._tcp.orders.internal`. */
  readonly hostname: string;
  /** The record type that was queried. */
  readonly rrtype: 'A' | 'AAAA' | 'SRV';
  /** The node:dns error code, e.g. `ENOTFOUND`, `ESERVFAIL`, `ETIMEOUT`, `ECONNREFUSED`. */
  readonly dnsCode: string;
  readonly kind: DnsFailureKind;
  readonly cause?: unknown;
}

/**
 * A DNS query failed. Reported through the resolver listener's `onError` (the Balancer re-emits it as
 * `resolver-error`); the endpoint set is kept (see {@link DnsFailureKind} for the one exception). Match on `code`
 * (`SY_ERR_DNS_RESOLUTION`) and `kind`.
 */
export class DnsResolutionError extends SwitchyardError {
  static readonly code = 'SY_ERR_DNS_RESOLUTION';
  readonly hostname: string;
  readonly rrtype: 'A' | 'AAAA' | 'SRV';
  readonly dnsCode: string;
  readonly kind: DnsFailureKind;

  constructor(details: DnsResolutionErrorDetails) {
    super(
      `dns: ${details.rrtype} ${details.hostname} failed with ${details.dnsCode} (${details.kind})`,
      DnsResolutionError.code,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'DnsResolutionError';
    this.hostname = details.hostname;
    this.rrtype = details.rrtype;
    this.dnsCode = details.dnsCode;
    this.kind = details.kind;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, DnsResolutionError.code);
  }
}

/** Type guard for {@link DnsResolutionError}. */
export function isDnsResolutionError(value: unknown): value is DnsResolutionError {
  return hasErrorCode(value, DnsResolutionError.code);
}
