/**
 * The resilience options of a grpc-js channel: `retry`, `throttle` and `idempotentMethods`, given to
 * `channelOptions()` next to the LB config or to `switchyardInterceptor()` directly. They configure the client
 * interceptor (interceptor.ts), which runs retries through the shared executor; they are not part of the service
 * config, since a service config cannot carry an interceptor.
 */
import { systemClock } from '../clock.js';
import { join, readBoolean, readObject, readOptionalNumber } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { AdaptiveThrottle, type AdaptiveThrottleOptions } from '../resilience/adaptive-throttle.js';
import type { BackoffOptions } from '../resilience/backoff.js';
import { type HedgingOptions, HedgingPolicy } from '../resilience/hedging.js';
import type { RetryBudgetConfig } from '../resilience/retry-budget.js';
import { type GrpcCodeName, RetryPolicy } from '../resilience/retry-policy.js';
import { GRPC_STATUS_CODES } from '../semantics/status.js';
import { parseStatusList, statusName } from './status.js';

/** Retries of gRPC calls. Plain JSON, except `budget` may be a shared `RetryBudget`. */
export interface GrpcRetryOptions {
  /** Most attempts per call, including the first; 1 to 10. Default 3 (as the undici adapter; gRFC A6 caps at 5). */
  readonly maxAttempts?: number;
  /**
   * Status codes retried for **every** call, as names or numbers. Default `['UNAVAILABLE']`: gRPC's code for "the
   * service is unavailable, retry with backoff" (gRFC A6), which is also what a call gets when its connection fails.
   */
  readonly codes?: readonly (GrpcCodeName | number)[];
  /**
   * Status codes retried only for idempotent calls (methods in `idempotentMethods`, or calls whose metadata options
   * say `idempotentRequest`), on top of `codes`. Default none. E.g. `['INTERNAL', 'RESOURCE_EXHAUSTED']`.
   */
  readonly idempotentCodes?: readonly (GrpcCodeName | number)[];
  /**
   * Timeout of each attempt, in ms (> 0, ≤ 3,600,000), inside the call's own deadline: an attempt still unanswered
   * then ends with `DEADLINE_EXCEEDED` and, for idempotent calls, is retried on another endpoint. Default none.
   */
  readonly perTryTimeoutMs?: number;
  /** Retry per-try timeouts of idempotent calls. Default `true` (Envoy retries per-try timeouts). */
  readonly timeouts?: boolean;
  /**
   * Retry idempotent calls whose stream the server or its connection cut (`CANCELLED` the caller did not ask for:
   * a server shutting down cancels the calls it holds). Default `true` (Envoy `reset`).
   */
  readonly resets?: boolean;
  /** Backoff between attempts (docs/retries.md). Default 25 ms base, 250 ms max, full jitter. */
  readonly backoff?: BackoffOptions;
  /** The retry budget (docs/retries.md). Default one per Balancer: 20 % of calls + 10/s, 10 s ttl. */
  readonly budget?: RetryBudgetConfig;
}

/** The resilience options of a channel. */
export interface GrpcResilienceOptions {
  /** Retries through the shared executor: `true` for the defaults, or options. Default off. */
  readonly retry?: boolean | GrpcRetryOptions;
  /**
   * Hedged calls (docs/retries.md, "Hedging"): the same options and validation as the undici adapter's `hedging` —
   * a {@link HedgingPolicy} or its options (`delayMs`, `percentile`, `maxHedges`, `budget`). Only unary calls of
   * methods declared idempotent (`idempotentMethods`, or `idempotentRequest` per call) are hedged; a hedge goes to
   * an endpoint not yet tried and is paid from the retry budget (`retry`'s, else the policy's own). Default off.
   */
  readonly hedging?: HedgingPolicy | HedgingOptions | false;
  /** Client-side adaptive throttling (Google SRE book): `true` for the defaults, or options. Default off. */
  readonly throttle?: boolean | AdaptiveThrottleOptions;
  /**
   * Methods safe to repeat, as full paths (`/pkg.Service/Method`) or a whole service (`/pkg.Service/*`): their calls
   * may also be retried on `idempotentCodes` and per-try timeouts. Default none.
   */
  readonly idempotentMethods?: readonly string[];
}

/** Defaults of {@link GrpcRetryOptions}. */
export const defaultGrpcRetryOptions = {
  maxAttempts: 3,
  codes: ['UNAVAILABLE'],
  idempotentCodes: [],
  timeouts: true,
  resets: true,
} as const;

/** The validated form of {@link GrpcResilienceOptions}. */
export interface GrpcResilience {
  readonly retry: RetryPolicy | undefined;
  /** Codes retried for every call. */
  readonly anyCallCodes: ReadonlySet<number>;
  /** Codes retried for idempotent calls (a superset of `anyCallCodes`). */
  readonly idempotentCodes: ReadonlySet<number>;
  readonly perTryTimeoutMs: number | undefined;
  readonly throttle: AdaptiveThrottle | undefined;
  readonly hedging: HedgingPolicy | undefined;
  /** Whether calls to this method path are idempotent. */
  isIdempotent(path: string): boolean;
}

