/**
 * A Balancer fed by a DnsResolver against a real dnsmasq: picks reach real HTTP servers at the resolved
 * addresses, and follow a DNS change.
 */
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { seededRandom } from '../../src/random.js';
import { describeWithDnsmasq } from '../helpers/dns-resolver.js';

describeWithDnsmasq('Balancer over DnsResolver', ({ setup, cleanup }) => {
  it('drives a Balancer: picks reach the resolved servers over HTTP and follow a DNS change', async () => {
    const servers = await httpServers(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    cleanup(() => Promise.all(servers.list.map((s) => new Promise((r) => s.close(r)))));
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
    cleanup(() => balancer.close());
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
});

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
