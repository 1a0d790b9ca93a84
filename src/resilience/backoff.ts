/**
 * Exponential backoff with full jitter, honouring a server's Retry-After.
 *
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): the n-th retry waits a uniform
 * random time in [0, min(max, base × 2^(n−1))). Spreading retries over the whole interval, rather than around its
 * end, de-synchronises clients that failed together, so their retries do not arrive as one more spike. Defaults
 * are Linkerd's (25 ms to 250 ms); Envoy uses the same base with max = 10 × base.
 */
import { join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { defaultRandom, type RandomSource } from '../random.js';

/** Options of {@link ExponentialBackoff}. Plain JSON. */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay, in ms, > 0 and ≤ 3,600,000. Default 25 (Linkerd, Envoy). */
  readonly baseMs?: number;
  /** Cap of the delay's upper bound, in ms, ≥ `baseMs` and ≤ 3,600,000. Default 250 (Linkerd; Envoy 10 × base). */
  readonly maxMs?: number;
  /**
   * Longest server-requested delay (Retry-After, gRPC pushback) honoured, in ms, from 0 to 3,600,000; longer
   * requests are cut to this. Default 30,000 (undici RetryHandler's `maxTimeout`).
   */
  readonly maxRetryAfterMs?: number;
}

/** Defaults of {@link BackoffOptions}. */
export const defaultBackoffOptions = {
  baseMs: 25,
  maxMs: 250,
  maxRetryAfterMs: 30_000,
} as const;

const KEYS = ['baseMs', 'maxMs', 'maxRetryAfterMs'];
const MAX_MS = 3_600_000;

/** Computes retry delays. Stateless apart from its options; one instance can serve every request. */
export class ExponentialBackoff {
  /** The validated options, with defaults applied. */
  readonly options: Required<BackoffOptions>;
  readonly #random: RandomSource;

  /**
   * @param options plain-JSON options; {@link ConfigError} on anything out of range.
   * @param random uniform [0, 1) source; override with `seededRandom(n)` for deterministic tests.
   */
  constructor(options: BackoffOptions = {}, random: RandomSource = defaultRandom()) {
    this.options = parseBackoffOptions(options, 'backoff');
    this.#random = random;
  }

  /**
   * Delay before retry number `retryNumber` (1 for the first retry), in ms: uniform in
   * [0, min(maxMs, baseMs × 2^(retryNumber−1))). When the server asked for a delay (`retryAfterMs`, parsed by the
   * adapter from Retry-After or gRPC pushback), that delay is used instead, capped at `maxRetryAfterMs`: the server
   * knows better than our guess, and jittering below what it asked for would only get us refused again.
   */
  delay(retryNumber: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined && retryAfterMs >= 0) {
      return Math.min(retryAfterMs, this.options.maxRetryAfterMs);
    }
    if (!(retryNumber >= 1)) throw new RangeError(`retryNumber must be >= 1, got ${retryNumber}`);
    const ceiling = Math.min(this.options.maxMs, this.options.baseMs * 2 ** (retryNumber - 1));
    return this.#random() * ceiling;
  }
}

/** Validates {@link BackoffOptions}; `path` prefixes field names in errors. */
export function parseBackoffOptions(raw: unknown, path: string): Required<BackoffOptions> {
  const obj = readObject(raw, path, KEYS);
  const baseMs = readNumber(
    obj,
    'baseMs',
    path,
    { min: 0, exclusiveMin: true, max: MAX_MS },
    defaultBackoffOptions.baseMs,
  );
  const maxMs = readNumber(
    obj,
    'maxMs',
    path,
    { min: 0, max: MAX_MS },
    Math.max(baseMs, defaultBackoffOptions.maxMs),
  );
  if (maxMs < baseMs) {
    throw new ConfigError({
      field: join(path, 'maxMs'),
      allowed: `a number >= baseMs (${baseMs})`,
      received: maxMs,
    });
  }
  const maxRetryAfterMs = readNumber(
    obj,
    'maxRetryAfterMs',
    path,
    { min: 0, max: MAX_MS },
    defaultBackoffOptions.maxRetryAfterMs,
  );
  return { baseMs, maxMs, maxRetryAfterMs };
}

/**
 * Parses an HTTP `Retry-After` header (RFC 9110 §10.2.3) into a delay in ms for {@link ExponentialBackoff.delay}:
 * either delay-seconds (`"120"`) or an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, measured from `nowEpochMs`,
 * never negative). Returns `undefined` for a missing or malformed value, so the jittered backoff applies instead.
 * For several headers, the first is used.
 *
 * gRPC's equivalent, `grpc-retry-pushback-ms` (gRFC A6), is already in ms; a negative or unparseable pushback means
 * "do not retry", which an adapter expresses with `retryable: false` in its classification.
 */
export function parseRetryAfter(
  header: string | readonly string[] | undefined,
  nowEpochMs: number = Date.now(),
): number | undefined {
  const value = (typeof header === 'string' ? header : header?.[0])?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date (IMF-fixdate, RFC 850 or asctime) starts with a weekday and ends in GMT or a year; Date.parse
  // alone would also accept things like "May 5".
  if (!/^[A-Za-z]{3,9},? .*(?:GMT|\d{4})$/.test(value)) return undefined;
  // asctime carries no zone; HTTP dates are always UTC, so say so rather than let Date.parse assume local time.
  const at = Date.parse(value.endsWith('GMT') ? value : `${value} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}
