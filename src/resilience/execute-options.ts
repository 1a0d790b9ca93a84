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
  /**
   * This request's own overall deadline, in ms from its start (from `resume.startedAt` when resuming), > 0. The
   * earlier of this and the retry policy's `deadlineMs` applies. For protocols whose every call carries its own
   * deadline (gRPC). Default: the retry policy's `deadlineMs`.
   */
  readonly deadlineMs?: number;
  /**
   * The first attempt was already made, outside the executor (an adapter's fast path: it picked through its own
   * client, e.g. a grpc-js picker), and failed. The executor starts by deciding on that failure as it would on any
   * failed attempt — retry elsewhere (its endpoint is excluded), or give up with its error — and deposits this
   * request in the retry budget. The adapter has already released that attempt's lease and recorded it with the
   * throttle. Default: none (the executor makes the first attempt).
   */
  readonly resume?: ExecuteResume;
}

/** The adapter-made first attempt of {@link ExecuteOptions.resume}. */
export interface ExecuteResume {
  /** Address of the endpoint it went to (`host:port`), excluded from the next pick. */
  readonly address: string;
  /** When it started, on the executor's clock (the retry policy's, else the balancer's). */
  readonly startedAt: number;
  /** How it failed (what `execute` rejects with if it is not retried). */
  readonly error: unknown;
  /** What the adapter's `classify` said about it. */
  readonly classified: Classified;
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
