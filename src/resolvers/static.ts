/**
 * A resolver over a fixed list, which can be replaced by hand with {@link StaticResolver.set}. This is what
 * `new Balancer({ endpoints })` uses, and a convenient way to drive endpoint changes in tests.
 */

import type { Resolver, ResolverListener } from '../balancer/resolver.js';
import type { EndpointInput } from '../endpoint.js';

export class StaticResolver implements Resolver {
  #endpoints: readonly EndpointInput[];
  #listener: ResolverListener | undefined;
  #closed = false;

  constructor(endpoints: readonly EndpointInput[]) {
    this.#endpoints = endpoints;
  }

  start(listener: ResolverListener): void {
    this.#listener = listener;
    this.#push();
  }

  /** Replaces the list; the listener hears of it on the next tick. */
  set(endpoints: readonly EndpointInput[]): void {
    this.#endpoints = endpoints;
    this.#push();
  }

  /** A static list has nothing to re-resolve. */
  refresh(): void {}

  close(): void {
    this.#closed = true;
    this.#listener = undefined;
  }

  #push(): void {
    const endpoints = this.#endpoints;
    queueMicrotask(() => {
      if (!this.#closed)
        this.#listener?.onUpdate({ endpoints, note: `static: ${endpoints.length} endpoints` });
    });
  }
}
