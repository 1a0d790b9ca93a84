/**
 * Endpoints from DNS SRV records (Consul, Kubernetes named ports, any SRV-serving DNS): targets, ports, priorities
 * and weights all come from the records, and the resolver re-resolves on the records' TTL.
 *
 * The example starts its own DNS server (dnsmasq on 127.0.0.1, through the test suite's helper; install it with
 * `apt-get install -y dnsmasq`) serving `_http._tcp.orders.test` → three local HTTP servers, weighted 1:1:2.
 *
 * Run: npx tsx examples/dns-srv.ts
 */
import { Balancer, DnsResolver } from '../src/index.js';
import { Dnsmasq } from '../test/helpers/dnsmasq.js';
import { countAnswers, startServers } from './_servers.js';

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

console.log('answers per backend:', await countAnswers(balancer, 80));

await balancer.close();
await dns.stop();
await Promise.all(servers.map((s) => s.close()));
