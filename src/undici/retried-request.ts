/**
 * The retry path: one caller request run as one or more attempts by switchyard's executor (`execute`), which picks
 * away from endpoints already tried, times attempts out, backs off with jitter under the retry budget, and hedges.
 *
 *   caller handler ◀── RetriedRequest (the caller's controller) ◀── winner AttemptHandler ◀── Pool (endpoint A)
 *                                 │ execute()                      loser/failed AttemptHandler ◀── Pool (endpoint B)
 *
 * Each attempt resolves at its response headers and is then *held* (later chunks buffered) until the
 * executor decides: the winner is *adopted* — its headers, buffered data and the rest of its body flow to the
 * caller, and its lease is released when the body ends — and any other response is discarded (drained when small,
 * so the connection survives; aborted otherwise). The caller sees exactly one response or one error.
 */
import type { Dispatcher } from 'undici';
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import { hasErrorCode } from '../errors/switchyard-error.js';
import type { AdaptiveThrottle } from '../resilience/adaptive-throttle.js';
import { parseRetryAfter } from '../resilience/backoff.js';
import { type Classified, type ExecuteResult, execute } from '../resilience/executor.js';
import type { HedgingPolicy } from '../resilience/hedging.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';
import { failureOfError, isRefusedStream } from './classify.js';
import { NoEndpointAvailableError, nameEndpoint, RequestTimeoutError } from './errors.js';
import type { Controller, RequestHandler } from './handlers.js';
import { LeaseTracker, type TrackingContext } from './tracked-handler.js';

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
  /** The executor's `classify`, made once per dispatcher by {@link classifier}. */
  readonly classify: (result: { readonly value: AttemptHandler } | { readonly error: unknown }) => Classified;
  /** Sends `opts` to the lease's endpoint (origin rewritten, Host kept). */
  send(lease: Lease, opts: Dispatcher.DispatchOptions, handler: RequestHandler): void;
  /** The caller has its answer (response ended or error): the dispatcher stops waiting for this request. */
  settled(request: RetriedRequest): void;
}

/** Failed responses at most this large (by Content-Length) are read to the end rather than aborted, keeping the connection. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/** A failed attempt, carrying which attempt it was (the executor only sees the rejection). */
class AttemptFailure {
  constructor(
    readonly error: Error,
    readonly attempt: AttemptHandler,
  ) {}
}

type AttemptState = 'waiting' | 'held' | 'adopted' | 'discarded';

/** One attempt: a new-API handler given to an endpoint's Pool. */
export class AttemptHandler extends LeaseTracker implements RequestHandler {
  readonly #request: RetriedRequest;
  readonly promise: Promise<AttemptHandler>;
  #resolve!: (value: AttemptHandler) => void;
  #reject!: (failure: AttemptFailure) => void;
  #state: AttemptState = 'waiting';
  #controller: Controller | null = null;
  #abortReason: Error | undefined;
  /** onRequestStart ran: the request was about to be written, so bytes may have reached the server. */
  sent = false;
  /** Stopped because the caller aborted. */
  abortedByCaller = false;
  status = 0;
  headerMap: IncomingHeaders = {};
  statusMessage: string | undefined;
  retryAfterMs: number | undefined;
  #buffered: Buffer[] = [];
  #ended = false;
  #trailers: IncomingHeaders = {};
  #heldError: Error | undefined;
  /** The executor's signal for this attempt (per-try timeout, lost hedge): we listen as an EventListener object. */
  readonly #signal: AbortSignal;
  readonly #listening: boolean;

