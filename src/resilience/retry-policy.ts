/**
 * The retry policy: which failures may be retried, how often, how long to wait, and within what deadline.
 *
 * The rules, in the order {@link RetryPolicy.decide} applies them:
 * 1. A cancelled attempt (the caller gave up) is never retried.
 * 2. Connect failures are always retryable (when `retryOn.connectFailures`): the request never reached the
 *    application, so even a POST is safe to send again.
 * 3. Failure statuses (`retryOn.statuses`, `retryOn.grpcCodes`), timeouts and resets are retryable only for
 *    idempotent requests — the server may have acted on the first one. A non-idempotent request is retried only
 *    when the failure happened before any byte of it was sent.
 * 4. A request whose body cannot be replayed (a consumed stream) is never retried.
 * 5. At most `maxAttempts` attempts in all, including the first (and hedges).
 * 6. The backoff delay must end before the overall deadline.
 * 7. The retry budget must have a token (see retry-budget.ts): the guard against retry storms.
 */
import type { FailureKind } from '../balancer/outcome.js';
import { type Clock, systemClock } from '../clock.js';
import { join, readBoolean, readNumber, readObject, readOptionalNumber } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { defaultRandom, type RandomSource } from '../random.js';
import { GRPC_STATUS_CODES, type GrpcCodeName, grpcCodeOf, isHttpStatus } from '../semantics/status.js';
import { type BackoffOptions, ExponentialBackoff, parseBackoffOptions } from './backoff.js';
import { ExecutorStats } from './executor-stats.js';
import { BudgetSelector, type RetryBudget, type RetryBudgetConfig } from './retry-budget.js';

/** gRPC codes and HTTP statuses share one number space (semantics/status.ts); re-exported here as before. */
export { GRPC_STATUS_CODES, type GrpcCodeName };

/** What is retryable. Plain JSON. */
export interface RetryOnOptions {
  /** HTTP statuses retried for idempotent requests, each 100–599. Default `[502, 503, 504]` (Envoy `5xx`-ish gateway errors). */
  readonly statuses?: readonly number[];
  /** gRPC status names retried for idempotent requests. Default `['UNAVAILABLE']` (gRFC A6 examples, Envoy `unavailable`). */
  readonly grpcCodes?: readonly GrpcCodeName[];
  /** Retry connect failures, for any request. Default `true`: the request never reached the application. */
  readonly connectFailures?: boolean;
  /** Retry connection resets for idempotent requests. Default `true` (Envoy `reset`). */
  readonly resets?: boolean;
  /** Retry per-try timeouts for idempotent requests. Default `true` (Envoy retries per-try timeouts under `5xx`). */
  readonly timeouts?: boolean;
}

/** Options of {@link RetryPolicy}. Plain JSON, except `budget` may be a shared {@link RetryBudget} instance. */
export interface RetryPolicyOptions {
  /** Most attempts per request, including the first and any hedges; 1 to 10. Default 3 (Envoy: 1 + num_retries 2; gRPC caps at 5). */
  readonly maxAttempts?: number;
  /** What is retryable. */
  readonly retryOn?: RetryOnOptions;
  /** Timeout of each attempt, in ms (> 0, ≤ 3,600,000); the attempt is aborted and counts as a `timeout`. Default: none. */
  readonly perTryTimeoutMs?: number;
  /** Overall deadline of the request including every retry and backoff, in ms (> 0, ≤ 3,600,000). Default: none. */
  readonly deadlineMs?: number;
  /** Backoff between retries. Default 25 ms base, 250 ms max, full jitter. */
  readonly backoff?: BackoffOptions;
  /**
   * The retry budget: a {@link RetryBudget} to share (e.g. across balancers), options for one budget per balancer,
   * or `false` for none (only `maxAttempts` then limits retries — not recommended). Default: one budget per
   * balancer with the default options (20 % + 10/s, 10 s ttl).
   */
  readonly budget?: RetryBudgetConfig;
}

/** Defaults of {@link RetryPolicyOptions}. */
export const defaultRetryPolicyOptions = {
  maxAttempts: 3,
  retryOn: {
    statuses: [502, 503, 504],
    grpcCodes: ['UNAVAILABLE'],
    connectFailures: true,
    resets: true,
    timeouts: true,
  },
} as const;

