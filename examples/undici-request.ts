/**
 * switchyard with undici: a `BalancedDispatcher` is one logical service over its endpoints. Pass it as the
 * `dispatcher` of `undici.request` (or `fetch`, `stream`, `pipeline`); the URL names the service, the dispatcher
 * picks the endpoint per request, retries elsewhere on failure and ejects endpoints that keep failing.
 *
 * Run: npx tsx examples/undici-request.ts
 */
import { request } from 'undici';
import { BalancedDispatcher } from '../src/undici/index.js';
import { startServer, startServers } from './_servers.js';

const healthy = await startServers([
  ['a', 2],
  ['b', 2],
]);
const broken = await startServer('broken', 0, 503);

const orders = new BalancedDispatcher({
  balancer: {
    endpoints: [...healthy, broken].map((s) => s.address),
    policy: 'least_request',
    name: 'orders',
    outlierDetection: { consecutive5xx: 3 }, // eject after 3 failures in a row (Envoy default: 5)
  },
  retry: { maxAttempts: 3 }, // retry 502/503/504, resets, timeouts and refused connections on another endpoint
});

const statuses = new Map<number, number>();
const answeredBy = new Map<string, number>();
for (let i = 0; i < 60; i++) {
  const res = await request('http://orders.internal/v1/orders', { dispatcher: orders });
  const body = (await res.body.text()).trim();
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  answeredBy.set(body, (answeredBy.get(body) ?? 0) + 1);
}
console.log('statuses seen by the caller:', Object.fromEntries(statuses));
console.log('answered by:', Object.fromEntries([...answeredBy].sort()));
console.log(
  'endpoint conditions:',
  orders.balancer.stats().endpoints.map((e) => `${e.address} ${e.condition}`),
);

await orders.close();
await Promise.all([...healthy, broken].map((s) => s.close()));
