/**
 * The executor: the adapter-neutral engine that runs one logical request as one or more attempts against a
 * Balancer — picking (away from endpoints already tried), timing out, retrying with backoff, hedging, throttling —
 * and feeds every attempt's outcome back to the balancer. The undici adapter drives it (the grpc-js adapter does not
 * yet: gRPC calls use grpc-js's own retries); it knows nothing about HTTP or gRPC: an attempt is a function that resolves at "response headers", and the adapter's
 * `classify` says what the result means.
 *
 *   execute ─▶ throttle? ─▶ tryPick(exclude) ─▶ attempt() ─▶ classify ─┬─ ok / fatal ─▶ resolve (lease unreleased)
 *                 ▲                                   │ hedge timer      └─ retryable ─▶ decide ─▶ backoff ─┐
 *                 └───────────────────────────────────┴──────────────────────────────────────────────────┘
 *
 * Lease discipline: every attempt's lease is released exactly once by the executor — with the classified outcome
 * when it failed, `cancelled` when it lost a hedge race or the caller aborted, `timeout` when its per-try timeout
 * or the deadline fired — except the winner's, which is returned unreleased for the adapter to release when the
 * response body ends (so in-flight counts and latency cover the whole response).
 */
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import { ConfigError } from '../errors/config-error.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded-error.js';
import { NoEndpointError } from '../errors/no-endpoint-error.js';
import { OverflowError } from '../errors/overflow-error.js';
import { ThrottledError } from '../errors/throttled-error.js';
import type { PickContext } from '../pickers/picker.js';
import type { AdaptiveThrottle } from './adaptive-throttle.js';
import type { AttemptInfo, Classified } from './attempt.js';
import { Execution } from './execution.js';
import type { ExecutorStats } from './executor-stats.js';
import type { HedgingPolicy } from './hedging.js';
import type { RetryPolicy } from './retry-policy.js';

export type { AttemptInfo, Classified } from './attempt.js';

/** Options of {@link execute}. */
export interface ExecuteOptions<T> {
  /** The balancer to pick from; its outcomes feed back into it. */
  readonly balancer: Balancer;
  /** Pick inputs (`hashKey`, …). `exclude` and `now` are managed by the executor. */
  readonly pick?: PickContext;
  /** Sends one attempt; resolves at "response headers" (adapter-defined), rejects on transport failure. */
  attempt(info: AttemptInfo): Promise<T>;
  /** Says what an attempt's result means. Must not throw (if it does, the result is a fatal `other` failure). */
  classify(result: { readonly value: T } | { readonly error: unknown }): Classified;
  /** Disposes of a result that will not be returned (a losing hedge, a retried response): drain or abort it. */
  discard?(value: T): void;
  /** Retries. Without one, each request gets exactly one attempt (plus hedges). */
  readonly retry?: RetryPolicy;
  /** Hedging, for idempotent, replayable requests only. Off without one. */
  readonly hedging?: HedgingPolicy;
  /** Client-side adaptive throttling. Off without one. */
  readonly throttle?: AdaptiveThrottle;
  /**
   * Where this request's executor counts overflow, no-endpoint, throttled and deadline endings. Default: the retry
   * policy's {@link RetryPolicy.executorStats} when `retry` is given (so `RetryPolicy.stats()` reports them, as it
   * always has), else not counted.
   */
  readonly stats?: ExecutorStats;
  /** The request is safe to repeat (GET/HEAD/OPTIONS/PUT/DELETE, or declared so). */
  readonly idempotent: boolean;
  /** The request body can be sent again. */
  readonly replayable: boolean;
  /** The caller's abort signal: aborts every attempt, releases their leases as `cancelled`, rejects with its reason. */
  readonly signal?: AbortSignal;
}

/** What {@link execute} resolves with. */
export interface ExecuteResult<T> {
  /** The winning attempt's result (a success, or the last failed response when retries were exhausted). */
  readonly value: T;
  /** The winner's lease, UNRELEASED: release it with the final outcome when the response body ends. */
  readonly lease: Lease;
  /** Attempts made, including retries and hedges. */
  readonly attempts: number;
}

/**
 * Runs one request through `options.balancer` with retries, hedging and throttling.
 *
 * Resolves with the first successful (or fatally failed, or last) response and its unreleased lease. Rejects with
 * the last attempt's error when it failed without a response; with {@link NoEndpointError}, {@link OverflowError}
 * or {@link ThrottledError} when an attempt could not be made (no network call); with a
 * {@link DeadlineExceededError} when the overall deadline passed; with the signal's reason when the caller aborted.
 */
export function execute<T>(options: ExecuteOptions<T>): Promise<ExecuteResult<T>> {
  try {
    checkOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<ExecuteResult<T>>((resolve, reject) => {
    new Execution(options, resolve, reject).start();
  });
}

function checkOptions(o: ExecuteOptions<unknown>): void {
  if (typeof o !== 'object' || o === null)
    throw new ConfigError({ field: 'execute', allowed: 'an object', received: o });
  if (typeof o.balancer?.tryPick !== 'function') {
    throw new ConfigError({ field: 'balancer', allowed: 'a Balancer', received: o.balancer });
  }
  for (const key of ['attempt', 'classify'] as const) {
    if (typeof o[key] !== 'function')
      throw new ConfigError({ field: key, allowed: 'a function', received: o[key] });
  }
  if (o.discard !== undefined && typeof o.discard !== 'function') {
    throw new ConfigError({ field: 'discard', allowed: 'a function', received: o.discard });
  }
  for (const key of ['idempotent', 'replayable'] as const) {
    if (typeof o[key] !== 'boolean')
      throw new ConfigError({ field: key, allowed: 'a boolean', received: o[key] });
  }
}
