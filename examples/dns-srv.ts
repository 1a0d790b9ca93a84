/**
 * Endpoints from DNS SRV records (Consul, Kubernetes named ports, any SRV-serving DNS): targets, ports, priorities
 * and weights all come from the records, and the resolver re-resolves on the records' TTL.
 *
 * The example starts its own DNS server (dnsmasq on 127.0.0.1, through the test suite's helper; install it with
 * `apt-get install -y dnsmasq`) serving `_http._tcp.orders.test` → three local HTTP servers, weighted 1:1:2.
 *
 * Run: npx tsx examples/dns-srv.ts
 */
import { Pool } from 'undici';
import { Balancer, DnsResolver } from '../src/index.js';
import { Dnsmasq } from '../test/helpers/dnsmasq.js';
import { startServers } from './_servers.js';

const servers = await startServers([
  ['a', 1],
  ['b', 1],
  ['c', 1],
]);
const dns = await Dnsmasq.start({
  hosts: servers.map((s) => ['127.0.0.1', `${s.name}.orders.test`] as const),
  srv: servers.map((s) => ({
    name: '_http._tcp.orders.test',
    target: `${s.name}.orders.test`,
    port: s.port,
    priority: 0,
    weight: s.name === 'c' ? 20 : 10,
  })),
});

const balancer = new Balancer({
  resolver: new DnsResolver({ srv: '_http._tcp.orders.test', servers: [dns.server] }),
  policy: 'weighted_round_robin',
  name: 'orders',
});
// The first answer arrives asynchronously.
await new Promise<void>((resolve, reject) => {
  balancer.once('update', () => resolve());
  balancer.once('resolver-error', reject);
});
console.log(
  'endpoints from SRV:',
  balancer.stats().endpoints.map((e) => `${e.address} weight ${e.weight}`),
);

const pools = new Map<string, Pool>();
const answers = new Map<string, number>();
for (let i = 0; i < 80; i++) {
  const lease = balancer.pick();
  if (lease === undefined) throw new Error('nothing routable');
  const { address } = lease.endpoint;
  if (!pools.has(address)) pools.set(address, new Pool(`http://${address}`));
  const res = await pools.get(address)!.request({ path: '/', method: 'GET' });
  const name = (await res.body.text()).trim();
  lease.release();
  answers.set(name, (answers.get(name) ?? 0) + 1);
}
console.log('answers per backend:', Object.fromEntries([...answers].sort()));

await balancer.close();
await Promise.all([...pools.values()].map((p) => p.close()));
await dns.stop();
await Promise.all(servers.map((s) => s.close()));
