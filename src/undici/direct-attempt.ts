/**
 * Attempt 1 of a retry-path request whose caller speaks the legacy handler API, under undici 7 (whose Pools take
 * legacy handlers): `undici.request`, `undici.fetch` and Node's fetch. The common case of a dispatcher with
 * `retry` or `hedging` on.
 *
 * While the attempt goes well it is the whole request: one object between the Pool and the caller's handler, which
 * it drives directly — the caller's `onHeaders`, `onData` and `onComplete` get the Pool's own arguments, the Pool's
 * `resume` included, and their return values go back to the Pool — and it releases its lease with the outcome, as
 * the single-attempt {@link TrackedLegacyHandler} does. No request object, converted handler, attempt handler or
 * legacy front is made, and no timer is set (the first deadline, if any, is an entry in the dispatcher's
 * {@link DueQueue}).
 *
 * The first sign of trouble *engages* the retry machinery, with this attempt as its attempt 1: a failure before the
 * response headers, a failing status, a due timer (hedge delay, per-try timeout, deadline), or an abort before the
 * headers (the caller's, or destroy()). A {@link RetriedRequest} then takes the request over as if it had sent this
 * attempt itself (`continueDirect`), and every later callback of the Pool goes to it through a {@link LegacyFront}:
 * from there on the request behaves exactly as one the executor handled from a direct attempt 1.
 *
 * Lease ownership: this object owns its lease while it streams a success; from engagement on, the request's
 * attempt does (one lease, one owner).
 */
import type { Dispatcher } from 'undici';
import type { Lease } from '../balancer/lease.js';
import type { DueEntry } from './due-queue.js';
import type { LegacyHandler } from './handlers.js';
import { toRequestHandler } from './handlers.js';
import type { LegacyFront } from './legacy-front.js';
import type { PendingRequest } from './request-list.js';
import { firstTimerMs, observeDirectSuccess, RetriedRequest, type RetryContext } from './retried-request.js';
import { LeaseTracker } from './tracked-handler.js';

const WAITING = 0;
const STREAMING = 1;
const ENGAGED = 2;
/** The caller has its answer (the response ended or failed while streaming). */
const DONE = 3;

/** Attempt 1 of a legacy caller's retry-path request, sent without the executor (see the file header). */
export class DirectLegacyAttempt extends LeaseTracker implements LegacyHandler, PendingRequest, DueEntry {
  declare listPrev: PendingRequest | undefined;
  declare listNext: PendingRequest | undefined;
  declare dueAt: number;
  declare duePrev: DueEntry | undefined;
  declare dueNext: DueEntry | undefined;
  declare dueQueued: boolean;
  declare private readonly retry: RetryContext;
  declare private readonly opts: Dispatcher.DispatchOptions;
  declare private readonly caller: LegacyHandler;
  declare private readonly idempotent: boolean;
  declare private readonly replayable: boolean;
  declare private readonly hashKey: string | undefined;
  /** When the request started, on the executor's clock. */
  declare private readonly startedAt: number;
  declare private state: typeof WAITING | typeof STREAMING | typeof ENGAGED | typeof DONE;
  /** The Pool's abort for this attempt, and the context it gave with it (kept for a later engagement). */
  declare private poolAbort: ((reason?: Error) => void) | undefined;
  declare private connectContext: unknown;
  /** The caller aborted with this reason while the response streamed (it goes back to the caller untouched). */
  declare private callerReason: Error | undefined;
  /** After engagement: the request that owns this attempt now, and the front the Pool's callbacks go to. */
  declare private request: RetriedRequest | undefined;
  declare private front: LegacyFront | undefined;

  /**
   * Picks, pays into the retry budget, queues the first deadline and sends. False when the pick failed (nothing
   * was sent): the caller then runs the request through the executor, which fails it with its typed error.
   */
  static start(
    c: RetryContext,
    opts: Dispatcher.DispatchOptions,
    caller: LegacyHandler,
    idempotent: boolean,
    replayable: boolean,
    hashKey: string | undefined,
  ): boolean {
    const now = c.clock.now();
    const pick = c.pickContext;
    pick.now = c.sameClock ? now : undefined;
    pick.hashKey = hashKey;
    const lease = c.balancer.tryPick(pick);
    if (typeof lease === 'string') return false;
    c.budget?.deposit(c.budgetOnClock ? now : undefined);
    const attempt = new DirectLegacyAttempt(c, opts, caller, lease, idempotent, replayable, hashKey, now);
    c.track(attempt);
    const due = firstTimerMs(c, idempotent, replayable);
    if (due !== undefined) c.dueQueue.add(attempt, now + due, now);
    c.send(lease, opts, attempt);
    return true;
  }

