/**
 * DnsResolver against a real DNS server (dnsmasq on 127.0.0.1, records written by each test): A, AAAA, dual stack,
 * SRV, TTL-driven refresh, record changes, rate-limited refresh(). Refresh timing runs on a ManualClock; the DNS
 * queries are real I/O and are awaited. Skips locally without dnsmasq; fails under CI.
 */
import { expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DnsResolver } from '../../src/resolvers/dns/dns-resolver.js';
import { addresses, describeWithDnsmasq, listen, settled } from '../helpers/dns-resolver.js';

describeWithDnsmasq('DnsResolver against dnsmasq', ({ setup, cleanup }) => {
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
    cleanup(() => preferV6.close());
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
    cleanup(() => v4only.close());
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

  it('SRV: a changed weight or a new target (dnsmasq restarted with new records) is picked up on refresh', async () => {
    const hosts = [
      ['127.0.0.51', 'a.pay.test'],
      ['127.0.0.52', 'b.pay.test'],
    ] as const;
    const srv = (weightA: number, withB: boolean) => [
      { name: '_grpc._tcp.pay.test', target: 'a.pay.test', port: 9000, priority: 0, weight: weightA },
      ...(withB
        ? [{ name: '_grpc._tcp.pay.test', target: 'b.pay.test', port: 9000, priority: 0, weight: 10 }]
        : []),
    ];
    const { server, clock, resolver } = await setup(
      { hosts, srv: srv(10, false) },
      { srv: '_grpc._tcp.pay.test' },
    );
    const events = listen(resolver);
    const weights = (update: { endpoints: readonly unknown[] }) =>
      (update.endpoints as { host: string; weight: number }[]).map((e) => [e.host, e.weight]);
    expect(weights(await events.nextUpdate())).toEqual([['127.0.0.51', 10]]);
    await settled(resolver);

    await server.restart({ hosts, srv: srv(30, true) });
    clock.set(resolver.nextRefreshAt);
    expect(weights(await events.nextUpdate())).toEqual([
      ['127.0.0.51', 30],
      ['127.0.0.52', 10],
    ]);
    await settled(resolver);
    clock.set(resolver.nextRefreshAt); // unchanged: no update
    await settled(resolver);
    expect(events.events).toEqual([]);
  });
});
