/**
 * `createFetch`: a function with fetch's signature that balances every request, for code that takes a fetch
 * implementation (SDK clients, ky, openapi-fetch, …).
 *
 * Run: npx tsx examples/fetch-wrapper.ts
 */
import { createFetch } from '../src/undici/index.js';
import { startServers } from './_servers.js';

const servers = await startServers([
  ['a', 1],
  ['b', 1],
  ['c', 1],
]);

const fetch = createFetch({
  balancer: { endpoints: servers.map((s) => s.address), policy: 'round_robin', name: 'catalog' },
});

const answeredBy: string[] = [];
for (let i = 0; i < 6; i++) {
  const res = await fetch('http://catalog.internal/items/42');
  answeredBy.push((await res.text()).trim());
}
console.log('answered by, in order:', answeredBy.join(' '));

await fetch.close();
await Promise.all(servers.map((s) => s.close()));