  private constructor(
    c: RetryContext,
    opts: Dispatcher.DispatchOptions,
    caller: LegacyHandler,
    lease: Lease,
    idempotent: boolean,
    replayable: boolean,
    hashKey: string | undefined,
    startedAt: number,
  ) {
    super(lease, c.tracking);
    this.listPrev = undefined;
    this.listNext = undefined;
    this.dueAt = 0;
    this.duePrev = undefined;
    this.dueNext = undefined;
    this.dueQueued = false;
    this.retry = c;
    this.opts = opts;
    this.caller = caller;
    this.idempotent = idempotent;
    this.replayable = replayable;
    this.hashKey = hashKey;
    this.startedAt = startedAt;
    this.state = WAITING;
    this.poolAbort = undefined;
    this.connectContext = undefined;
    this.callerReason = undefined;
    this.request = undefined;
    this.front = undefined;
  }

  /**
   * Hands the request to a {@link RetriedRequest} with this attempt as its attempt 1 (still waiting for headers),
   * replaying the Pool's `onConnect` when it came. Returns the front for the Pool's next callbacks.
   */
  #engage(): LegacyFront {
    if (this.front !== undefined) return this.front;
    const c = this.retry;
    c.dueQueue.remove(this);
    this.state = ENGAGED;
    const connected = this.poolAbort !== undefined;
    const request = new RetriedRequest(c, this.opts, toRequestHandler(this.caller), true);
    const front = request.continueDirect(
      this.lease,
      this.startedAt,
      connected,
      this.idempotent,
      this.replayable,
      this.hashKey,
    );
    this.request = request;
    this.front = front;
    c.replace(this, request);
    if (connected) front.onConnect(this.poolAbort!, this.connectContext);
    return front;
  }

  /** The first deadline passed while waiting for headers: the executor takes over (as RetriedRequest.due). */
  due(): void {
    if (this.state !== WAITING) return;
    this.#engage();
    this.request!.due();
  }

  /** destroy(): fail the request with `reason` (a streaming response is aborted; else the request's abort path). */
  abort(reason: Error): void {
    if (this.state === DONE) return;
    if (this.state === STREAMING) this.#abortStreaming(reason);
    else {
      this.#engage();
      this.request!.abort(reason);
    }
  }

  /** The abort the caller got at onConnect. */
  #callerAbort(reason?: Error): void {
    if (this.state === DONE) return;
    if (this.state === STREAMING) this.#abortStreaming(reason);
    else {
      this.#engage();
      this.request!.abort(reason as Error);
    }
  }

  #abortStreaming(reason: Error | undefined): void {
    this.callerReason = reason;
    this.poolAbort?.(reason);
  }

  // ---- the Pool's legacy handler -----------------------------------------------------------------------------

  onConnect(abort: (reason?: Error) => void, context?: unknown): void {
    if (this.front !== undefined) {
      this.front.onConnect(abort, context);
      return;
    }
    const first = this.poolAbort === undefined;
    this.poolAbort = abort;
    this.connectContext = context;
    // undici 7 calls onConnect again when it re-sends a request on a fresh connection; the caller's abort (which
    // goes through this.poolAbort) still holds, and the caller heard of the start once, as on the executor's path.
    if (first) this.caller.onConnect?.((reason?: Error) => this.#callerAbort(reason), context);
  }

  onHeaders(
    statusCode: number,
    headers: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean | undefined {
    if (this.front !== undefined) return this.front.onHeaders(statusCode, headers, resume, statusText);
    if (statusCode < 200) return true; // 1xx informational: not the response yet (as on the executor's path)
    this.headers(statusCode);
    if (!this.outcome!.ok) {
      // A failing status: the executor decides (retry elsewhere, or answer with this response). The attempt it
      // takes over judges the response again, with its headers.
      this.outcome = undefined;
      return this.#engage().onHeaders(statusCode, headers, resume, statusText);
    }
    this.state = STREAMING;
    const c = this.retry;
    c.dueQueue.remove(this);
    observeDirectSuccess(c, this.idempotent, this.replayable, this.startedAt, this.outcome);
    return this.caller.onHeaders?.(statusCode, headers, resume, statusText);
  }

  onData(chunk: Buffer): boolean | undefined {
    if (this.front !== undefined) return this.front.onData(chunk);
    return this.caller.onData?.(chunk);
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    if (this.front !== undefined) {
      this.front.onComplete(trailers);
      return;
    }
    this.state = DONE;
    this.end();
    this.retry.settled(this);
    this.caller.onComplete?.(trailers);
  }

  onError(error: Error): void {
    if (this.state === DONE) return; // the caller has its answer: nothing to tell it, nothing to release
    if (this.state === STREAMING) {
      this.state = DONE;
      const byCaller = this.callerReason !== undefined && this.callerReason === error;
      this.retry.settled(this);
      this.caller.onError?.(this.fail(error, byCaller));
      return;
    }
    // Before the headers: the executor decides whether to retry elsewhere.
    this.#engage().onError(error);
  }

  onUpgrade(): void {
    // Upgrades never take the retry path (see BalancedDispatcher.dispatch); refuse rather than mis-handle one.
    this.poolAbort?.(new Error('switchyard: unexpected upgrade on the retry path'));
  }
}
