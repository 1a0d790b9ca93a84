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
 * Retry-After parsing is HTTP semantics (semantics/http.ts, with gRPC's `grpc-retry-pushback-ms`); re-exported here,
 * where it was first published, for {@link ExponentialBackoff.delay}'s callers.
 */
export { parseRetryAfter } from '../semantics/http.js';