/** What {@link RetryPolicy.decide} needs to know about the attempt that just failed. */
export interface RetryInfo {
  /** Attempts made so far for this request, including the one that failed (1 after the first). */
  readonly attempt: number;
  /** How it failed. */
  readonly failure: FailureKind;
  /** The HTTP status (100–599) or gRPC status code (0–16) received, if any. */
  readonly status?: number;
  /** The request is safe to repeat (GET/HEAD/OPTIONS/PUT/DELETE, or declared so). */
  readonly idempotent: boolean;
  /** Any byte of the request was written to the connection. */
  readonly bodySent: boolean;
  /** The request body can be sent again (none, a buffer, or a re-creatable source). */
  readonly replayable: boolean;
  /** Delay the server asked for (Retry-After, gRPC pushback), in ms. */
  readonly retryAfterMs?: number;
  /** Time since the request started, in ms (for the deadline). */
  readonly elapsedMs: number;
  /**
   * This request's overall deadline in ms from its start, when it has one of its own (a gRPC call's deadline);
   * replaces the policy's `deadlineMs`, which the caller folds in (the executor passes the earlier of the two).
   */
  readonly deadlineMs?: number;
  /** The balancer the request goes through: selects its retry budget. Default: the policy's own budget. */
  readonly balancer?: { readonly clock: Clock };
}

/** Why a failure is not retried. */
export type NoRetryReason = 'max-attempts' | 'budget' | 'not-retryable' | 'deadline' | 'not-replayable';

/** The answer of {@link RetryPolicy.decide}. */
export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: NoRetryReason };

/** Lifetime counters of a {@link RetryPolicy}. */
export interface RetryPolicyStats {
  /** Retries granted. */
  readonly retries: number;
  /** Retries refused, by reason (`budget` is budget exhaustion). */
  readonly refused: Readonly<Record<NoRetryReason, number>>;
  /** Requests that failed fast because every endpoint was full (circuit breaking). */
  readonly overflow: number;
  /** Requests that failed fast because no endpoint was routable. */
  readonly noEndpoint: number;
  /** Requests (or retries) rejected by adaptive throttling. */
  readonly throttled: number;
  /** Requests that hit the overall deadline. */
  readonly deadlineExceeded: number;
}

/** Environment of a {@link RetryPolicy}: injectable time and randomness. */
export interface RetryPolicyEnvironment {
  /** Time source for backoff timers, timeouts and per-policy budgets. Default: the balancer's clock. */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for jitter. Override with `seededRandom(n)` for deterministic tests. */
  readonly random?: RandomSource;
}

const KEYS = ['maxAttempts', 'retryOn', 'perTryTimeoutMs', 'deadlineMs', 'backoff', 'budget'];
const RETRY_ON_KEYS = ['statuses', 'grpcCodes', 'connectFailures', 'resets', 'timeouts'];
const MAX_MS = 3_600_000;
const RESPONSE_FAILURES: ReadonlySet<FailureKind> = new Set(['status', 'overloaded']);
const NO_BALANCER = { clock: systemClock };

