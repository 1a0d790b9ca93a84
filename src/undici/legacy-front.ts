/**
 * A legacy-API face for one retry-path attempt, for undici 7 Pools when the caller's own handler is a legacy one
 * (`undici.request`, `undici.fetch` and Node's fetch under undici 7 all are).
 *
 * Handed a new-API handler, an undici 7 Pool wraps it (`UnwrapHandler` plus a controller per request) and parses
 * every response's raw headers into an object — which the caller's legacy handler never reads: it gets the raw
 * headers back through `controller.rawHeaders` ({@link LegacyHandlerAdapter}). This front speaks legacy to the Pool,
 * is the attempt's controller itself, and parses headers only for failing statuses (the retry decision reads
 * Retry-After and Content-Length there). The attempt sees an empty header object on successes; only the legacy
 * caller, which reads the raw ones, is downstream of it.
 */
import type { Duplex } from 'node:stream';
import * as undici from 'undici';
import type { AttemptHandler } from './attempt-handler.js';
import type { Controller, LegacyHandler } from './handlers.js';

type IncomingHeaders = Parameters<NonNullable<AttemptHandler['onResponseStart']>>[2];

/** Shared by every successful response: nobody downstream reads parsed headers there (see the file header). */
const NO_HEADERS: IncomingHeaders = Object.freeze({}) as IncomingHeaders;

/** The legacy handler given to an undici 7 Pool for one attempt; also that attempt's controller. */
export class LegacyFront implements LegacyHandler, Controller {
  readonly #attempt: AttemptHandler;
  readonly #failureStatus: (status: number) => boolean;
  #abort: ((reason?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  rawHeaders: Buffer[] | null = null;
  rawTrailers: Buffer[] | null = null;

  constructor(attempt: AttemptHandler, failureStatus: (status: number) => boolean) {
    this.#attempt = attempt;
    this.#failureStatus = failureStatus;
  }

  // ---- controller ------------------------------------------------------------------------------------------

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#abort?.(reason);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }

  // ---- legacy handler --------------------------------------------------------------------------------------

  onConnect(abort: (reason?: Error) => void, context?: unknown): void {
    this.#abort = abort;
    this.#attempt.onRequestStart(this, context);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.#resume = resume;
    this.rawHeaders = headers;
    const parsed = this.#failureStatus(statusCode) ? parse(headers) : NO_HEADERS;
    this.#attempt.onResponseStart(this, statusCode, parsed, statusText);
    return !this.#paused;
  }

  onData(chunk: Buffer): boolean {
    this.#attempt.onResponseData(this, chunk);
    return !this.#paused;
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    this.rawTrailers = trailers as Buffer[] | null;
    this.#attempt.onResponseEnd(this, NO_HEADERS);
  }

  onError(error: Error): void {
    this.#attempt.onResponseError(this, error);
  }

  onUpgrade(_statusCode: number, _headers: Buffer[] | null, _socket: Duplex): void {
    this.#attempt.onRequestUpgrade();
  }
}

function parse(raw: Buffer[]): IncomingHeaders {
  return undici.util.parseHeaders(raw) as IncomingHeaders;
}
