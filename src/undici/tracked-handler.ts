/**
 * Single-attempt handlers: forward every callback to the caller's handler unchanged and report the outcome to the
 * balancer through the lease — latency to response headers, failure kind from the status or the error — releasing
 * the lease when the response ends (so the in-flight count covers the body), fails or upgrades.
 *
 * One class per handler API ({@link TrackedHandler}, {@link TrackedLegacyHandler}) so neither converts headers on
 * the hot path; the outcome logic they share lives in {@link LeaseTracker}.
 */
import type { Duplex } from 'node:stream';
import type { Lease } from '../balancer/lease.js';
import type { Outcome } from '../balancer/outcome.js';
import type { Clock } from '../clock.js';
import {
  defaultFailureStatus,
  type FailureStatusPredicate,
  failureOfError,
  failureOfStatus,
} from './classify.js';
import { nameEndpoint } from './errors.js';
import type { Controller, LegacyHandler, RequestHandler } from './handlers.js';
import { readRetryAfter } from './headers.js';

type IncomingHeaders = Parameters<NonNullable<RequestHandler['onResponseStart']>>[2];

/** What a tracked attempt needs from its dispatcher. */
export interface TrackingContext {
  /** The balancer's name, for error messages. */
  readonly name: string;
  readonly clock: Clock;
  readonly failureStatus: FailureStatusPredicate;
}

export { defaultFailureStatus };

/**
 * The outcome bookkeeping of one attempt on one lease.
 *
 * Fields are `declare`d and assigned in the constructor: a declared field (ES2022 class fields) makes V8 run a
 * separate initializer per construction, and these objects are made once per request.
 */
export class LeaseTracker {
  declare readonly lease: Lease;
  declare readonly context: TrackingContext;
  /** Outcome decided at response headers; released when the response ends. */
  declare outcome: Outcome | undefined;
  /** Retry-After of a failing response, when it had one. */
  declare retryAfter: string | undefined;

  constructor(lease: Lease, context: TrackingContext) {
    this.lease = lease;
    this.context = context;
    this.outcome = undefined;
    this.retryAfter = undefined;
  }

  /**
   * Response headers arrived: time them and judge the status. `source` (parsed or raw headers) is read only for a
   * failing status, for Retry-After: the success path allocates nothing but the outcome.
   */
  headers(status: number, source?: IncomingHeaders | readonly Buffer[]): void {
    if (status < 200 && status !== 101) return; // 1xx informational: not the response yet
    const now = this.context.clock.now();
    const latencyMs = now - this.lease.startedAt;
    if (this.context.failureStatus(status)) {
      const retryAfter = source === undefined ? undefined : readRetryAfter(source);
      this.retryAfter = retryAfter;
      this.outcome = { ok: false, failure: failureOfStatus(status, retryAfter), status, latencyMs, now };
    } else this.outcome = { ok: true, latencyMs, now };
  }

  /** The response ended (or upgraded): release with the outcome judged at headers. */
  end(): void {
    if (this.outcome === undefined) this.headers(200);
    this.lease.release(this.outcome);
  }

  /**
   * The attempt failed: release as a failure (or `cancelled`) and return the error with the endpoint named. The
   * caller's own abort reason (`byCaller`) is released as `cancelled` and returned untouched: it is their object.
   */
  fail<E>(error: E, byCaller = false): E {
    if (!this.lease.released) {
      const now = this.context.clock.now();
      const failure = byCaller ? 'cancelled' : failureOfError(error);
      this.lease.release({ ok: false, failure, latencyMs: now - this.lease.startedAt, now });
    }
    return byCaller ? error : nameEndpoint(error, this.context.name, this.lease.endpoint.address);
  }
}

/** New-API handler for one attempt. */
export class TrackedHandler extends LeaseTracker implements RequestHandler {
  declare private readonly inner: RequestHandler;

  constructor(inner: RequestHandler, lease: Lease, context: TrackingContext) {
    super(lease, context);
    this.inner = inner;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStarted(): void {
    (this.inner as { onResponseStarted?: () => void }).onResponseStarted?.();
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: IncomingHeaders,
    socket: Duplex,
  ): void {
    this.headers(statusCode);
    this.end();
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage?: string,
  ): void {
    this.headers(statusCode, headers);
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHeaders): void {
    this.end();
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller | null, error: Error): void {
    // Only the caller holds this controller: an error that is its abort reason is the caller's own.
    const byCaller = controller !== null && controller?.reason === error;
    this.inner.onResponseError?.(controller as Controller, this.fail(error, byCaller));
  }

  onBodySent(...args: unknown[]): void {
    (this.inner as { onBodySent?: (...a: unknown[]) => void }).onBodySent?.(...args);
  }

  onRequestSent(): void {
    (this.inner as { onRequestSent?: () => void }).onRequestSent?.();
  }
}

/** Legacy-API handler for one attempt (undici 7 Pools take these natively). */
export class TrackedLegacyHandler extends LeaseTracker implements LegacyHandler {
  declare private readonly inner: LegacyHandler;
  /** The caller's abort reason, once it aborted (so that reason comes back to it untouched). */
  declare private callerReason: Error | undefined;

  constructor(inner: LegacyHandler, lease: Lease, context: TrackingContext) {
    super(lease, context);
    this.inner = inner;
    this.callerReason = undefined;
  }

  onConnect(abort: (reason?: Error) => void, context?: unknown): void {
    this.inner.onConnect?.((reason?: Error) => {
      this.callerReason = reason;
      abort(reason);
    }, context);
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }

  onUpgrade(statusCode: number, headers: Buffer[] | null, socket: Duplex): void {
    this.headers(statusCode);
    this.end();
    this.inner.onUpgrade?.(statusCode, headers, socket);
  }

  onHeaders(
    statusCode: number,
    headers: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean | undefined {
    this.headers(statusCode, headers);
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText);
  }

  onData(chunk: Buffer): boolean | undefined {
    return this.inner.onData?.(chunk);
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    this.end();
    this.inner.onComplete?.(trailers);
  }

  onError(error: Error): void {
    const byCaller = this.callerReason !== undefined && this.callerReason === error;
    this.inner.onError?.(this.fail(error, byCaller));
  }

  onBodySent(chunk: unknown, ...rest: unknown[]): void {
    this.inner.onBodySent?.(chunk, ...rest);
  }

  onRequestSent(): void {
    this.inner.onRequestSent?.();
  }
}
