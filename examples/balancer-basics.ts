/**
 * The core on its own: a Balancer picks an endpoint per request, the caller sends the request however it likes
 * (here an undici Pool per endpoint) and reports back with `lease.release(outcome)`.
 *
 * Run: npx tsx examples/balancer-basics.ts
 */
import { Pool } from 'undici';
import { Balancer } from '../src/index.js';
import { startServers } from './_servers.js';

const servers = await startServers([
  ['fast-a', 2],
  ['fast-b', 2],
  ['slow', 40],
]);
const balancer = new Balancer({
  endpoints: servers.map((s) => s.address),
  policy: 'p2c_peak_ewma',
  name: 'basics',
});
const pools = new Map(servers.map((s) => [s.address, new Pool(`http://${s.address}`)]));

const answeredBy = new Map<string, number>();
for (let i = 0; i < 200; i++) {
  const lease = balancer.pick();
  if (lease === undefined) throw new Error('nothing routable');
  try {
    const res = await pools.get(lease.endpoint.address)!.request({ path: '/', method: 'GET' });
    const body = (await res.body.text()).trim();
    if (res.statusCode >= 500) lease.release({ ok: false, failure: 'status', status: res.statusCode });
    else lease.release(); // success: latency measured from the pick
    answeredBy.set(body, (answeredBy.get(body) ?? 0) + 1);
  } catch {
    lease.release({ ok: false, failure: 'connect' });
  }
}

console.log('answers per backend:', Object.fromEntries(answeredBy));
for (const e of balancer.stats().endpoints) {
  console.log(`${e.address}  picks ${e.picks}  latency estimate ${e.latencyEstimateMs.toFixed(1)} ms`);
}
await balancer.close();
await Promise.all([...pools.values()].map((p) => p.close()));
await Promise.all(servers.map((s) => s.close()));
