/**
 * The retry path: one caller request run as one or more attempts, with switchyard's executor (`execute`) picking
 * away from endpoints already tried, timing attempts out, backing off with jitter under the retry budget, and
 * hedging.
 *
 *   caller handler ◀── RetriedRequest (the caller's controller) ◀── winner AttemptHandler ◀── Pool (endpoint A)
 *                                 │ execute()                      loser/failed AttemptHandler ◀── Pool (endpoint B)
 *
 * A request pays for the executor only when it needs it. Attempt 1 is sent *direct* (picked here, the budget
 * deposit made here): a successful response streams straight to the caller. The executor is engaged — and takes
 * attempt 1 over as its own (`ExecuteOptions.first`) — when attempt 1 fails before its headers, answers with a
 * failing status, or is still waiting when the first of its timers is due (hedge delay, per-try timeout, deadline).
 * Requests with adaptive throttling, or whose pick failed, run through the executor from the start. A legacy caller
 * under undici 7 (`undici.request`, fetch) does not even get a RetriedRequest until attempt 1 needs help: its
 * attempt 1 is a {@link DirectLegacyAttempt}, which hands the request to one through {@link RetriedRequest.continueDirect}.
 *
 * Under the executor, each attempt resolves at its response headers and is then *held* (later chunks buffered)
 * until the executor decides: the winner is *adopted* — its headers, buffered data and the rest of its body flow
 * to the caller, and its lease is released when the body ends — and any other response is discarded (drained when
 * small, so the connection survives; aborted otherwise). The caller sees exactly one response or one error.
 */
import type { Dispatcher } from 'undici';
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import type { Clock } from '../clock.js';
import { hasErrorCode } from '../errors/switchyard-error.js';
import type { AdaptiveThrottle } from '../resilience/adaptive-throttle.js';
import { type AttemptInfo, type Classified, type ExecuteResult, execute } from '../resilience/executor.js';
import type { HedgingPolicy } from '../resilience/hedging.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';
import { AttemptFailure, AttemptHandler, type AttemptOwner } from './attempt-handler.js';
import { failureOfError, isRefusedStream } from './classify.js';
import type { DueEntry, DueQueue } from './due-queue.js';
import { NoEndpointAvailableError, nameEndpoint, RequestTimeoutError } from './errors.js';
import type { Controller, LegacyHandler, RequestHandler } from './handlers.js';
import { LegacyFront } from './legacy-front.js';
import type { PendingRequest } from './request-list.js';
import type { TrackingContext } from './tracked-handler.js';

type IncomingHeaders = Parameters<NonNullable<RequestHandler['onResponseStart']>>[2];

/** What a retried request needs from its dispatcher. */
export interface RetryContext {
  readonly balancer: Balancer;
  readonly tracking: TrackingContext;
  readonly retry: RetryPolicy | undefined;
  readonly hedging: HedgingPolicy | undefined;
  readonly throttle: AdaptiveThrottle | undefined;
  /** The executor may abort attempts (per-try timeout, deadline or hedging configured): listen to its signals. */
  readonly abortsAttempts: boolean;
  /**
   * Attempt 1 may be sent direct, before any executor exists (false with adaptive throttling, whose admission
   * decision belongs to the executor).
   */
  readonly direct: boolean;
  /** The executor's clock (`retry.clock`, else the balancer's) and whether it is the balancer's. */
  readonly clock: Clock;
  readonly sameClock: boolean;
  /** The budget the executor deposits into per request (the retry policy's, else the hedging policy's), cached. */
  readonly budget: RetryBudget | undefined;
  readonly budgetOnClock: boolean;
  /** Reused for the direct pick (tryPick is synchronous and keeps no reference). */
  readonly pickContext: { now: number | undefined; hashKey: string | undefined };
  /** The executor's `classify`, made once per dispatcher by {@link classifier}. */
  readonly classify: (result: { readonly value: AttemptHandler } | { readonly error: unknown }) => Classified;
  /** Deadlines of direct attempts 1 (one clock timer for all of them). */
  readonly dueQueue: DueQueue;
  /** Sends `opts` to the lease's endpoint (origin rewritten, Host kept). */
  send(lease: Lease, opts: Dispatcher.DispatchOptions, handler: RequestHandler | LegacyHandler): void;
  /** A request accepted on the retry path: the dispatcher waits for it on close() and fails it on destroy(). */
  track(request: PendingRequest): void;
  /** The caller has its answer (response ended or error): the dispatcher stops waiting for this request. */
  settled(request: PendingRequest): void;
  /** `next` now stands for the request `previous` stood for (a direct attempt handed over to the executor). */
  replace(previous: PendingRequest, next: PendingRequest): void;
}

