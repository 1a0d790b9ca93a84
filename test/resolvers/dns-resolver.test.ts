/**
 * DnsResolver against a real DNS server (dnsmasq on 127.0.0.1, records written by each test).
 *
 * Refresh timing is driven by a ManualClock (no sleeps for timers); the DNS queries themselves are real I/O and
 * are awaited. Skips locally when dnsmasq is missing; fails under CI (`process.env.CI`).
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { DnsResolutionError } from '../../src/errors/dns-resolution-error.js';
import { seededRandom } from '../../src/random.js';
import { DnsResolver } from '../../src/resolvers/dns/dns-resolver.js';
import type { DnsResolverOptions } from '../../src/resolvers/dns/options.js';
import type { ResolverUpdate } from '../../src/resolvers/resolver.js';
import { Dnsmasq, type DnsmasqRecords, dnsmasqAvailability } from '../helpers/dnsmasq.js';

const availability = dnsmasqAvailability();

type Event = { readonly update: ResolverUpdate } | { readonly error: Error };

/** Starts `resolver` with a listener that queues what it hears; `next()` waits (real time, bounded) for the next. */
function listen(resolver: DnsResolver) {
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
async function settled(resolver: DnsResolver): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (resolver.nextRefreshAt === Number.POSITIVE_INFINITY) {
    if (Date.now() > deadline) throw new Error('resolver did not settle within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const addresses = (update: ResolverUpdate) =>
  update.endpoints.map((e) => (typeof e === 'string' ? e : `${e.host}:${e.port}`));

describe.skipIf(availability === 'skip')(
  'DnsResolver against dnsmasq (skipped: dnsmasq not installed)',
  () => {
    let server: Dnsmasq | undefined;
    let resolver: DnsResolver | undefined;
    const cleanup: (() => unknown)[] = [];

    beforeAll(() => {
      if (availability === 'fail')
        throw new Error('dnsmasq is required under CI: apt-get install -y dnsmasq');
    });

    afterEach(async () => {
      resolver?.close();
      resolver = undefined;
      for (const fn of cleanup.splice(0)) await fn();
      await server?.stop();
      server = undefined;
    });

    async function setup(
      records: DnsmasqRecords,
      options: Partial<DnsResolverOptions> & ({ name: string } | { srv: string }),
    ) {
      server = await Dnsmasq.start(records);
      const clock = new ManualClock();
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
    }

    it('resolves A records into endpoints and schedules the next query by the TTL, jittered', async () => {
      const { clock, resolver } = await setup(
        {
          hosts: [
            ['127.0.0.21', 'a.orders.test'],
            ['127.0.0.22', 'a.orders.test'],
          ],
          ttl: 5,
        },
        { name: 'a.orders.test' },
      );
      const events = listen(resolver);
      expect(events.events).toEqual([]); // nothing synchronous
      const update = await events.nextUpdate();
      expect(addresses(update)).toEqual(['127.0.0.21:8080', '127.0.0.22:8080']);
      expect(update.endpoints[0]).toMatchObject({
        weight: 1,
        priority: 0,
        metadata: { dnsName: 'a.orders.test' },
      });
      expect(update.note).toBe('dns: a.orders.test A → 2 endpoints, ttl 5s');
      await settled(resolver);
      // TTL 5 s, jitter 0.2 shortens it by up to 20 %.
      expect(resolver.nextRefreshAt - clock.now()).toBeGreaterThanOrEqual(4_000);
      expect(resolver.nextRefreshAt - clock.now()).toBeLessThanOrEqual(5_000);
    });

    it('bounds the refresh by maxRefreshMs for long TTLs and by minRefreshMs for TTL 0', async () => {
      const long = await setup(
        { hosts: [['127.0.0.21', 'long.test']], ttl: 3_600 },
        { name: 'long.test', maxRefreshMs: 10_000 },
      );
      await listen(long.resolver).nextUpdate();
      await settled(long.resolver);
      const wait = long.resolver.nextRefreshAt - long.clock.now();
      expect(wait).toBeGreaterThanOrEqual(8_000);
      expect(wait).toBeLessThanOrEqual(10_000);
      long.resolver.close();
      await long.server.stop();

      const zero = await setup(
        { hosts: [['127.0.0.21', 'zero.test']], ttl: 0 },
        { name: 'zero.test', minRefreshMs: 2_500 },
      );
      await listen(zero.resolver).nextUpdate();
      await settled(zero.resolver);
      expect(zero.resolver.nextRefreshAt - zero.clock.now()).toBe(2_500);
    });

    it('resolves AAAA records with family ipv6', async () => {
      const { resolver } = await setup(
        {
          hosts: [
            ['fd00::21', 'six.test'],
            ['::1', 'six.test'],
            ['127.0.0.21', 'six.test'],
          ],
        },
        { name: 'six.test', family: 'ipv6' },
      );
      expect(addresses(await listen(resolver).nextUpdate())).toEqual(['::1:8080', 'fd00::21:8080']);
    });

    it('dual-stack: both families in one level, or the preferred family first with `prefer`', async () => {
      const hosts = [
        ['127.0.0.31', 'dual.test'],
        ['fd00::31', 'dual.test'],
        ['127.0.0.32', 'v4only.test'],
      ] as const;
      const { resolver, server } = await setup({ hosts }, { name: 'dual.test', family: 'dual' });
      const both = await listen(resolver).nextUpdate();
      expect(both.endpoints.map((e) => typeof e !== 'string' && [e.host, e.priority])).toEqual([
        ['127.0.0.31', 0],
        ['fd00::31', 0],
      ]);
      resolver.close();

      const preferV6 = new DnsResolver({
        name: 'dual.test',
        port: 80,
        family: 'dual',
        prefer: 'ipv6',
        servers: [server.server],
        clock: new ManualClock(),
      });
      cleanup.push(() => preferV6.close());
      const ordered = await listen(preferV6).nextUpdate();
      expect(ordered.endpoints.map((e) => typeof e !== 'string' && [e.host, e.priority])).toEqual([
        ['fd00::31', 0],
        ['127.0.0.31', 1],
      ]);

      // A name with only A records is fine in dual mode: the AAAA NODATA is not a failure.
      const v4only = new DnsResolver({
        name: 'v4only.test',
        port: 80,
        family: 'dual',
        servers: [server.server],
        clock: new ManualClock(),
      });
      cleanup.push(() => v4only.close());
      expect(addresses(await listen(v4only).nextUpdate())).toEqual(['127.0.0.32:80']);
    });

    it('SRV: priorities become contiguous levels, weights are split over target addresses, weight 0 is tiny', async () => {
      const { resolver } = await setup(
        {
          hosts: [
            ['127.0.0.41', 'a.orders.test'],
            ['127.0.0.42', 'b.orders.test'],
            ['127.0.0.43', 'b.orders.test'],
            ['127.0.0.44', 'c.orders.test'],
          ],
          srv: [
            { name: '_http._tcp.orders.test', target: 'a.orders.test', port: 8081, priority: 10, weight: 30 },
            { name: '_http._tcp.orders.test', target: 'b.orders.test', port: 8082, priority: 10, weight: 10 },
            { name: '_http._tcp.orders.test', target: 'c.orders.test', port: 8083, priority: 20, weight: 0 },
            { name: '_http._tcp.orders.test', target: 'c.orders.test', port: 8084, priority: 10, weight: 0 },
            {
              name: '_http._tcp.orders.test',
              target: 'gone.orders.test',
              port: 8085,
              priority: 10,
              weight: 50,
            },
          ],
        },
        { srv: '_http._tcp.orders.test' },
      );
      const update = await listen(resolver).nextUpdate();
      expect(
        update.endpoints.map((e) => typeof e !== 'string' && [`${e.host}:${e.port}`, e.priority, e.weight]),
      ).toEqual([
        ['127.0.0.41:8081', 0, 30],
        ['127.0.0.42:8082', 0, 5],
        ['127.0.0.43:8082', 0, 5],
        ['127.0.0.44:8084', 0, 0.01],
        ['127.0.0.44:8083', 1, 1],
      ]);
      expect(update.endpoints[0]).toMatchObject({
        metadata: { srvTarget: 'a.orders.test', srvPriority: '10', srvWeight: '30' },
      });
      expect(update.note).toBe(
        'dns: _http._tcp.orders.test SRV → 5 endpoints, ttl 5s (no addresses for gone.orders.test)',
      );
    });

    it('picks up changed records after a SIGHUP on the next refresh, and stays quiet when nothing changed', async () => {
      const { server, clock, resolver } = await setup(
        { hosts: [['127.0.0.21', 'web.test']] },
        { name: 'web.test' },
      );
      const events = listen(resolver);
      expect(addresses(await events.nextUpdate())).toEqual(['127.0.0.21:8080']);
      await settled(resolver);

      // The TTL refresh with unchanged records: a real query, no update (no picker rebuild every TTL).
      clock.set(resolver.nextRefreshAt);
      await settled(resolver);
      expect(events.events).toEqual([]);

      await server.setHosts([
        ['127.0.0.21', 'web.test'],
        ['127.0.0.23', 'web.test'],
      ]);
      // An explicit refresh() is rate-limited: due at most refreshCooldownMs after the last query, which the TTL
      // timer beats here; advancing to whichever comes first runs the query.
      resolver.refresh();
      clock.set(resolver.nextRefreshAt);
      expect(addresses(await events.nextUpdate())).toEqual(['127.0.0.21:8080', '127.0.0.23:8080']);
    });

    it('refresh() runs at once after the cooldown and coalesces bursts', async () => {
      const { server, clock, resolver } = await setup(
        { hosts: [['127.0.0.21', 'burst.test']], ttl: 600 },
        { name: 'burst.test', refreshCooldownMs: 2_000 },
      );
      const events = listen(resolver);
      await events.nextUpdate();
      await settled(resolver);
      const ttlDue = resolver.nextRefreshAt;
      await server.setHosts([['127.0.0.22', 'burst.test']]);
      for (let i = 0; i < 20; i++) resolver.refresh(); // a burst of dropped connections
      expect(resolver.nextRefreshAt).toBe(2_000);
      expect(ttlDue).toBeGreaterThan(2_000);
      clock.advance(2_000);
      expect(addresses(await events.nextUpdate())).toEqual(['127.0.0.22:8080']);
      await settled(resolver);
      expect(events.events).toEqual([]);
      // Cooldown passed: the next refresh() queries at once (on a microtask, not synchronously).
      clock.advance(2_000);
      await server.setHosts([['127.0.0.23', 'burst.test']]);
      resolver.refresh();
      expect(events.events).toEqual([]);
      expect(addresses(await events.nextUpdate())).toEqual(['127.0.0.23:8080']);
    });

    it('keeps the last-known-good set when the server dies, reports errors, backs off, and recovers', async () => {
      const { server, clock, resolver } = await setup(
        {
          hosts: [
            ['127.0.0.21', 'lkg.test'],
            ['127.0.0.22', 'lkg.test'],
          ],
        },
        { name: 'lkg.test' },
      );
      const balancer = new Balancer({ resolver, clock, random: seededRandom(1), policy: 'round_robin' });
      cleanup.push(() => balancer.close());
      const errors: Error[] = [];
      balancer.on('resolver-error', (error) => errors.push(error));
      await once(balancer, 'update');
      await settled(resolver);
      await server.kill();

      const delays: number[] = [];
      for (let i = 1; i <= 3; i++) {
        clock.set(resolver.nextRefreshAt);
        await settled(resolver);
        delays.push(resolver.nextRefreshAt - clock.now());
        expect(errors).toHaveLength(i);
      }
      for (const error of errors) {
        expect(error).toBeInstanceOf(DnsResolutionError);
        expect((error as DnsResolutionError).kind).toBe('transient');
        expect(['ECONNREFUSED', 'ETIMEOUT']).toContain((error as DnsResolutionError).dnsCode);
      }
      // Exponential backoff 1 s, 1.6 s, 2.56 s, each ±20 %.
      [1_000, 1_600, 2_560].forEach((base, i) => {
        expect(delays[i]).toBeGreaterThanOrEqual(base * 0.8);
        expect(delays[i]).toBeLessThanOrEqual(base * 1.2);
      });
      expect(balancer.stats().endpoints.map((e) => e.address)).toEqual([
        '127.0.0.21:8080',
        '127.0.0.22:8080',
      ]);
      const lease = balancer.pick();
      expect(lease?.endpoint.address).toMatch(/^127\.0\.0\.2[12]:8080$/);
      lease?.release();

      await server.restart();
      const updates: unknown[] = [];
      balancer.on('update', (u) => updates.push(u));
      clock.set(resolver.nextRefreshAt);
      await settled(resolver);
      expect(errors).toHaveLength(3);
      expect(updates).toEqual([]); // same set as before the outage: nothing to apply
      expect(resolver.nextRefreshAt - clock.now()).toBeGreaterThanOrEqual(4_000); // back on the TTL cadence
    });

    it('NXDOMAIN: reported first, then, confirmed one backoff step later, empties the set; recovers when back', async () => {
      const { server, clock, resolver } = await setup(
        { hosts: [['127.0.0.21', 'scaled.test']] },
        { name: 'scaled.test' },
      );
      const events = listen(resolver);
      await events.nextUpdate();
      await settled(resolver);

      await server.setHosts([]); // the headless service scaled to zero
      clock.set(resolver.nextRefreshAt);
      const first = await events.nextError();
      expect(first).toBeInstanceOf(DnsResolutionError);
      expect(first).toMatchObject({
        kind: 'not-found',
        dnsCode: 'ENOTFOUND',
        rrtype: 'A',
        hostname: 'scaled.test',
      });
      await settled(resolver);
      clock.set(resolver.nextRefreshAt);
      const emptied = await events.nextUpdate();
      expect(emptied.endpoints).toEqual([]);
      expect(emptied.note).toBe('dns: scaled.test has no records (ENOTFOUND, confirmed)');
      await settled(resolver);
      expect(resolver.nextRefreshAt - clock.now()).toBeLessThanOrEqual(1_000); // re-checked at minRefreshMs

      clock.set(resolver.nextRefreshAt); // still gone: no repeated update, no error
      await settled(resolver);
      expect(events.events).toEqual([]);

      await server.setHosts([['127.0.0.24', 'scaled.test']]);
      clock.set(resolver.nextRefreshAt);
      expect(addresses(await events.nextUpdate())).toEqual(['127.0.0.24:8080']);
    });

    it('NXDOMAIN with notFound "keep": only errors, the set is never emptied', async () => {
      const { server, clock, resolver } = await setup(
        { hosts: [['127.0.0.21', 'keep.test']] },
        { name: 'keep.test', notFound: 'keep' },
      );
      const events = listen(resolver);
      await events.nextUpdate();
      await settled(resolver);
      await server.setHosts([]);
      for (let i = 0; i < 3; i++) {
        clock.set(resolver.nextRefreshAt);
        expect(await events.nextError()).toMatchObject({ kind: 'not-found' });
        await settled(resolver);
      }
      expect(events.events).toEqual([]);
    });

    it('a name that never existed: a not-found error first, then an empty update', async () => {
      const { clock, resolver } = await setup({}, { srv: '_grpc._tcp.missing.test' });
      const events = listen(resolver);
      expect(await events.nextError()).toMatchObject({ kind: 'not-found', rrtype: 'SRV' });
      await settled(resolver);
      clock.set(resolver.nextRefreshAt);
      expect((await events.nextUpdate()).endpoints).toEqual([]);
    });

    it('drives a Balancer: picks reach the resolved servers over HTTP and follow a DNS change', async () => {
      const servers = await httpServers(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
      cleanup.push(() => Promise.all(servers.list.map((s) => new Promise((r) => s.close(r)))));
      const { server, clock, resolver } = await setup(
        {
          hosts: [
            ['127.0.0.11', 'api.test'],
            ['127.0.0.12', 'api.test'],
          ],
        },
        { name: 'api.test', port: servers.port },
      );
      const balancer = new Balancer({ resolver, clock, random: seededRandom(3), policy: 'round_robin' });
      cleanup.push(() => balancer.close());
      await once(balancer, 'update');

      const served = async (n: number) => {
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const lease = balancer.pick();
          if (lease === undefined) throw new Error('no endpoint');
          seen.add(await httpGet(lease.endpoint.host, lease.endpoint.port));
          lease.release({ ok: true, latencyMs: 1 });
        }
        return [...seen].sort();
      };
      expect(await served(6)).toEqual(['127.0.0.11', '127.0.0.12']);

      const drained: string[] = [];
      balancer.on('drained', (e) => drained.push(e.address));
      await server.setHosts([['127.0.0.13', 'api.test']]);
      balancer.refresh();
      clock.set(resolver.nextRefreshAt);
      const [change] = await once(balancer, 'update');
      expect(change).toMatchObject({ added: [`127.0.0.13:${servers.port}`] });
      expect(await served(4)).toEqual(['127.0.0.13']);
      expect(drained.sort()).toEqual([`127.0.0.11:${servers.port}`, `127.0.0.12:${servers.port}`]);

      await balancer.close();
      expect(clock.pendingTimers).toBe(0);
    });

    it('close() leaves no timers, and a query in flight never reaches the listener', async () => {
      const { clock, resolver } = await setup({ hosts: [['127.0.0.21', 'bye.test']] }, { name: 'bye.test' });
      const events = listen(resolver);
      await events.nextUpdate();
      await settled(resolver);
      expect(clock.pendingTimers).toBe(1);
      resolver.close();
      resolver.close(); // idempotent
      expect(clock.pendingTimers).toBe(0);
      resolver.refresh();
      clock.advance(3_600_000);
      expect(clock.pendingTimers).toBe(0);

      // A name server that never answers: the query is in flight when close() cancels it.
      const blackHole = createSocket('udp4');
      cleanup.push(() => new Promise((r) => blackHole.close(() => r(undefined))));
      await new Promise<void>((r) => blackHole.bind(0, '127.0.0.1', () => r()));
      const asked = once(blackHole, 'message');
      const hung = new DnsResolver({
        name: 'bye.test',
        port: 80,
        servers: [`127.0.0.1:${(blackHole.address() as AddressInfo).port}`],
        timeoutMs: 60_000,
        clock,
      });
      const heard = listen(hung);
      await asked;
      hung.close();
      // Real I/O: give a cancelled query's rejection time to surface (it must not reach the listener).
      await new Promise((r) => setTimeout(r, 100));
      expect(heard.events).toEqual([]);
      expect(clock.pendingTimers).toBe(0);
    });
  },
);

/** node:http servers, one per address, all on the same port; each answers with its own address. */
async function httpServers(hosts: readonly string[]): Promise<{ port: number; list: Server[] }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const list: Server[] = [];
    let port = 0;
    try {
      for (const host of hosts) {
        const server = createServer((_req, res) => res.end(host));
        list.push(server);
        server.listen(port, host);
        await once(server, 'listening');
        port = (server.address() as AddressInfo).port;
      }
      return { port, list };
    } catch {
      for (const s of list) s.close();
    }
  }
  throw new Error('could not find a port free on every address');
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}
