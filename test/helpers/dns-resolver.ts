/**
 * Shared scaffolding of the DnsResolver tests against dnsmasq: a describe block that skips locally without dnsmasq
 * and fails under CI, a per-test server + resolver on a ManualClock, and a listener that queues what it hears.
 */
import { afterEach, beforeAll, describe } from 'vitest';
import type { ResolverUpdate } from '../../src/balancer/resolver.js';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { DnsResolver } from '../../src/resolvers/dns/dns-resolver.js';
import type { DnsResolverOptions } from '../../src/resolvers/dns/options.js';
import { Dnsmasq, type DnsmasqRecords, dnsmasqAvailability } from './dnsmasq.js';

/** What a test gets: `setup()` starts dnsmasq and a resolver; `cleanup()` registers teardown for extra resources. */
export interface DnsTestEnv {
  setup(
    records: DnsmasqRecords,
    options: Partial<DnsResolverOptions> & ({ name: string } | { srv: string }),
  ): Promise<{ server: Dnsmasq; clock: ManualClock; resolver: DnsResolver }>;
  cleanup(fn: () => unknown): void;
}

/**
 * `describe` for tests that need dnsmasq: skipped (with the reason in the title) when it is missing locally,
 * failing when it is missing under CI. Each test's server and resolver are stopped after it.
 */
export function describeWithDnsmasq(title: string, body: (env: DnsTestEnv) => void): void {
  const availability = dnsmasqAvailability();
  const name = availability === 'skip' ? `${title} (skipped: dnsmasq not installed)` : title;
  describe.skipIf(availability === 'skip')(name, () => {
    let server: Dnsmasq | undefined;
    let resolver: DnsResolver | undefined;
    const cleanups: (() => unknown)[] = [];

    beforeAll(() => {
      if (availability === 'fail')
        throw new Error('dnsmasq is required under CI: apt-get install -y dnsmasq');
    });

    afterEach(async () => {
      resolver?.close();
      resolver = undefined;
      for (const fn of cleanups.splice(0)) await fn();
      await server?.stop();
      server = undefined;
    });

    body({
      async setup(records, options) {
        server = await Dnsmasq.start(records);
        const clock = new ManualClock();
        // Short query timeouts: a dead server must fail fast (real time); refresh timing is on the ManualClock.
        resolver = new DnsResolver({
          ...('name' in options ? { port: 8080 } : {}),
          servers: [server.server],
          minRefreshMs: 1_000,
          timeoutMs: 200,
          tries: 1,
          clock,
          random: seededRandom(42),
          ...options,
        } as DnsResolverOptions);
        return { server, clock, resolver };
      },
      cleanup(fn) {
        cleanups.push(fn);
      },
    });
  });
}

type Event = { readonly update: ResolverUpdate } | { readonly error: Error };

/**
 * Starts `resolver` with a listener that queues what it hears and throws if called synchronously from `start()`.
 * `next()` waits (real time, at most 5 s) for the next event.
 */
export function listen(resolver: DnsResolver) {
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  let sync = true;
  const push = (event: Event) => {
    if (sync) throw new Error('listener called synchronously from start()');
    events.push(event);
    wake?.();
  };
  resolver.start({ onUpdate: (update) => push({ update }), onError: (error) => push({ error }) });
  sync = false;
  return {
    events,
    async next(): Promise<Event> {
      const deadline = Date.now() + 5_000;
      while (events.length === 0) {
        if (Date.now() > deadline) throw new Error('no resolver event within 5 s');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events.shift()!;
    },
    async nextUpdate(): Promise<ResolverUpdate> {
      const event = await this.next();
      if (!('update' in event)) throw new Error(`expected an update, got ${event.error.message}`);
      return event.update;
    },
    async nextError(): Promise<Error> {
      const event = await this.next();
      if (!('error' in event)) throw new Error(`expected an error, got an update: ${event.update.note}`);
      return event.error;
    },
  };
}

/** Waits (real I/O) until the resolver's query in flight has finished and it has scheduled the next one. */
export async function settled(resolver: DnsResolver): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (resolver.nextRefreshAt === Number.POSITIVE_INFINITY) {
    if (Date.now() > deadline) throw new Error('resolver did not settle within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `host:port` of each endpoint of an update. */
export const addresses = (update: ResolverUpdate) =>
  update.endpoints.map((e) => (typeof e === 'string' ? e : `${e.host}:${e.port}`));
