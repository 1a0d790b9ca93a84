/**
 * `createFetch`: a `fetch` with balancing built in, for code that takes a fetch function (SDK clients, ky, …).
 */

import type { Dispatcher } from 'undici';
import * as undici from 'undici';
import { ConfigError } from '../errors/config-error.js';
import { BalancedAgent, type BalancedAgentOptions } from './agent.js';
import { BalancedDispatcher } from './dispatcher.js';
import type { BalancedDispatcherOptions } from './options.js';

/** A fetch-compatible function that also exposes (and can close) its dispatcher. */
export interface BalancedFetch {
  (
    input: Parameters<typeof undici.fetch>[0],
    init?: Parameters<typeof undici.fetch>[1],
  ): ReturnType<typeof undici.fetch>;
  /** The dispatcher every request goes through. */
  readonly dispatcher: Dispatcher;
  /** Closes the dispatcher if this function created it (waits for requests in flight). */
  close(): Promise<void>;
}

/** What {@link createFetch} takes: one service's options, a multi-service agent's options, or a dispatcher. */
export type CreateFetchOptions =
  | BalancedDispatcherOptions
  | BalancedAgentOptions
  | { readonly dispatcher: Dispatcher };

/**
 * Returns a function with fetch's signature that sends every request through a balanced dispatcher (built from
 * `options`, or the one given). A `dispatcher` in a call's `init` still wins, as with undici's fetch.
 *
 * ```ts
 * const fetch = createFetch({ balancer: { endpoints: ['10.0.0.7:8080', '10.0.0.8:8080'] } });
 * const res = await fetch('http://orders.internal/v1/orders');
 * ```
 *
 * Request bodies reach the dispatcher as streams under fetch, so with retries enabled only requests without a body
 * are retried (see docs/undici.md, "Retries").
 */
export function createFetch(options: CreateFetchOptions): BalancedFetch {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError({ field: '', allowed: 'dispatcher, service or agent options', received: options });
  }
  let dispatcher: Dispatcher;
  let owned = true;
  if ('dispatcher' in options) {
    if (!(options.dispatcher instanceof undici.Dispatcher)) {
      throw new ConfigError({
        field: 'dispatcher',
        allowed: 'an undici Dispatcher',
        received: options.dispatcher,
      });
    }
    dispatcher = options.dispatcher;
    owned = false;
  } else if ('services' in options) dispatcher = new BalancedAgent(options);
  else dispatcher = new BalancedDispatcher(options);
  const fetch = (input: Parameters<typeof undici.fetch>[0], init?: Parameters<typeof undici.fetch>[1]) =>
    undici.fetch(input, init?.dispatcher === undefined ? { ...init, dispatcher } : init);
  return Object.assign(fetch, {
    dispatcher,
    close: () => (owned ? dispatcher.close() : Promise.resolve()),
  });
}