/**
 * A retry policy. One instance can serve many requests and balancers; it keeps one retry budget per balancer
 * (unless given a shared one) and counts what it decided in {@link RetryPolicy.stats}.
 *
 * ```ts
 * const retry = new RetryPolicy({ maxAttempts: 3, perTryTimeoutMs: 2_000, deadlineMs: 5_000 });
 * ```
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
  readonly backoff: ExponentialBackoff;
  /** The clock given in the environment, if any (the executor falls back to the balancer's). */
  readonly clock: Clock | undefined;
  readonly #statuses: ReadonlySet<number>;
  readonly #connectFailures: boolean;
  readonly #resets: boolean;
  readonly #timeouts: boolean;
  readonly #budgets: BudgetSelector;
  #retries = 0;
  readonly #refused: Record<NoRetryReason, number> = {
    'max-attempts': 0,
    budget: 0,
    'not-retryable': 0,
    deadline: 0,
    'not-replayable': 0,
  };
  /**
   * The executor's counters for requests run with this policy and no `stats` of their own (see
   * {@link ExecuteOptions.stats}). The policy only reads them, for {@link RetryPolicy.stats}.
   */
  readonly executorStats = new ExecutorStats();

  /** @deprecated Use {@link RetryPolicy.executorStats} (the same object). */
  get counters(): ExecutorStats {
    return this.executorStats;
  }

  /**
   * @param options plain-JSON options (a {@link RetryBudget} instance is allowed in `budget`); {@link ConfigError}
   *   on anything invalid.
   * @param env injectable clock and random source.
   */
  constructor(options: RetryPolicyOptions = {}, env: RetryPolicyEnvironment = {}) {
    const obj = readObject(options, 'retry', KEYS);
    this.maxAttempts = readNumber(
      obj,
      'maxAttempts',
      'retry',
      { min: 1, max: 10, integer: true },
      defaultRetryPolicyOptions.maxAttempts,
    );
    this.perTryTimeoutMs = readOptionalNumber(obj, 'perTryTimeoutMs', 'retry', {
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
    });
    this.deadlineMs = readOptionalNumber(obj, 'deadlineMs', 'retry', {
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
    });
    const retryOn = readObject(obj.retryOn, 'retry.retryOn', RETRY_ON_KEYS);
    const defaults = defaultRetryPolicyOptions.retryOn;
    this.#statuses = new Set([
      ...readStatuses(retryOn.statuses, 'retry.retryOn.statuses', defaults.statuses),
      ...readGrpcCodes(retryOn.grpcCodes, 'retry.retryOn.grpcCodes', defaults.grpcCodes),
    ]);
    this.#connectFailures = readBoolean(
      retryOn,
      'connectFailures',
      'retry.retryOn',
      defaults.connectFailures,
    );
    this.#resets = readBoolean(retryOn, 'resets', 'retry.retryOn', defaults.resets);
    this.#timeouts = readBoolean(retryOn, 'timeouts', 'retry.retryOn', defaults.timeouts);
    this.clock = env.clock;
    this.backoff = new ExponentialBackoff(
      parseBackoffOptions(obj.backoff, 'retry.backoff'),
      env.random ?? defaultRandom(),
    );
    this.#budgets = new BudgetSelector(obj.budget, 'retry.budget', env.clock);
  }

  /**
   * The retry budget for `balancer` (created on first use), or `undefined` when budgets are off. Without a
   * balancer: the policy's own budget on its clock.
   */
  budgetFor(balancer: { readonly clock: Clock } = NO_BALANCER): RetryBudget | undefined {
    return this.#budgets.for(balancer);
  }

  /**
   * Decides whether to retry after a failed attempt and, if so, after what delay. Withdraws from the retry
   * budget when (and only when) it answers `retry: true`. Allocates only the answer.
   */
  decide(info: RetryInfo): RetryDecision {
    const reason = this.#refusal(info);
    if (reason !== undefined) {
      this.#refused[reason]++;
      return { retry: false, reason };
    }
    const delayMs = this.backoff.delay(info.attempt, info.retryAfterMs);
    const deadlineMs = info.deadlineMs ?? this.deadlineMs;
    if (deadlineMs !== undefined && info.elapsedMs + delayMs >= deadlineMs) {
      this.#refused.deadline++;
      return { retry: false, reason: 'deadline' };
    }
    const budget = this.#budgets.for(info.balancer ?? NO_BALANCER);
    if (budget !== undefined && !budget.withdraw()) {
      this.#refused.budget++;
      return { retry: false, reason: 'budget' };
    }
    this.#retries++;
    return { retry: true, delayMs };
  }

  /** True when a failure of this kind may be retried at all for a request like this (rules 1–3). */
  retryable(
    failure: FailureKind,
    status: number | undefined,
    idempotent: boolean,
    bodySent: boolean,
  ): boolean {
    if (failure === 'cancelled') return false;
    if (failure === 'connect') return this.#connectFailures;
    let eligible: boolean;
    if (RESPONSE_FAILURES.has(failure)) eligible = status !== undefined && this.#statuses.has(status);
    else if (failure === 'reset') eligible = this.#resets;
    else if (failure === 'timeout') eligible = this.#timeouts;
    else eligible = false;
    return eligible && (idempotent || !bodySent);
  }

  /** Lifetime counters. Allocates; not for the hot path. */
  stats(): RetryPolicyStats {
    return { retries: this.#retries, refused: { ...this.#refused }, ...this.executorStats.snapshot() };
  }

  #refusal(info: RetryInfo): NoRetryReason | undefined {
    if (!this.retryable(info.failure, info.status, info.idempotent, info.bodySent)) return 'not-retryable';
    if (!info.replayable) return 'not-replayable';
    if (info.attempt >= this.maxAttempts) return 'max-attempts';
    const deadlineMs = info.deadlineMs ?? this.deadlineMs;
    if (deadlineMs !== undefined && info.elapsedMs >= deadlineMs) return 'deadline';
    return undefined;
  }
}

function readStatuses(raw: unknown, path: string, fallback: readonly number[]): readonly number[] {
  if (raw === undefined) return fallback;
  if (!Array.isArray(raw))
    throw new ConfigError({ field: path, allowed: 'an array of HTTP statuses', received: raw });
  raw.forEach((status, i) => {
    if (typeof status !== 'number' || !isHttpStatus(status)) {
      throw new ConfigError({
        field: join(path, `[${i}]`),
        allowed: 'an integer from 100 to 599',
        received: status,
      });
    }
  });
  return raw as number[];
}

function readGrpcCodes(raw: unknown, path: string, fallback: readonly GrpcCodeName[]): readonly number[] {
  const names = raw === undefined ? fallback : raw;
  if (!Array.isArray(names)) {
    throw new ConfigError({ field: path, allowed: 'an array of gRPC status names', received: raw });
  }
  return names.map((name, i) => {
    const code = typeof name === 'string' ? grpcCodeOf(name) : undefined;
    if (code === undefined) {
      throw new ConfigError({
        field: join(path, `[${i}]`),
        allowed: `a gRPC status name (${Object.keys(GRPC_STATUS_CODES).join(', ')})`,
        received: name,
      });
    }
    return code;
  });
}
