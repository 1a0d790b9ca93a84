/**
 * `switchyard-dns:` end to end: a real dnsmasq on 127.0.0.1 answering SRV and A records, real grpc-js servers.
 * Skipped locally without dnsmasq, failing under CI (see test/helpers/dnsmasq.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelOptions, setup } from '../../src/grpc/index.js';
import { Dnsmasq, dnsmasqAvailability } from '../helpers/dnsmasq.js';
import { burst, useEchoFleet, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const availability = dnsmasqAvailability();
const title =
  availability === 'skip' ? 'switchyard-dns: (skipped: dnsmasq not installed)' : 'switchyard-dns:';

describe.skipIf(availability === 'skip')(title, () => {
  const fleet = useEchoFleet(2);
  const { servers } = fleet;
  let dns: Dnsmasq;
  beforeAll(async () => {
    if (availability === 'fail') throw new Error('dnsmasq is required under CI: apt-get install -y dnsmasq');
    dns = await Dnsmasq.start({
      hosts: [['127.0.0.1', 'echo-host.test']],
      srv: servers.map((s) => ({
        name: '_grpc._tcp.echo.test',
        target: 'echo-host.test',
        port: s.port,
        priority: 0,
        weight: 1,
      })),
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('SRV records: every target:port becomes an endpoint', async () => {
    const client = fleet.open(
      `switchyard-dns://${dns.server}/_grpc._tcp.echo.test`,
      channelOptions({ policy: 'round_robin', balancer: { name: 'dns-srv' } }),
    );
    await who(client);
    await waitRoutable('dns-srv', 2);
    expect(await burst(client, 10)).toEqual({ s0: 5, s1: 5 });
    expect(
      fleet
        .balancer('dns-srv')!
        .stats()
        .endpoints.map((e) => e.host),
    ).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('A records with the port from the target', async () => {
    const client = fleet.open(
      `switchyard-dns://${dns.server}/echo-host.test:${servers[1]!.port}`,
      channelOptions({ balancer: { name: 'dns-a' } }),
    );
    expect(await burst(client, 4)).toEqual({ s1: 4 });
  });

  it('an unknown name fails calls with the resolver error; a target without a port is refused', async () => {
    const unknown = fleet.open(
      `switchyard-dns://${dns.server}/nothing-here.test:50051`,
      channelOptions({ balancer: { name: 'dns-nx' } }),
    );
    expect(await who(unknown, {}, 3_000)).toMatch(/^ERR 14: switchyard-dns resolver: .*nothing-here\.test/);
    const portless = fleet.open(
      `switchyard-dns://${dns.server}/echo-host.test`,
      channelOptions({ balancer: { name: 'dns-noport' } }),
    );
    expect(await who(portless, {}, 2_000)).toBe(
      'ERR 14: switchyard-dns resolver: target: expected "name:port" (A/AAAA records) or "_service._proto.name" (SRV records), got "echo-host.test"',
    );
  });
});
