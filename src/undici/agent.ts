/**
 * `BalancedAgent`: one dispatcher for a whole process. Requests to the logical services it knows
 * (`http://orders.internal`, `http://users.internal`, each with its own balancer) go through that service's
 * {@link BalancedDispatcher}; everything else goes to a normal undici `Agent`. So it can be installed with
 * `setGlobalDispatcher` and every `fetch`/`undici.request` in the process is balanced where it should be.
 */
import { EventEmitter } from 'node:events';
import type { Agent as AgentType, Dispatcher } from 'undici';
import * as undici from 'undici';
import { join, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import {
  type AnyHandler,
  BalancedDispatcher,
  failHandler,
  POOL_ACCEPTS_LEGACY_HANDLERS,
  settle,
} from './dispatcher.js';
import { isLegacyHandler, toRequestHandler } from './handlers.js';
import type { BalancedDispatcherOptions } from './options.js';

/** Options of {@link BalancedAgent}. */
export interface BalancedAgentOptions {
  /**
   * Logical services by origin (`scheme://host[:port]`): a {@link BalancedDispatcher} or its options. When
   * `protocol` is not given it is the origin's scheme, so `https://users.internal` reaches its endpoints over TLS
   * with SNI `users.internal`.
   */
  readonly services: Readonly<Record<string, BalancedDispatcherOptions | BalancedDispatcher>>;
  /** Where requests to any other origin go: a Dispatcher, or options for a new undici `Agent`. Default `new Agent()`. */
  readonly fallback?: Dispatcher | AgentType.Options;
}

const AGENT_KEYS = ['services', 'fallback'];
const EVENTS = ['connect', 'disconnect', 'connectionError', 'drain'] as const;

/**
 * Routes each request by origin to a service's balanced dispatcher, or to the fallback Agent.
 *
 * ```ts
 * setGlobalDispatcher(new BalancedAgent({ services: {
 *   'http://orders.internal': { balancer: { endpoints: ['10.0.0.7:8080', '10.0.0.8:8080'] } },
 *   'http://users.internal': { balancer: { resolver: dnsResolver, policy: 'least_request' } },
 * } }));
 * ```
 */
export class BalancedAgent extends undici.Dispatcher {
  /** The service dispatchers, by normalized origin. */
  readonly services: ReadonlyMap<string, BalancedDispatcher>;
  readonly #fallback: Dispatcher;
  readonly #ownsFallback: boolean;
  /** Raw origin string → its service (or null for the fallback): origins repeat, URL parsing is not free. */
  readonly #routes = new Map<string, BalancedDispatcher | null>();
  #closed = false;

  constructor(options: BalancedAgentOptions) {
    super();
    const raw = readObject(options, '', AGENT_KEYS);
    if (typeof raw.services !== 'object' || raw.services === null || Array.isArray(raw.services)) {
      throw new ConfigError({
        field: 'services',
        allowed: 'an object of origin → service options',
        received: raw.services,
      });
    }
    const services = raw.services as Readonly<Record<string, BalancedDispatcherOptions | BalancedDispatcher>>;
    const map = new Map<string, BalancedDispatcher>();
    for (const [key, value] of Object.entries(services)) {
      const path = join('services', key);
      const origin = normalizeOrigin(key, path);
      if (map.has(origin))
        throw new ConfigError({ field: path, allowed: 'an origin not already listed', received: key });
      map.set(origin, toServiceDispatcher(value, origin, path));
    }
    this.services = map;
    const fallback = raw.fallback;
    this.#ownsFallback = !(fallback instanceof undici.Dispatcher);
    if (fallback !== undefined && this.#ownsFallback && (typeof fallback !== 'object' || fallback === null)) {
      throw new ConfigError({
        field: 'fallback',
        allowed: 'a Dispatcher or undici Agent options',
        received: fallback,
      });
    }
    this.#fallback = this.#ownsFallback
      ? new undici.Agent(fallback as AgentType.Options | undefined)
      : (fallback as Dispatcher);
    for (const target of [...map.values(), this.#fallback]) {
      for (const event of EVENTS) {
        EventEmitter.prototype.on.call(
          target,
          event,
          (origin: URL, targets: readonly Dispatcher[], err?: Error) =>
            EventEmitter.prototype.emit.call(this, event, origin, [this, ...targets], err),
        );
      }
    }
  }

  /** The dispatcher serving `origin` (a service's, or the fallback). */
  dispatcherFor(origin: string | URL | undefined): Dispatcher {
    return this.#route(origin) ?? this.#fallback;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#closed) return failHandler(handler as AnyHandler, new undici.errors.ClientClosedError());
    const service = this.#route(opts.origin);
    if (service !== null) return service.dispatch(opts, handler);
    // undici 8's Agent rejects legacy handlers; Node's built-in fetch still sends them.
    const forFallback =
      !POOL_ACCEPTS_LEGACY_HANDLERS && isLegacyHandler(handler)
        ? toRequestHandler(handler as AnyHandler)
        : handler;
    return this.#fallback.dispatch(opts, forFallback);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    return settle(
      this.#shutdown((d) => d.close()),
      callback,
    );
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | undefined {
    const err = typeof a === 'function' ? null : (a ?? null);
    return settle(
      this.#shutdown((d) => d.destroy(err)),
      typeof a === 'function' ? a : b,
    );
  }

  #route(origin: string | URL | undefined): BalancedDispatcher | null {
    if (origin === undefined) return null;
    const key = typeof origin === 'string' ? origin : origin.origin;
    let service = this.#routes.get(key);
    if (service === undefined) {
      let normalized: string | undefined;
      try {
        normalized = new URL(key).origin;
      } catch {
        normalized = undefined;
      }
      service = (normalized === undefined ? undefined : this.services.get(normalized)) ?? null;
      if (this.#routes.size >= 1024) this.#routes.clear();
      this.#routes.set(key, service);
    }
    return service;
  }

  async #shutdown(each: (d: Dispatcher) => Promise<void>): Promise<void> {
    this.#closed = true;
    const targets: Dispatcher[] = [...this.services.values()];
    if (this.#ownsFallback) targets.push(this.#fallback);
    await Promise.all(targets.map((d) => each(d).catch(() => {})));
  }
}

function normalizeOrigin(key: string, path: string): string {
  let url: URL;
  try {
    url = new URL(key);
  } catch {
    throw new ConfigError({
      field: path,
      allowed: 'an origin such as "http://orders.internal"',
      received: key,
    });
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new ConfigError({ field: path, allowed: 'an http(s) origin without a path', received: key });
  }
  return url.origin;
}

function toServiceDispatcher(
  value: BalancedDispatcherOptions | BalancedDispatcher,
  origin: string,
  path: string,
): BalancedDispatcher {
  if (value instanceof BalancedDispatcher) return value;
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError({ field: path, allowed: 'a BalancedDispatcher or its options', received: value });
  }
  const protocol = value.protocol ?? (origin.startsWith('https:') ? 'https:' : 'http:');
  const balancer = value.balancer;
  // Name an owned balancer after its service unless the user named it: errors and metrics then say which service.
  const named =
    balancer !== undefined && !('pick' in balancer) && balancer.name === undefined
      ? { ...balancer, name: new URL(origin).host }
      : balancer;
  return new BalancedDispatcher({ ...value, protocol, balancer: named });
}
