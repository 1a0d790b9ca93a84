/**
 * One process, several services: a `BalancedAgent` routes each request by origin to that service's balancer and
 * sends everything else through a plain undici Agent. Installed as the global dispatcher, it balances every
 * `undici.request` and `undici.fetch` in the process without touching the call sites.
 *
 * Run: npx tsx examples/global-dispatcher.ts
 */
import { fetch, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { BalancedAgent } from '../src/undici/index.js';
import { startServer, startServers } from './_servers.js';

const orders = await startServers([
  ['orders-1', 1],
  ['orders-2', 1],
]);
const users = await startServers([
  ['users-1', 1],
  ['users-2', 1],
  ['users-3', 1],
]);
const elsewhere = await startServer('not-balanced', 1);

const previous = getGlobalDispatcher();
const agent = new BalancedAgent({
  services: {
    'http://orders.internal': {
      balancer: { endpoints: orders.map((s) => s.address), policy: 'round_robin', name: 'orders' },
    },
    'http://users.internal': {
      balancer: { endpoints: users.map((s) => s.address), policy: 'least_request', name: 'users' },
    },
  },
});
setGlobalDispatcher(agent);

const seen = new Map<string, number>();
const count = (name: string) => seen.set(name, (seen.get(name) ?? 0) + 1);
for (let i = 0; i < 12; i++) {
  const a = await request('http://orders.internal/v1/orders');
  count((await a.body.text()).trim());
  const b = await fetch('http://users.internal/v1/me');
  count((await b.text()).trim());
}
// Any other origin goes to the fallback Agent, unbalanced.
const other = await request(`http://${elsewhere.address}/`);
count((await other.body.text()).trim());

console.log('answered by:', Object.fromEntries([...seen].sort()));

setGlobalDispatcher(previous);
await agent.close();
await Promise.all([...orders, ...users, elsewhere].map((s) => s.close()));
