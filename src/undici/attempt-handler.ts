/**
 * One attempt of a retried request: a new-API undici handler given to one endpoint's Pool. Two modes:
 *
 * - **executor** (attempts the executor starts): resolves the executor's attempt promise at the response headers,
 *   then holds the response (chunks buffered) until the request that owns it adopts it (the caller gets it) or
 *   discards it (drained when small, aborted otherwise).
 * - **direct** (attempt 1 on the fast path, sent before any executor exists): a successful response streams
 *   straight to the caller. A failure before the headers, or a failing status, hands the attempt to the executor
 *   ({@link AttemptHandler.handOver}), which decides as for its own attempt 1 — retry elsewhere or answer with it —
 *   and so does a timer (hedge delay, per-try timeout, deadline) firing while it waits for headers.
 *
 * Lease ownership: the attempt owns its lease while direct and again once adopted; in between, the executor does.
 * Nothing else releases it. Split from retried-request.ts, which keeps the request-level controller and the
 * executor wiring.
 */
import type { Lease } from '../balancer/lease.js';
import { CANCELLED } from '../balancer/outcome.js';
import type { AttemptInfo } from '../resilience/attempt.js';
import { parseRetryAfter } from '../semantics/http.js';
import type { Controller, RequestHandler } from './handlers.js';
import { LeaseTracker, type TrackingContext } from './tracked-handler.js';

type IncomingHeaders = Parameters<NonNullable<RequestHandler['onResponseStart']>>[2];

/**
 * What an attempt tells the request it belongs to, once adopted ({@link RetriedRequest} implements it). An interface
 * here rather than an import of RetriedRequest, so the two files do not import each other.
 */
export interface AttemptOwner {
  requestStart(context: unknown): void;
  responseStart(attempt: AttemptHandler): void;
  responseData(chunk: Buffer): void;
  responseEnd(trailers: IncomingHeaders): void;
  responseError(error: unknown): void;
  isCallerReason(error: unknown): boolean;
  /** A direct attempt answered with a success: it streams to the caller now. */
  directAnswer(attempt: AttemptHandler): void;
  /** A direct attempt failed, or answered with a failing status: the executor takes it over. */
  handOver(attempt: AttemptHandler): void;
}

/** Failed responses at most this large (by Content-Length) are read to the end rather than aborted, keeping the connection. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/** A failed attempt, carrying which attempt it was (the executor only sees the rejection). */
export class AttemptFailure {
  constructor(
    readonly error: Error,
    readonly attempt: AttemptHandler,
  ) {}
}

type AttemptState = 'waiting' | 'held' | 'adopted' | 'discarded';

/** Until headers arrive (most attempts only ever see their own): one shared empty object, not one per attempt. */
const NO_HEADERS: IncomingHeaders = Object.freeze({}) as IncomingHeaders;

/** One attempt: a new-API handler given to an endpoint's Pool. */
export class AttemptHandler extends LeaseTracker implements RequestHandler {
  readonly #request: AttemptOwner;
  #promise: Promise<AttemptHandler> | undefined;
  #resolve: ((value: AttemptHandler) => void) | undefined;
  #reject: ((failure: AttemptFailure) => void) | undefined;
  /** Attempt 1 sent on the fast path, not (yet) handed to the executor. */
  #direct: boolean;
  /** Why a direct attempt failed before its headers (given to the executor at hand-over). */
  #failure: AttemptFailure | undefined;
  #state: AttemptState = 'waiting';
  #controller: Controller | null = null;
  #abortReason: Error | undefined;
  /** onRequestStart ran: the request was about to be written, so bytes may have reached the server. */
  sent = false;
  /** Stopped because the caller aborted. */
  abortedByCaller = false;
  status = 0;
  headerMap: IncomingHeaders = NO_HEADERS;
  statusMessage: string | undefined;
  retryAfterMs: number | undefined;
  /** Chunks that arrived while held (created on the first one). */
  #buffered: Buffer[] | undefined;
  #ended = false;
  #trailers: IncomingHeaders = NO_HEADERS;
  #heldError: Error | undefined;
  /** The executor's signal for this attempt (per-try timeout, lost hedge), when listened to. */
  #signal: AbortSignal | undefined;
  readonly #listen: boolean;

