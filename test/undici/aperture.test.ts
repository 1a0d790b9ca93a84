/**
 * The real check of issue 19: 20 client BalancedDispatchers in one process over 10 local node:http backends with an
 * aperture of 3. Connections are counted by the servers themselves ('connection' events), not by the clients.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/random.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';

interface CountingServer {
  readonly address: string;
  readonly server: Server;
  connections: number;
}

async function countingServer(): Promise<CountingServer> {
  const server = createServer((_req, res) => res.end('ok'));
  const entry = { address: '', server, connections: 0 };
  server.on('connection', () => entry.connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  entry.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return entry;
}

let servers: CountingServer[] = [];
let dispatchers: BalancedDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.map((d) => d.destroy()));
  for (const s of servers) {
    s.server.closeAllConnections();
    s.server.close();
  }
  servers = [];
  dispatchers = [];
});

describe('aperture with the undici adapter: 20 clients × 10 backends, aperture 3', () => {
  it('each backend sees connections only from the clients whose subset holds it', async () => {
    servers = await Promise.all(Array.from({ length: 10 }, countingServer));
    const addresses = servers.map((s) => s.address);
    dispatchers = Array.from(
      { length: 20 },
      (_, index) =>
        new BalancedDispatcher({
          balancer: {
            endpoints: addresses,
            // Round robin uses every member of the subset, so every subset connection is opened.
            policy: 'round_robin',
            random: seededRandom(index),
            subset: { kind: 'aperture', coordinate: { index, count: 20 }, minAperture: 3 },
          },
          pool: { connections: 1 },
        }),
    );
    await Promise.all(
      dispatchers.map(async (d) => {
        for (let i = 0; i < 12; i++) {
          const res = await d.request({ origin: 'http://orders.internal', path: '/', method: 'GET' });
          await res.body.text();
        }
      }),
    );
    // What the subsets say each backend should see: one connection per client holding it (Pools of 1).
    const expected = new Map(addresses.map((a) => [a, 0]));
    for (const d of dispatchers) {
      const members = d.balancer.subset!.members;
      expect(new Set(d.poolAddresses())).toEqual(new Set(members));
      for (const a of members) expected.set(a, expected.get(a)! + 1);
    }
    const measured = servers.map((s) => s.connections);
    expect(measured).toEqual(addresses.map((a) => expected.get(a)));
    const total = measured.reduce((a, b) => a + b, 0);
    const mean = total / servers.length;
    // Full mesh would be 200 connections, 20 per backend.
    expect(total).toBeLessThanOrEqual(0.4 * 200);
    expect(Math.max(...measured) / mean).toBeLessThanOrEqual(1.25);
    expect(Math.min(...measured)).toBeGreaterThan(0);
    console.log(
      `aperture 3, 20 clients × 10 backends: connections per backend ${measured.join(' ')} (total ${total} of 200)`,
    );
  });
});