/**
 * The earliest of the executor's timers for a direct attempt 1: hedge delay, per-try timeout, deadline (ms);
 * `undefined` when none applies.
 */
export function firstTimerMs(c: RetryContext, idempotent: boolean, replayable: boolean): number | undefined {
  let due = c.retry?.perTryTimeoutMs;
  const deadline = c.retry?.deadlineMs;
  if (deadline !== undefined && (due === undefined || deadline < due)) due = deadline;
  if (c.hedging !== undefined && idempotent && replayable) {
    const hedge = c.hedging.delayFor(c.balancer);
    if (hedge !== undefined && (due === undefined || hedge < due)) due = hedge;
  }
  return due;
}

/**
 * What the executor learns from a successful direct attempt: its latency, for a percentile hedge delay (hedged
 * requests only). `latencyMs` is from the attempt's own outcome when it was timed on the executor's clock.
 */
export function observeDirectSuccess(
  c: RetryContext,
  idempotent: boolean,
  replayable: boolean,
  startedAt: number,
  outcome: { readonly latencyMs?: number } | undefined,
): void {
  const hedging = c.hedging;
  if (hedging === undefined || hedging.percentile === undefined || !idempotent || !replayable) return;
  const latency =
    c.sameClock && outcome?.latencyMs !== undefined ? outcome.latencyMs : c.clock.now() - startedAt;
  hedging.observe(c.balancer, latency);
}

/** One caller request on the retry path. Also the controller the caller's handler sees. */
export class RetriedRequest implements Controller, AttemptOwner, PendingRequest, DueEntry {
  /** Links in the dispatcher's {@link RequestList} of unanswered requests. */
  listPrev: PendingRequest | undefined = undefined;
  listNext: PendingRequest | undefined = undefined;
  /** Links in the dispatcher's {@link DueQueue} while a direct attempt 1 waits for its headers. */
  dueAt = 0;
  duePrev: DueEntry | undefined = undefined;
  dueNext: DueEntry | undefined = undefined;
  dueQueued = false;
  readonly #context: RetryContext;
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #handler: RequestHandler;
  /** Attempts started and not yet known to be over; the caller's abort reaches them directly. */
  readonly #attempts: AttemptHandler[] = [];
  #winner: AttemptHandler | undefined;
  #started = false;
  #done = false;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  #idempotent = false;
  #replayable = false;
  #hashKey: string | undefined;
  /** When the request started, on the executor's clock. */
  #startedAt = 0;
  /** The direct attempt 1, handed to the executor when its first timer (hedge, per-try, deadline) is due. */
  #first: AttemptHandler | undefined;

  /** Attempts speak legacy to the Pool ({@link LegacyFront}): undici 7 and a legacy caller. */
  readonly #legacy: boolean;

  /**
   * @param handler the caller's handler, new-API view.
   * @param legacy the caller's own handler is legacy and the Pools take legacy handlers (undici 7).
   */
  constructor(
    context: RetryContext,
    opts: Dispatcher.DispatchOptions,
    handler: RequestHandler,
    legacy: boolean,
  ) {
    this.#context = context;
    this.#opts = opts;
    this.#handler = handler;
    this.#legacy = legacy;
  }

  /** Sends one attempt, through a legacy front when that saves undici 7 its handler wrapping. */
  #send(lease: Lease, attempt: AttemptHandler): void {
    const c = this.#context;
    c.send(lease, this.#opts, this.#legacy ? new LegacyFront(attempt, c.tracking.failureStatus) : attempt);
  }