export const RESILIENCE_KEYS = ['retry', 'hedging', 'throttle', 'idempotentMethods'] as const;
const RETRY_KEYS = [
  'maxAttempts',
  'codes',
  'idempotentCodes',
  'perTryTimeoutMs',
  'timeouts',
  'resets',
  'backoff',
  'budget',
];
const METHOD_PATH = /^\/[^/\s]+\/(?:[^/\s*]+|\*)$/;

/** Validates {@link GrpcResilienceOptions}; {@link ConfigError} names the field (`retry.codes[1]`, …). */
export function parseGrpcResilience(raw: GrpcResilienceOptions): GrpcResilience {
  const methods = readMethods(raw.idempotentMethods);
  const throttle =
    raw.throttle === undefined || raw.throttle === false
      ? undefined
      : new AdaptiveThrottle(raw.throttle === true ? {} : raw.throttle, systemClock);
  const hedging =
    raw.hedging === undefined || raw.hedging === false
      ? undefined
      : raw.hedging instanceof HedgingPolicy
        ? raw.hedging
        : new HedgingPolicy(raw.hedging, { clock: systemClock });
  const base = {
    throttle,
    hedging,
    isIdempotent: (path: string) =>
      methods.exact.has(path) || methods.services.has(path.slice(0, path.lastIndexOf('/') + 1)),
  };
  if (raw.retry === undefined || raw.retry === false) {
    return {
      ...base,
      retry: undefined,
      anyCallCodes: new Set(),
      idempotentCodes: new Set(),
      perTryTimeoutMs: undefined,
    };
  }
  const obj = readObject(raw.retry === true ? {} : raw.retry, 'retry', RETRY_KEYS);
  const anyCall = codesOf(obj.codes, 'retry.codes', defaultGrpcRetryOptions.codes);
  const idempotent = codesOf(
    obj.idempotentCodes,
    'retry.idempotentCodes',
    defaultGrpcRetryOptions.idempotentCodes,
  );
  const perTryTimeoutMs = readOptionalNumber(obj, 'perTryTimeoutMs', 'retry', {
    min: 0,
    exclusiveMin: true,
    max: 3_600_000,
  });
  const timeouts = readBoolean(obj, 'timeouts', 'retry', defaultGrpcRetryOptions.timeouts);
  const resets = readBoolean(obj, 'resets', 'retry', defaultGrpcRetryOptions.resets);
  const all = [...new Set([...anyCall, ...idempotent])];
  // The RetryPolicy decides on attempts, backoff and budget. Its idempotency rule (statuses are retried for
  // idempotent requests, or when nothing was processed) is met by the interceptor's classification: a code in
  // `codes` is classified as not processed (gRPC's contract for it, gRFC A6), one in `idempotentCodes` only retries
  // when the call is idempotent. The per-try timeout is the attempt's own gRPC deadline, not an executor timer.
  const retry = new RetryPolicy(
    {
      maxAttempts: obj.maxAttempts as number | undefined,
      retryOn: {
        statuses: [],
        grpcCodes: all.map((code) => statusName(code) as GrpcCodeName),
        connectFailures: true,
        resets,
        timeouts,
      },
      backoff: obj.backoff as BackoffOptions | undefined,
      budget: obj.budget as RetryBudgetConfig | undefined,
    },
    { clock: systemClock },
  );
  return {
    ...base,
    retry,
    anyCallCodes: new Set(anyCall),
    idempotentCodes: new Set(all),
    perTryTimeoutMs,
  };
}

function codesOf(raw: unknown, path: string, fallback: readonly string[]): number[] {
  const codes = parseStatusList(raw ?? fallback, path);
  const ok = codes.indexOf(GRPC_STATUS_CODES.CANCELLED);
  if (ok >= 0) {
    throw new ConfigError({
      field: join(path, `[${ok}]`),
      allowed:
        'a failure code other than CANCELLED (a cancelled call is the caller giving up, never retried)',
      received: 'CANCELLED',
    });
  }
  return codes;
}

function readMethods(raw: unknown): { exact: Set<string>; services: Set<string> } {
  const exact = new Set<string>();
  const services = new Set<string>();
  if (raw === undefined) return { exact, services };
  if (!Array.isArray(raw)) {
    throw new ConfigError({
      field: 'idempotentMethods',
      allowed: 'an array of method paths ("/pkg.Service/Method" or "/pkg.Service/*")',
      received: raw,
    });
  }
  raw.forEach((path, i) => {
    if (typeof path !== 'string' || !METHOD_PATH.test(path)) {
      throw new ConfigError({
        field: `idempotentMethods[${i}]`,
        allowed: 'a method path "/pkg.Service/Method" or "/pkg.Service/*"',
        received: path,
      });
    }
    if (path.endsWith('/*')) services.add(path.slice(0, -1));
    else exact.add(path);
  });
  return { exact, services };
}
