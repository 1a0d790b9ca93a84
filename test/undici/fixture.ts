/**
 * Shared set-up of the undici adapter tests: backends and dispatchers created by a test are closed after it, and
 * `waitFor` polls a condition on real time (for events on real sockets, which no fake clock can drive).
 */
import { afterEach } from 'vitest';
import type { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { closeAll, fastServer, type TestServer } from '../helpers/http-servers.js';

export interface Fixture {
  /** Registers a backend to close after the test; returns it. */
  server<T extends TestServer>(server: T): T;
  /** Registers a dispatcher to destroy after the test; returns it. */
  dispatcher<T extends BalancedDispatcher>(dispatcher: T): T;
  /** Starts `n` fast servers named `${prefix}0`, `${prefix}1`, … */
  fast(n: number, prefix?: string): Promise<TestServer[]>;
}

/** Call once at the top of a test file. */
export function useFixture(): Fixture {
  let servers: TestServer[] = [];
  let dispatchers: BalancedDispatcher[] = [];
  afterEach(async () => {
    await Promise.all(dispatchers.map((d) => d.destroy()));
    await closeAll(servers);
    servers = [];
    dispatchers = [];
  });
  return {
    server(server) {
      servers.push(server);
      return server;
    },
    dispatcher(dispatcher) {
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    async fast(n, prefix = 's') {
      const started = await Promise.all(Array.from({ length: n }, (_, i) => fastServer(`${prefix}${i}`)));
      servers.push(...started);
      return started;
    },
  };
}

/** Polls `condition` every 5 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