  /**
   * @param info the executor's view of this attempt; `undefined` for a direct attempt (see the file header).
   * @param listen listen to the executor's signal (it aborts attempts only for per-try timeouts, deadlines and lost
   *   hedges; creating the signal and an EventTarget listener cost ~1 µs per attempt, so only then).
   */
  constructor(
    request: AttemptOwner,
    lease: Lease,
    context: TrackingContext,
    info: AttemptInfo | undefined,
    listen: boolean,
  ) {
    super(lease, context);
    this.#request = request;
    this.#listen = listen;
    this.#direct = info === undefined;
    if (info !== undefined) this.#follow(info);
  }

  /** The executor's promise for this attempt (executor mode only). */
  get promise(): Promise<AttemptHandler> {
    return this.#promise!;
  }

  /** True while this is a direct attempt still waiting for its response headers. */
  get directWaiting(): boolean {
    return this.#direct && this.#state === 'waiting';
  }

  /**
   * The executor takes this direct attempt over ({@link FirstAttempt.adopt}): a settled promise when it failed or
   * answered with a failing status, a pending one while it is in flight (a timer fired first).
   */
  handOver(info: AttemptInfo): Promise<AttemptHandler> {
    this.#direct = false;
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#state === 'held') return Promise.resolve(this as AttemptHandler);
    this.#follow(info);
    return this.#promise!;
  }

  /** Executor mode: create the attempt's promise and, when asked to, listen to its signal. */
  #follow(info: AttemptInfo): void {
    this.#promise = new Promise<AttemptHandler>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (!this.#listen) return;
    const signal = info.signal;
    this.#signal = signal;
    if (signal.aborted) this.abort(signal.reason as Error);
    else signal.addEventListener('abort', this);
  }

  /** EventListener: the executor aborted this attempt. (An object listener saves a closure per attempt.) */
  handleEvent(): void {
    this.abort(this.#signal!.reason as Error);
  }

  /** The caller aborted: stop, and fail the attempt now rather than when the Pool gets round to it. */
  abortByCaller(reason: Error): void {
    this.abortedByCaller = true;
    if (this.#state === 'waiting') this.#settle(undefined, new AttemptFailure(reason, this));
    this.abort(reason);
  }

  /**
   * The executor returned this attempt as the answer, but the caller has gone meanwhile: stop it and free its
   * endpoint (the lease came back to this attempt with the answer).
   */
  abandon(reason: Error): void {
    this.lease.release(CANCELLED);
    this.abort(reason);
  }

  #settle(value: AttemptHandler | undefined, failure?: AttemptFailure): void {
    if (this.#direct) {
      // Nobody waits on a promise yet: a failure goes to the executor, which may retry it elsewhere.
      this.#state = failure === undefined ? 'held' : 'discarded';
      this.#failure = failure;
      this.#request.handOver(this);
      return;
    }
    if (this.#signal !== undefined) this.#signal.removeEventListener('abort', this);
    if (failure === undefined) this.#resolve!(value!);
    else this.#reject!(failure);
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
    this.#buffered = undefined;
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
    const buffered = this.#buffered;
    this.#buffered = undefined;
    if (buffered !== undefined) for (const chunk of buffered) request.responseData(chunk);
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
    this.status = statusCode;
    this.headerMap = headers;
    this.statusMessage = statusMessage;
    if (this.outcome!.ok) {
      if (this.#direct) {
        // The fast path: nothing to decide, the response streams straight to the caller.
        this.#state = 'adopted';
        this.#request.directAnswer(this);
        return;
      }
    } else this.retryAfterMs = parseRetryAfter(this.retryAfter);
    // Held without pausing the parser: the executor decides in the microtasks right after this parse pass, so at
    // most one socket read's worth of body is buffered — and pausing would cost a readStop/readStart pair of
    // syscalls per request.
    this.#state = 'held';
    this.#settle(this);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.#state === 'adopted') this.#request.responseData(chunk);
    else if (this.#state === 'held') (this.#buffered ??= []).push(chunk);
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
