/** The options and result of {@link execute} (executor.ts), apart so execution.ts can use them without a cycle. */
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import type { PickContext } from '../pickers/picker.js';
import type { AdaptiveThrottle } from './adaptive-throttle.js';
import type { AttemptInfo, Classified } from './attempt.js';
import type { ExecutorStats } from './executor-stats.js';
import type { HedgingPolicy } from './hedging.js';
import type { RetryPolicy } from './retry-policy.js';

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
