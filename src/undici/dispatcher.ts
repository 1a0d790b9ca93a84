/**
 * `BalancedDispatcher`: an undici Dispatcher that spreads one logical service's requests over its endpoints.
 *
 *   request(origin: http://orders.internal) ─▶ balancer.tryPick({ now, hashKey })
 *                                              ─▶ Pool(http://10.0.0.7:8080).dispatch(origin rewritten,
 *                                                   host: orders.internal kept, servername kept for TLS)
 *   response headers ─▶ outcome judged (status, latency to headers)   body end ─▶ lease.release(outcome)
 *
 * One undici `Pool` per endpoint, created on first use; a removed endpoint's Pool is closed only when the balancer
 * says its last lease came back (`drained`), so requests in flight on it finish normally.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Dispatcher, Pool as PoolType } from 'undici';
import * as undici from 'undici';
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import { CANCELLED } from '../balancer/outcome.js';
import type { Endpoint } from '../endpoint.js';
import type { AdaptiveThrottle } from '../resilience/adaptive-throttle.js';
import type { HedgingPolicy } from '../resilience/hedging.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';
import { DirectLegacyAttempt } from './direct-attempt.js';
import { DueQueue } from './due-queue.js';
import { NoEndpointAvailableError } from './errors.js';
import { isLegacyHandler, type LegacyHandler, type RequestHandler, toRequestHandler } from './handlers.js';
import { withHostHeader } from './headers.js';
import { type BalancedDispatcherOptions, type HashKeyFunction, resolveDispatcherOptions } from './options.js';
import { type PendingRequest, RequestList } from './request-list.js';
import { classifier, isReplayableBody, RetriedRequest, type RetryContext } from './retried-request.js';
import { TrackedHandler, TrackedLegacyHandler, type TrackingContext } from './tracked-handler.js';

const { Pool, errors } = undici;

/**
 * undici 8 Pools accept only new-API handlers; undici 7 Pools take legacy ones natively (cheaper than converting).
 * undici 8 is the first to export `Dispatcher1Wrapper`.
 */
export const POOL_ACCEPTS_LEGACY_HANDLERS = !('Dispatcher1Wrapper' in undici);

const POOL_EVENTS = ['connect', 'disconnect', 'connectionError', 'drain'] as const;
/** Most logical origins whose host we remember (a dispatcher normally serves one or a few). */
const ORIGIN_CACHE_LIMIT = 256;

interface PoolEntry {
  readonly pool: PoolType;
  /** `protocol//address` of the endpoint, e.g. `http://10.0.0.7:8080`. */
  readonly origin: string;
}

/** A handler of either API, as undici hands it to `dispatch`. */
export type AnyHandler = RequestHandler | LegacyHandler;

/**
 * An undici Dispatcher over a {@link Balancer}. Use it wherever undici takes a dispatcher:
 *
 * ```ts
 * const orders = new BalancedDispatcher({ balancer: { endpoints: ['10.0.0.7:8080', '10.0.0.8:8080'] } });
 * await undici.request('http://orders.internal/v1/orders', { dispatcher: orders });
 * await fetch('http://orders.internal/v1/orders', { dispatcher: orders });
 * ```
 */
export class BalancedDispatcher extends undici.Dispatcher {
  /** The balancer picking endpoints (shared or owned, see {@link BalancedDispatcherOptions.balancer}). */
  readonly balancer: Balancer;
  readonly #ownsBalancer: boolean;
  readonly #protocol: 'http:' | 'https:';
  readonly #poolOptions: PoolType.Options;
  readonly #hashKey: HashKeyFunction | undefined;
  readonly #tracking: TrackingContext;
  readonly #pools = new Map<string, PoolEntry>();
  readonly #hosts = new Map<string, LogicalOrigin>();
  readonly #onDrained = (endpoint: Endpoint) => this.#retire(endpoint.address);
  /** Set when retries, hedging or throttling are on: requests then go through the executor. */
  readonly #retry: RetryContext | undefined;
  readonly #idempotent: (opts: Dispatcher.DispatchOptions) => boolean;
  /** Reused for every pick (tryPick is synchronous and keeps no reference): one allocation fewer per request. */
  readonly #pickContext: { now: number; hashKey: string | undefined } = { now: 0, hashKey: undefined };
  /** Logical requests on the retry path not yet answered: a graceful close waits for them (retries included). */
  readonly #requests = new RequestList<PendingRequest>();
  /** Requests accepted before the first resolution, waiting for it: a graceful close waits for them too. */
  readonly #waiting = new Set<{ readonly handler: AnyHandler }>();
  readonly #readyTimeoutMs: number;
  #onRequestsSettled: (() => void) | undefined;
  #closed = false;
  #destroyed = false;
  /** The Pools are being closed: no attempt may start any more. */
  #poolsClosing = false;
  /** The graceful shutdown, shared by every close() call. */
  #closing: Promise<void> | undefined;

