/**
 * DnsResolver failure handling against a real dnsmasq: a dead server (last-known-good, backoff, recovery),
 * NXDOMAIN (confirmation, `notFound: 'keep'`), and close() with a query in flight.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { DnsResolutionError } from '../../src/errors/dns-resolution-error.js';
import { seededRandom } from '../../src/random.js';
import { DnsResolver } from '../../src/resolvers/dns/dns-resolver.js';
import { addresses, describeWithDnsmasq, listen, settled } from '../helpers/dns-resolver.js';

describeWithDnsmasq('DnsResolver failures against dnsmasq', ({ setup, cleanup }) => {
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
    cleanup(() => balancer.close());
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
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['127.0.0.21:8080', '127.0.0.22:8080']);
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
    cleanup(() => new Promise((r) => blackHole.close(() => r(undefined))));
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
});
