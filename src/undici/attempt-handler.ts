/**
 * One attempt of a retried request: a new-API undici handler given to one endpoint's Pool. It resolves the
 * executor's attempt promise at the response headers, then holds the response (chunks buffered) until the request
 * that owns it adopts it (the caller gets it) or discards it (drained when small, aborted otherwise). Split from
 * retried-request.ts, which keeps the request-level controller and the executor wiring.
 */
import type { Lease } from '../balancer/lease.js';
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

/** One attempt: a new-API handler given to an endpoint's Pool. */
export class AttemptHandler extends LeaseTracker implements RequestHandler {
  readonly #request: AttemptOwner;
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
    request: AttemptOwner,
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