  /** Runs the request. `idempotent` and `replayable` decide what may be retried or hedged. */
  start(idempotent: boolean, replayable: boolean, hashKey: string | undefined): void {
    this.#idempotent = idempotent;
    this.#replayable = replayable;
    this.#hashKey = hashKey;
    if (!this.#context.direct || !this.#sendDirect()) this.#execute(undefined);
  }

  /**
   * Attempt 1 without the executor: pick, deposit into the retry budget (as the executor would for this request),
   * arm the earliest timer the executor would have, send. False when the pick failed: the executor then fails the
   * request with its typed error (and counts it).
   */
  #sendDirect(): boolean {
    const c = this.#context;
    const now = c.clock.now();
    const ctx = c.pickContext;
    ctx.now = c.sameClock ? now : undefined;
    ctx.hashKey = this.#hashKey;
    const lease = c.balancer.tryPick(ctx);
    if (typeof lease === 'string') return false;
    this.#startedAt = now;
    c.budget?.deposit(c.budgetOnClock ? now : undefined);
    const attempt = new AttemptHandler(this, lease, c.tracking, undefined, c.abortsAttempts);
    this.#attempts.push(attempt);
    this.#first = attempt;
    const due = firstTimerMs(c, this.#idempotent, this.#replayable);
    if (due !== undefined) c.dueQueue.add(this, now + due, now);
    this.#send(lease, attempt);
    return true;
  }

  /**
   * Continues a request whose attempt 1 a {@link DirectLegacyAttempt} sent (picked, budget paid, `startedAt` on the
   * executor's clock) and can no longer handle alone. `started`: the caller's handler already saw the request start.
   * Returns the front through which the Pool's callbacks for attempt 1 reach this request from now on.
   */
  continueDirect(
    lease: Lease,
    startedAt: number,
    started: boolean,
    idempotent: boolean,
    replayable: boolean,
    hashKey: string | undefined,
  ): LegacyFront {
    const c = this.#context;
    this.#idempotent = idempotent;
    this.#replayable = replayable;
    this.#hashKey = hashKey;
    this.#startedAt = startedAt;
    this.#started = started;
    const attempt = new AttemptHandler(this, lease, c.tracking, undefined, c.abortsAttempts);
    this.#attempts.push(attempt);
    this.#first = attempt;
    return new LegacyFront(attempt, c.tracking.failureStatus);
  }

  /** The first timer of a direct attempt 1 is due: the executor takes it over while it still waits. */
  due(): void {
    const attempt = this.#first;
    if (attempt?.directWaiting) this.#execute(attempt);
  }

  /** Runs the request through the executor, from the start or (`first`) from a direct attempt 1. */
  #execute(first: AttemptHandler | undefined): void {
    const c = this.#context;
    const hashKey = this.#hashKey;
    execute<AttemptHandler>({
      balancer: c.balancer,
      ...(hashKey === undefined ? {} : { pick: { hashKey } }),
      attempt: (info) => {
        const attempt = new AttemptHandler(this, info.lease, c.tracking, info, c.abortsAttempts);
        if (this.#aborted) attempt.abortByCaller(this.#reason!);
        else {
          this.#attempts.push(attempt);
          this.#send(info.lease, attempt);
        }
        return attempt.promise;
      },
      classify: c.classify,
      discard: discardAttempt,
      ...(c.retry === undefined ? {} : { retry: c.retry }),
      ...(c.hedging === undefined ? {} : { hedging: c.hedging }),
      ...(c.throttle === undefined ? {} : { throttle: c.throttle }),
      idempotent: this.#idempotent,
      replayable: this.#replayable,
      ...(first === undefined
        ? {}
        : {
            first: {
              lease: first.lease,
              startedAt: this.#startedAt,
              adopt: (info: AttemptInfo) => first.handOver(info),
            },
          }),
    }).then(
      (result) => this.#commit(result),
      (error: unknown) => this.responseError(toCallerError(error, c.balancer.name)),
    );
  }

  /** A direct attempt 1 answered with a success: it is the answer. */
  directAnswer(attempt: AttemptHandler): void {
    const c = this.#context;
    c.dueQueue.remove(this);
    this.#first = undefined;
    this.#winner = attempt;
    this.#attempts.length = 0;
    observeDirectSuccess(c, this.#idempotent, this.#replayable, this.#startedAt, attempt.outcome);
    this.responseStart(attempt);
  }

  /** A direct attempt 1 failed or answered with a failing status: the executor decides what happens next. */
  handOver(attempt: AttemptHandler): void {
    this.#context.dueQueue.remove(this);
    this.#first = undefined;
    this.#execute(attempt);
  }

  // ---- the caller's controller -------------------------------------------------------------------------------

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  get rawHeaders(): NonNullable<Controller['rawHeaders']> | null {
    return this.#winner?.controller?.rawHeaders ?? null;
  }

  get rawTrailers(): NonNullable<Controller['rawTrailers']> | null {
    return this.#winner?.controller?.rawTrailers ?? null;
  }

  abort(reason: Error): void {
    if (this.#aborted || this.#done) return;
    this.#aborted = true;
    this.#reason = reason;
    const winner = this.#winner;
    if (winner !== undefined) {
      winner.controller?.abort(reason);
      return;
    }
    // Before a winner: fail every attempt in flight with the caller's reason (classified `cancelled`, never
    // retried); an attempt the executor starts later (after a backoff) fails at once. The caller gets its answer
    // now, not when a backoff timer fires.
    for (const attempt of this.#attempts) attempt.abortByCaller(reason);
    this.responseError(reason);
  }

  /** True when `error` is the reason the caller aborted with: it goes back to the caller untouched. */
  isCallerReason(error: unknown): boolean {
    return this.#aborted && error === this.#reason;
  }

  pause(): void {
    this.#paused = true;
    this.#winner?.controller?.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#winner?.controller?.resume();
  }

  // ---- events from attempts ----------------------------------------------------------------------------------

  /** The first attempt to start writing tells the caller the request started (undici's onConnect moment). */
  requestStart(context: unknown): void {
    if (this.#started) return;
    this.#started = true;
    this.#handler.onRequestStart?.(this, context);
  }

  responseStart(attempt: AttemptHandler): void {
    if (!this.#started) this.requestStart(undefined);
    this.#handler.onResponseStart?.(this, attempt.status, attempt.headerMap, attempt.statusMessage);
  }

  responseData(chunk: Buffer): void {
    if (!this.#done) this.#handler.onResponseData?.(this, chunk);
  }

  responseEnd(trailers: IncomingHeaders): void {
    if (this.#done) return;
    this.#done = true;
    this.#context.settled(this);
    this.#handler.onResponseEnd?.(this, trailers);
  }

  responseError(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#context.settled(this);
    this.#handler.onResponseError?.(this, error as Error);
  }

  #commit(result: ExecuteResult<AttemptHandler>): void {
    const attempt = result.value;
    if (this.#aborted) {
      // The caller gave up while the executor was settling: drop the response, free the endpoint.
      attempt.abandon(this.#reason ?? new Error('aborted'));
      this.responseError(this.#reason);
      return;
    }
    this.#winner = attempt;
    this.#attempts.length = 0;
    attempt.adopt();
  }
}

/** The executor's `classify` for one dispatcher. */
export function classifier(
  tracking: TrackingContext,
): (result: { readonly value: AttemptHandler } | { readonly error: unknown }) => Classified {
  return (result) => classify(result, tracking);
}

const discardAttempt = (attempt: AttemptHandler): void => attempt.discard();

/** What an attempt's result means, for the executor. */
function classify(
  result: { readonly value: AttemptHandler } | { readonly error: unknown },
  tracking: TrackingContext,
): Classified {
  if ('value' in result) {
    const attempt = result.value;
    const outcome = attempt.outcome ?? { ok: true };
    if (outcome.ok) return { outcome, retryable: false };
    return {
      outcome,
      retryable: true,
      bodySent: true,
      ...(attempt.retryAfterMs === undefined ? {} : { retryAfterMs: attempt.retryAfterMs }),
    };
  }
  const error = result.error;
  if (!(error instanceof AttemptFailure))
    return { outcome: { ok: false, failure: 'other' }, retryable: false };
  const now = tracking.clock.now();
  // The caller's own abort is `cancelled` whatever its reason object looks like: never retried, no health effect.
  const failure = error.attempt.abortedByCaller ? 'cancelled' : failureOfError(error.error);
  return {
    outcome: { ok: false, failure, latencyMs: now - error.attempt.lease.startedAt, now },
    retryable: failure !== 'cancelled',
    // A refused HTTP/2 stream was never processed: as safe to send again as a refused connection.
    bodySent: error.attempt.sent && !isRefusedStream(error.error),
  };
}

/** Errors as undici users expect them: undici classes, the endpoint named; switchyard's reasons as `cause`. */
function toCallerError(error: unknown, balancer: string): unknown {
  if (error instanceof AttemptFailure) {
    // The caller's own abort reason is theirs: returned as it was given.
    if (error.attempt.abortedByCaller) return error.error;
    return nameEndpoint(error.error, balancer, error.attempt.lease.endpoint.address);
  }
  if (hasErrorCode(error, 'SY_ERR_NO_ENDPOINT'))
    return new NoEndpointAvailableError(balancer, 'unavailable', error);
  if (hasErrorCode(error, 'SY_ERR_OVERFLOW'))
    return new NoEndpointAvailableError(balancer, 'overflow', error);
  if (hasErrorCode(error, 'SY_ERR_THROTTLED'))
    return new NoEndpointAvailableError(balancer, 'throttled', error);
  if (hasErrorCode(error, 'SY_ERR_DEADLINE')) {
    const { scope, timeoutMs } = error as { scope: 'request' | 'attempt'; timeoutMs: number };
    return new RequestTimeoutError(balancer, scope, timeoutMs, error);
  }
  return error; // the caller's own abort reason
}

/** Replayable bodies are HTTP semantics (semantics/http.ts); re-exported here, where it was first published. */
export { isReplayableBody } from '../semantics/http.js';
