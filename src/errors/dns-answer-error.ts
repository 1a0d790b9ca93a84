import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Details of a {@link DnsAnswerError}. */
export interface DnsAnswerErrorDetails {
  /** The name whose answer was rejected. */
  readonly hostname: string;
  /** Which part of the answer, e.g. `SRV[3].port` or `A[0].address`. */
  readonly field: string;
  /** What a valid value looks like. */
  readonly allowed: string;
  readonly received?: unknown;
}

/**
 * A DNS answer arrived but could not be turned into endpoints: a malformed record, an SRV port of 0, more records
 * than `maxEndpoints`, too many priority levels. The whole answer is rejected (never half-applied) and the last
 * good endpoint set kept, the same rule the Balancer applies to any bad update. Match on `code`
 * (`SY_ERR_DNS_ANSWER`).
 */
export class DnsAnswerError extends SwitchyardError {
  static readonly code = 'SY_ERR_DNS_ANSWER';
  readonly hostname: string;
  readonly field: string;
  readonly allowed: string;
  readonly received: unknown;

  constructor(details: DnsAnswerErrorDetails) {
    super(
      `dns: answer for ${details.hostname} rejected: ${details.field}: expected ${details.allowed}, got ${describe(details.received)}`,
      DnsAnswerError.code,
    );
    this.name = 'DnsAnswerError';
    this.hostname = details.hostname;
    this.field = details.field;
    this.allowed = details.allowed;
    this.received = details.received;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, DnsAnswerError.code);
  }
}

/** Type guard for {@link DnsAnswerError}. */
export function isDnsAnswerError(value: unknown): value is DnsAnswerError {
  return hasErrorCode(value, DnsAnswerError.code);
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
