/**
 * The two handler APIs undici dispatchers receive.
 *
 * - Legacy (undici ≤ 7): `onConnect(abort)`, `onHeaders(status, rawHeaders, resume, statusText) → boolean`,
 *   `onData(chunk) → boolean`, `onComplete(rawTrailers)`, `onError(err)`, `onUpgrade(…)`. `undici.request`,
 *   `undici.fetch` of undici 7 and Node's built-in fetch call dispatchers with these.
 * - New (undici ≥ 7, the only one in undici 8): `onRequestStart(controller)`, `onResponseStart(controller, status,
 *   headers, statusMessage)`, `onResponseData`, `onResponseEnd`, `onResponseError`, `onRequestUpgrade`, with a
 *   controller for pause/resume/abort. `compose()` interceptors and everything in undici 8 use these.
 *
 * A custom Dispatcher must accept both (nodejs/undici#4780). We convert legacy handlers to the new API when we must
 * (undici 8 Pools reject legacy handlers; retries need one shape) — {@link LegacyHandlerAdapter} — and keep them
 * as they are on the single-attempt path under undici 7, where the Pool takes them natively and converting would
 * cost a header parse per response.
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

export type RequestHandler = Dispatcher.DispatchHandler;
export type Controller = Dispatcher.DispatchController;
type IncomingHeaders = Parameters<NonNullable<RequestHandler['onResponseStart']>>[2];
type RawHeaders = Buffer[];

/** The legacy handler surface we call (all of it optional in the type, required in practice except upgrade). */
export interface LegacyHandler {
  onConnect?(abort: (reason?: Error) => void, context?: unknown): void;
  onHeaders?(
    statusCode: number,
    headers: RawHeaders,
    resume: () => void,
    statusText: string,
  ): boolean | undefined;
  onData?(chunk: Buffer): boolean | undefined;
  onComplete?(trailers: RawHeaders | string[] | null): void;
  onError?(error: Error): void;
  onUpgrade?(statusCode: number, headers: RawHeaders | null, socket: Duplex): void;
  onResponseStarted?(): void;
  onBodySent?(chunk: unknown, ...rest: unknown[]): void;
  onRequestSent?(): void;
}

/** True for a handler written against the legacy API only (undici's own rule: no `onRequestStart`). */
export function isLegacyHandler(handler: object): boolean {
  return typeof (handler as RequestHandler).onRequestStart !== 'function';
}

/** The new-API view of any handler. */
export function toRequestHandler(handler: RequestHandler | LegacyHandler): RequestHandler {
  return isLegacyHandler(handler)
    ? new LegacyHandlerAdapter(handler as LegacyHandler)
    : (handler as RequestHandler);
}

/**
 * Presents a legacy handler as a new-API one. Raw headers come from `controller.rawHeaders` when the dispatcher
 * below provides them (undici 7 and 8 both do), so header order and case survive; else they are rebuilt.
 */
export class LegacyHandlerAdapter implements RequestHandler {
  readonly #inner: LegacyHandler;

  constructor(inner: LegacyHandler) {
    this.#inner = inner;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#inner.onConnect?.((reason) => controller.abort(reason as Error), context);
  }

  onResponseStarted(): void {
    this.#inner.onResponseStarted?.();
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: IncomingHeaders,
    socket: Duplex,
  ): void {
    this.#inner.onUpgrade?.(statusCode, rawOf(controller.rawHeaders, headers), socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage?: string,
  ): void {
    const raw = rawOf(controller.rawHeaders, headers);
    if (this.#inner.onHeaders?.(statusCode, raw, () => controller.resume(), statusMessage ?? '') === false) {
      controller.pause();
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#inner.onData?.(chunk) === false) controller.pause();
  }

  onResponseEnd(controller: Controller, trailers: IncomingHeaders): void {
    this.#inner.onComplete?.(rawOf(controller.rawTrailers, trailers));
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.#inner.onError?.(error);
  }

  onBodySent(chunk: unknown, ...rest: unknown[]): void {
    this.#inner.onBodySent?.(chunk, ...rest);
  }

  onRequestSent(): void {
    this.#inner.onRequestSent?.();
  }
}

/** Raw `[name, value, …]` Buffers: the dispatcher's own when it kept them, else rebuilt from the parsed object. */
export function rawOf(raw: unknown, parsed: IncomingHeaders | null | undefined): RawHeaders {
  if (Array.isArray(raw)) {
    return typeof raw[0] === 'string'
      ? raw.map((v) => Buffer.from(v as string, 'latin1'))
      : (raw as RawHeaders);
  }
  const out: RawHeaders = [];
  if (parsed == null) return out;
  for (const [key, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    if (Array.isArray(value))
      for (const v of value) out.push(Buffer.from(key, 'latin1'), Buffer.from(v, 'latin1'));
    else out.push(Buffer.from(key, 'latin1'), Buffer.from(String(value), 'latin1'));
  }
  return out;
}
