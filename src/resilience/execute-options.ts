/** The options and result of {@link execute} (executor.ts), apart so execution.ts can use them without a cycle. */
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import type { PickContext } from '../balancer/policy/picker.js';
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
  /**
   * Attempt 1, already picked and sent by the adapter outside the executor (its fast path: a request that succeeds
   * at once never pays for the executor). The executor continues the request from there as if it had launched that
   * attempt itself: it calls {@link FirstAttempt.adopt} at once, owns the lease from then on, and judges the
   * attempt's result like any other (retry elsewhere, hedge, commit). The budget deposit for this request is the
   * adapter's (made when it sent the attempt); the deadline, per-try timeout and hedge delay count from
   * {@link FirstAttempt.startedAt}.
   */
  readonly first?: FirstAttempt<T>;
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

/** Attempt 1 of a request, sent by the adapter before the executor was engaged ({@link ExecuteOptions.first}). */
export interface FirstAttempt<T> {
  /** Its lease, unreleased: the executor owns it once it called {@link FirstAttempt.adopt}. */
  readonly lease: Lease;
  /** When the request started, on the executor's clock (`retry.clock`, else the balancer's). */
  readonly startedAt: number;
  /**
   * Hands the attempt to the executor, which calls this exactly once, synchronously: the attempt listens to
   * `info.signal` from now on (per-try timeout, lost hedge, caller abort) and returns what `attempt()` would have —
   * settled already when the attempt has failed or answered, pending while it is still in flight.
   */
  adopt(info: AttemptInfo): Promise<T>;
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
