/**
 * Subsetting with the grpc-js policy: only the subset's endpoints get subchannels. Connections are counted by TCP
 * proxies in front of real grpc-js servers ('connection' events), not by the client.
 */
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelOptions, setup } from '../../src/grpc/index.js';
import { apertureWindow, serverRing } from '../../src/subsetting/index.js';
import { burst, type TestServer, useEchoFleet, waitFor } from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(6);

interface Proxy {
  readonly address: string;
  readonly server: Server;
  connections: number;
  readonly sockets: Set<Socket>;
}

async function proxyTo(target: TestServer): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    proxy.connections++;
    const upstream = connect(target.port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy: Proxy = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    connections: 0,
    sockets,
  };
  return proxy;
}

let proxies: Proxy[] = [];
beforeAll(async () => {
  proxies = await Promise.all(fleet.servers.map(proxyTo));
});
afterAll(() => {
  for (const p of proxies) {
    for (const s of p.sockets) s.destroy();
    p.server.close();
  }
});

describe('grpc-js policy with subset', () => {
  it('validates balancer.subset with the other options, naming the field', () => {
    expect(() => channelOptions({ balancer: { subset: { kind: 'aperture', minAperture: 0 } } })).toThrow(
      /balancer\.subset\.minAperture: expected an integer from 1 to 10000/,
    );
  });

  it('opens connections only to each channel’s subset (4 channels × 6 backends, aperture 2)', async () => {
    const addresses = proxies.map((p) => p.address);
    const target = `switchyard-static:///${addresses.join(',')}`;
    const subsets: string[][] = [];
    const clients = [0, 1, 2, 3].map((index) => {
      const coordinate = { index, count: 4 };
      subsets.push(
        apertureWindow(serverRing(addresses, 0), coordinate, 2, 'stable').members.map((m) => m.address),
      );
      return fleet.open(target, {
        ...channelOptions({
          policy: 'round_robin',
          balancer: { name: `subset-${index}`, subset: { kind: 'aperture', coordinate, minAperture: 2 } },
        }),
        // One connection per channel and backend: no sharing of subchannels between the test's channels.
        'grpc.use_local_subchannel_pool': 1,
      });
    });
    for (const client of clients) {
      const counts = await burst(client, 24, 4);
      expect(Object.keys(counts).every((k) => !k.startsWith('ERR'))).toBe(true);
    }
    const expected = addresses.map((a) => subsets.filter((s) => s.includes(a)).length);
    await waitFor(
      () => proxies.every((p, i) => p.connections === expected[i]),
      3_000,
      'connections per backend',
    );
    expect(proxies.map((p) => p.connections)).toEqual(expected);
    // 4 channels × 6 backends would be 24 connections.
    expect(expected.reduce((a, b) => a + b, 0)).toBeLessThan(24);
  });

  it('widens past members that cannot connect, and calls keep succeeding', async () => {
    const addresses = proxies.map((p) => p.address);
    const coordinate = { index: 1, count: 4 };
    const ring = serverRing(addresses, 0);
    const { members, rest } = apertureWindow(ring, coordinate, 2, 'stable');
    // All but one member down: fewer healthy than minAperture (2), so the subset must widen.
    for (const { address } of members.slice(0, -1)) {
      const deadProxy = proxies.find((p) => p.address === address)!;
      deadProxy.server.close();
      for (const s of deadProxy.sockets) s.destroy();
    }
    const next = proxies.find((p) => p.address === rest[0])!;
    const before = next.connections;
    const client = fleet.open(`switchyard-static:///${addresses.join(',')}`, {
      ...channelOptions({
        policy: 'round_robin',
        balancer: { name: 'subset-widen', subset: { kind: 'aperture', coordinate, minAperture: 2 } },
      }),
      'grpc.use_local_subchannel_pool': 1,
    });
    const counts = await burst(client, 20, 2);
    expect(Object.keys(counts).every((k) => !k.startsWith('ERR'))).toBe(true);
    await waitFor(() => next.connections > before, 3_000, 'a connection to the next backend on the ring');
  });
});