  constructor(options: BalancedDispatcherOptions) {
    super();
    const resolved = resolveDispatcherOptions(options);
    this.balancer = resolved.balancer;
    this.#ownsBalancer = resolved.ownsBalancer;
    this.#protocol = resolved.protocol;
    this.#poolOptions = resolved.pool;
    this.#hashKey = resolved.hashKey;
    this.#tracking = {
      name: resolved.balancer.name,
      clock: resolved.balancer.clock,
      failureStatus: resolved.failureStatus,
    };
    this.#idempotent = resolved.idempotent;
    this.#readyTimeoutMs = resolved.readyTimeoutMs;
    const { retry, hedging, throttle } = resolved;
    this.#retry =
      retry === undefined && hedging === undefined && throttle === undefined
        ? undefined
        : this.#retryContext(retry, hedging, throttle);
    this.balancer.on('drained', this.#onDrained);
  }

  /** What the retry path needs, made once: the executor's clock and budget as the executor would resolve them. */
  #retryContext(
    retry: RetryPolicy | undefined,
    hedging: HedgingPolicy | undefined,
    throttle: AdaptiveThrottle | undefined,
  ): RetryContext {
    const clock = retry?.clock ?? this.balancer.clock;
    const budget = retry !== undefined ? retry.budgetFor(this.balancer) : hedging?.budgetFor(this.balancer);
    return {
      balancer: this.balancer,
      tracking: this.#tracking,
      retry,
      hedging,
      throttle,
      direct: throttle === undefined,
      clock,
      sameClock: clock === this.balancer.clock,
      budget,
      budgetOnClock: budget?.clock === clock,
      pickContext: { now: undefined, hashKey: undefined },
      classify: classifier(this.#tracking),
      abortsAttempts:
        hedging !== undefined || retry?.perTryTimeoutMs !== undefined || retry?.deadlineMs !== undefined,
      dueQueue: new DueQueue(clock),
      send: (lease, opts, handler) => this.#send(lease, opts, handler),
      track: (request) => this.#requests.add(request),
      settled: (request) => {
        this.#requests.delete(request);
        this.#checkSettled();
      },
      replace: (previous, next) => {
        this.#requests.delete(previous);
        this.#requests.add(next);
      },
    };
  }

  /** True once {@link close} or {@link destroy} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once {@link destroy} was called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Waits for the balancer's first endpoint set (see {@link Balancer.ready}): `true` once it arrived, `false` on
   * timeout, a resolver error before the first answer, or close. Requests need not wait for it — each one sent
   * before the first resolution waits on its own, up to `readyTimeoutMs` — but start-up code may.
   */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.balancer.ready(timeoutMs);
  }

  /** Addresses of the endpoints that currently have an open Pool (for tests and diagnostics). */
  poolAddresses(): string[] {
    return [...this.#pools.keys()];
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const anyHandler = handler as AnyHandler;
    if (this.#closed) {
      return failHandler(
        anyHandler,
        this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError(),
      );
    }
    if (!this.balancer.resolved) return this.#afterFirstResolution(opts, anyHandler);
    return this.#dispatchNow(opts, anyHandler);
  }

  /**
   * Waits for the balancer's first endpoint set (or {@link Balancer.ready}'s false: timeout,
   * resolver error, close), bounded by `readyTimeoutMs` and the request's own `headersTimeout`; then sends.
   */
  #afterFirstResolution(opts: Dispatcher.DispatchOptions, handler: AnyHandler): true {
    const own = (opts as { headersTimeout?: unknown }).headersTimeout;
    const limit =
      typeof own === 'number' && own > 0 ? Math.min(own, this.#readyTimeoutMs) : this.#readyTimeoutMs;
    const entry = { handler };
    this.#waiting.add(entry);
    this.balancer.ready(limit).then(() => {
      // Gone when destroy() failed it meanwhile.
      if (!this.#waiting.delete(entry)) return;
      this.#dispatchNow(opts, handler);
      this.#checkSettled();
    });
    return true;
  }

  /** Picks and sends (accepted requests only: the closed check is done). */
  #dispatchNow(opts: Dispatcher.DispatchOptions, anyHandler: AnyHandler): boolean {
    const balancer = this.balancer;
    const hashKey = this.#hashKey?.(opts);
    // Upgrades (WebSocket, CONNECT) hand over a socket: nothing to retry, so they always take the single path.
    const retry = this.#retry;
    if (retry !== undefined && !opts.upgrade && opts.method !== 'CONNECT') {
      const idempotent = this.#idempotent(opts);
      const replayable = isReplayableBody(opts.body);
      const legacy = POOL_ACCEPTS_LEGACY_HANDLERS && isLegacyHandler(anyHandler);
      // The common case (undici 7, undici.request or fetch): attempt 1 drives the caller's handler itself.
      if (legacy && retry.direct) {
        const caller = anyHandler as LegacyHandler;
        if (DirectLegacyAttempt.start(retry, opts, caller, idempotent, replayable, hashKey)) return true;
      }
      const request = new RetriedRequest(retry, opts, toRequestHandler(anyHandler), legacy);
      this.#requests.add(request);
      request.start(idempotent, replayable, hashKey);
      return true;
    }
    const ctx = this.#pickContext;
    ctx.now = this.#tracking.clock.now();
    ctx.hashKey = hashKey;
    const picked = balancer.tryPick(ctx);
    if (typeof picked === 'string')
      return failHandler(anyHandler, new NoEndpointAvailableError(balancer.name, picked));
    let entry: PoolEntry;
    let rewritten: Dispatcher.DispatchOptions;
    try {
      entry = this.#poolFor(picked.endpoint);
      rewritten = this.#rewrite(opts, entry.origin);
    } catch (error) {
      // Nothing was sent (the Pool or the request could not be built): not the endpoint's fault.
      picked.release(CANCELLED);
      return failHandler(anyHandler, error as Error);
    }
    if (POOL_ACCEPTS_LEGACY_HANDLERS && isLegacyHandler(anyHandler)) {
      const tracked = new TrackedLegacyHandler(anyHandler as LegacyHandler, picked, this.#tracking);
      return entry.pool.dispatch(rewritten, tracked as unknown as Dispatcher.DispatchHandler);
    }
    return entry.pool.dispatch(
      rewritten,
      new TrackedHandler(toRequestHandler(anyHandler), picked, this.#tracking),
    );
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    this.#closing ??= this.#close();
    return settle(this.#closing, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | undefined {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    return settle(this.#destroy(err), callback);
  }

  // ---- internals -------------------------------------------------------------------------------------------

  /** One attempt of the retry path: to the lease's endpoint, new-API handler. */
  #send(lease: Lease, opts: Dispatcher.DispatchOptions, handler: AnyHandler): void {
    // A graceful close still lets accepted requests make their retries; only once the Pools close do attempts stop.
    if (this.#destroyed || this.#poolsClosing) {
      failHandler(
        handler,
        this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError(),
      );
      return;
    }
    try {
      const entry = this.#poolFor(lease.endpoint);
      entry.pool.dispatch(this.#rewrite(opts, entry.origin), handler as Dispatcher.DispatchHandler);
    } catch (error) {
      failHandler(handler, error as Error);
    }
  }

  /** Same request, aimed at the endpoint, still carrying the logical Host (and SNI for https). */
  #rewrite(opts: Dispatcher.DispatchOptions, origin: string): Dispatcher.DispatchOptions {
    const logical = this.#logical(opts.origin);
    if (logical === undefined) return { ...opts, origin };
    // On Node 20 a key added to a spread's copy takes a slow path (~2 µs in a micro-benchmark). Declaring the keys
    // before the spread avoids it and measured faster in-process, yet slower on loopback through real Clients
    // (1.24–1.26× BalancedPool against 0.97–1.14×, interleaved runs): kept as it was (docs/performance.md).
    const rewritten: Dispatcher.DispatchOptions = {
      ...opts,
      origin,
      headers: opts.headers == null ? logical.hostOnly : withHostHeader(opts.headers, logical.host),
    };
    if (logical.servername !== undefined && (opts as { servername?: string }).servername === undefined) {
      (rewritten as { servername?: string }).servername = logical.servername;
    }
    return rewritten;
  }

  /** What a logical origin means for every request to it, worked out once per origin. */
  #logical(origin: string | URL | undefined): LogicalOrigin | undefined {
    if (origin === undefined) return undefined;
    if (typeof origin !== 'string') return logicalOrigin(origin.host, this.#protocol);
    let logical = this.#hosts.get(origin);
    if (logical === undefined) {
      logical = logicalOrigin(new URL(origin).host, this.#protocol);
      if (this.#hosts.size >= ORIGIN_CACHE_LIMIT) this.#hosts.clear();
      this.#hosts.set(origin, logical);
    }
    return logical;
  }

  #poolFor(endpoint: Endpoint): PoolEntry {
    const existing = this.#pools.get(endpoint.address);
    if (existing !== undefined) return existing;
    const origin = `${this.#protocol}//${endpoint.address}`;
    const pool = new Pool(origin, this.#poolOptions);
    for (const event of POOL_EVENTS) {
      // Re-emit with this dispatcher prepended to the targets, as undici's PoolBase does. Untyped emitter calls:
      // undici's typings overload each event name separately.
      EventEmitter.prototype.on.call(
        pool,
        event,
        (eventOrigin: URL, targets: readonly Dispatcher[], err?: Error) => {
          // A failing connection is a hint that the endpoint set may have changed: ask the resolver to look again.
          if (event === 'connectionError') this.balancer.refresh();
          EventEmitter.prototype.emit.call(this, event, eventOrigin, [this, ...targets], err);
        },
      );
    }
    const entry = { pool, origin };
    this.#pools.set(endpoint.address, entry);
    return entry;
  }

  #checkSettled(): void {
    if (this.#requests.size === 0 && this.#waiting.size === 0) this.#onRequestsSettled?.();
  }

  /** The balancer says a removed endpoint has nothing in flight: close its Pool (letting queued work finish). */
  #retire(address: string): void {
    const entry = this.#pools.get(address);
    if (entry === undefined) return;
    this.#pools.delete(address);
    entry.pool.close().catch(() => {});
  }

  /**
   * close(): refuse new requests, let every accepted one finish (retries and backoffs included, undici's contract
   * for close), then close the Pools and, when owned, the Balancer — whose empty picker a retry must not meet.
   * Every close() call shares one such shutdown.
   */
  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#requests.size + this.#waiting.size > 0) {
      await new Promise<void>((resolve) => {
        this.#onRequestsSettled = resolve;
      });
    }
    // A destroy() meanwhile failed what was left and tears everything down itself.
    if (this.#destroyed) return;
    this.#poolsClosing = true;
    await Promise.all([...this.#pools.values()].map((entry) => entry.pool.close().catch(() => {})));
    await this.#release();
  }

  /** destroy(): fail accepted requests at once with `err` or `ClientDestroyedError`, then destroy the Pools. */
  async #destroy(err: Error | null): Promise<void> {
    this.#closed = true;
    this.#destroyed = true;
    this.#poolsClosing = true;
    const reason = err ?? new errors.ClientDestroyedError();
    for (const request of this.#requests.toArray()) request.abort(reason);
    for (const entry of this.#waiting) failHandler(entry.handler, reason);
    this.#waiting.clear();
    this.#checkSettled();
    await Promise.all([...this.#pools.values()].map((entry) => entry.pool.destroy(err).catch(() => {})));
    await this.#release();
  }

  /** The end of either shutdown: an owned Balancer closed (idempotent), no more drained events, no Pools. */
  async #release(): Promise<void> {
    if (this.#ownsBalancer) await this.balancer.close();
    this.balancer.off('drained', this.#onDrained);
    this.#retry?.dueQueue.stop();
    this.#pools.clear();
  }
}

/** Reports an error the way the handler's API expects, and tells the caller not to wait for 'drain'. */
export function failHandler(handler: AnyHandler, error: Error): true {
  if (isLegacyHandler(handler)) (handler as LegacyHandler).onError?.(error);
  else (handler as RequestHandler).onResponseError?.(null as unknown as Dispatcher.DispatchController, error);
  return true;
}

/** A logical origin's Host, the header object for requests that bring no headers, and the servername to send. */
interface LogicalOrigin {
  readonly host: string;
  /** `{ host }`, shared by every request without headers of its own (undici only reads it). */
  readonly hostOnly: Dispatcher.DispatchOptions['headers'];
  /**
   * SNI for https (the logical hostname). For http the same name, when it is one, so undici need not derive it from
   * the Host header on every request (it does when none is given: an `isIP` test per request).
   */
  readonly servername: string | undefined;
}

function logicalOrigin(host: string, protocol: 'http:' | 'https:'): LogicalOrigin {
  const hostname = hostnameOf(host);
  return {
    host,
    hostOnly: Object.freeze({ host }),
    servername: protocol === 'https:' || isIP(hostname) === 0 ? hostname : undefined,
  };
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The callback-or-promise convention of Dispatcher.close/destroy. */
export function settle(done: Promise<void>, callback: (() => void) | undefined): Promise<void> | undefined {
  if (callback === undefined) return done;
  done.then(callback, callback);
  return undefined;
}