  /**
   * @param signal the executor's signal for this attempt, listened to only when `listen` (the executor aborts
   *   attempts only for per-try timeouts, deadlines and lost hedges; EventTarget listeners cost ~1 µs a pair).
   */
  constructor(
    request: RetriedRequest,
    lease: Lease,
    context: TrackingContext,
    signal: AbortSignal,
    listen: boolean,
  ) {
    super(lease, context);
    this.#request = request;
    this.#signal = signal;
    this.#listening = listen;
    this.promise = new Promise<AttemptHandler>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal.aborted) this.abort(signal.reason as Error);
    else if (listen) signal.addEventListener('abort', this);
  }

  /** EventListener: the executor aborted this attempt. (An object listener saves a closure per attempt.) */
  handleEvent(): void {
    this.abort(this.#signal.reason as Error);
  }

  /** The caller aborted: stop, and fail the attempt now rather than when the Pool gets round to it. */
  abortByCaller(reason: Error): void {
    this.abortedByCaller = true;
    if (this.#state === 'waiting') this.#settle(undefined, new AttemptFailure(reason, this));
    this.abort(reason);
  }

  #settle(value: AttemptHandler | undefined, failure?: AttemptFailure): void {
    if (this.#listening) this.#signal.removeEventListener('abort', this);
    if (failure === undefined) this.#resolve(value!);
    else this.#reject(failure);
  }

  get controller(): Controller | null {
    return this.#controller;
  }

  /** Stops this attempt (lost a race, timed out, caller aborted). */
  abort(reason: Error): void {
    if (this.#state === 'adopted') return;
    this.#state = 'discarded';
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** The executor will not use this response: let it drain when small (keeps the connection), else abort. */
  discard(): void {
    if (this.#state === 'discarded' || this.#state === 'adopted') return;
    this.#state = 'discarded';
    this.#buffered = [];
    if (this.#ended || this.#heldError !== undefined) return;
    const length = Number(this.headerMap['content-length']);
    // A small body just keeps flowing (dropped on arrival): the connection stays reusable.
    if (!(Number.isFinite(length) && length <= DRAIN_LIMIT_BYTES)) {
      this.#controller?.abort(new Error('switchyard: response discarded'));
    }
  }

  /** This response is the answer: hand it to the caller. */
  adopt(): void {
    this.#state = 'adopted';
    const request = this.#request;
    request.responseStart(this);
    for (const chunk of this.#buffered) request.responseData(chunk);
    this.#buffered = [];
    if (this.#heldError !== undefined)
      request.responseError(this.fail(this.#heldError, request.isCallerReason(this.#heldError)));
    else if (this.#ended) {
      this.end();
      request.responseEnd(this.#trailers);
    }
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#controller = controller;
    this.sent = true;
    if (this.#abortReason !== undefined) {
      controller.abort(this.#abortReason);
      return;
    }
    this.#request.requestStart(context);
  }

  onResponseStart(
    _controller: Controller,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage?: string,
  ): void {
    if (this.#state !== 'waiting') return;
    if (statusCode < 200) return; // 1xx informational: not the response yet
    this.headers(statusCode, headers);
    if (this.outcome?.ok === false) this.retryAfterMs = parseRetryAfter(this.retryAfter);
    this.status = statusCode;
    this.headerMap = headers;
    this.statusMessage = statusMessage;
    // Held without pausing the parser: the executor decides in the microtasks right after this parse pass, so at
    // most one socket read's worth of body is buffered — and pausing would cost a readStop/readStart pair of
    // syscalls per request.
    this.#state = 'held';
    this.#settle(this);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.#state === 'adopted') this.#request.responseData(chunk);
    else if (this.#state === 'held') this.#buffered.push(chunk);
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHeaders): void {
    if (this.#state === 'adopted') {
      this.end();
      this.#request.responseEnd(trailers);
    } else {
      this.#ended = true;
      this.#trailers = trailers;
    }
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    switch (this.#state) {
      case 'waiting':
        this.#state = 'discarded';
        this.#settle(undefined, new AttemptFailure(error, this));
        break;
      case 'held':
        this.#heldError = error;
        break;
      case 'adopted':
        this.#request.responseError(this.fail(error, this.#request.isCallerReason(error)));
        break;
      default:
        break; // discarded: nobody listens
    }
  }

  onRequestUpgrade(): void {
    // Upgrades never take the retry path (see BalancedDispatcher.dispatch); refuse rather than mis-handle one.
    this.#controller?.abort(new Error('switchyard: unexpected upgrade on the retry path'));
  }
}

/** One caller request on the retry path. Also the controller the caller's handler sees. */
export class RetriedRequest implements Controller {
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

  constructor(context: RetryContext, opts: Dispatcher.DispatchOptions, handler: RequestHandler) {
    this.#context = context;
    this.#opts = opts;
    this.#handler = handler;
  }

  /** Runs the request. `idempotent` and `replayable` decide what may be retried or hedged. */
  start(idempotent: boolean, replayable: boolean, hashKey: string | undefined): void {
    const c = this.#context;
    execute<AttemptHandler>({
      balancer: c.balancer,
      ...(hashKey === undefined ? {} : { pick: { hashKey } }),
      attempt: (info) => {
        const attempt = new AttemptHandler(this, info.lease, c.tracking, info.signal, c.abortsAttempts);
        if (this.#aborted) attempt.abortByCaller(this.#reason!);
        else {
          this.#attempts.push(attempt);
          c.send(info.lease, this.#opts, attempt);
        }
        return attempt.promise;
      },
      classify: c.classify,
      discard: discardAttempt,
      ...(c.retry === undefined ? {} : { retry: c.retry }),
      ...(c.hedging === undefined ? {} : { hedging: c.hedging }),
      ...(c.throttle === undefined ? {} : { throttle: c.throttle }),
      idempotent,
      replayable,
    }).then(
      (result) => this.#commit(result),
      (error: unknown) => this.responseError(toCallerError(error, c.balancer.name)),
    );
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

  get rawHeaders(): Controller['rawHeaders'] {
    return this.#winner?.controller?.rawHeaders ?? null;
  }

  get rawTrailers(): Controller['rawTrailers'] {
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
      attempt.lease.release({ ok: false, failure: 'cancelled' });
      attempt.abort(this.#reason ?? new Error('aborted'));
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

/** True when undici can send this body again: none, a string or bytes. Streams and iterables are consumed once. */
export function isReplayableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer
  );
}
