/**
 * Exporting switchyard metrics with prom-client: per-endpoint gauges and counters read from `balancer.stats()` at
 * scrape time, and a counter of every diagnostics-channel event (ejections, panics, retries, …) by balancer.
 *
 * Run: npx tsx examples/prometheus.ts — it starts two local backends and a /metrics server, sends some traffic,
 * scrapes /metrics once and prints it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { Pool, request } from 'undici';
import { Balancer, countEvents } from '../src/index.js';
import { startServers } from './_servers.js';

const servers = await startServers([
  ['a', 1],
  ['b', 5],
]);
const balancers = [
  new Balancer({ endpoints: servers.map((s) => s.address), policy: 'least_request', name: 'orders' }),
];

// ---- metrics --------------------------------------------------------------------------------------------------
const registry = new Registry();
const events = countEvents();
const labelNames = ['balancer', 'endpoint'] as const;

new Gauge({
  name: 'switchyard_endpoint_in_flight',
  help: 'Requests in flight per endpoint.',
  labelNames,
  registers: [registry],
  collect() {
    this.reset();
    for (const b of balancers) {
      for (const e of b.stats().endpoints) this.set({ balancer: b.name, endpoint: e.address }, e.inFlight);
    }
  },
});
new Gauge({
  name: 'switchyard_endpoint_latency_estimate_ms',
  help: 'Peak-EWMA latency estimate per endpoint, ms.',
  labelNames,
  registers: [registry],
  collect() {
    this.reset();
    for (const b of balancers) {
      for (const e of b.stats().endpoints)
        this.set({ balancer: b.name, endpoint: e.address }, e.latencyEstimateMs);
    }
  },
});
new Counter({
  name: 'switchyard_endpoint_requests_total',
  help: 'Requests released per endpoint, by outcome.',
  labelNames: [...labelNames, 'outcome'],
  registers: [registry],
  collect() {
    // stats() holds lifetime totals: set the counter to them (prom-client counters only go up, and so do these).
    this.reset();
    for (const b of balancers) {
      for (const e of b.stats().endpoints) {
        this.inc({ balancer: b.name, endpoint: e.address, outcome: 'success' }, e.successes);
        this.inc({ balancer: b.name, endpoint: e.address, outcome: 'failure' }, e.failures);
      }
    }
  },
});
new Gauge({
  name: 'switchyard_panic',
  help: '1 while the healthy-panic threshold is in force.',
  labelNames: ['balancer'],
  registers: [registry],
  collect() {
    for (const b of balancers) this.set({ balancer: b.name }, b.panic ? 1 : 0);
  },
});
new Counter({
  name: 'switchyard_events_total',
  help: 'switchyard diagnostics-channel events (endpointAdded, endpointEjected, panic, retry, …) by balancer.',
  labelNames: ['balancer', 'event'],
  registers: [registry],
  collect() {
    this.reset();
    for (const [event, byBalancer] of events.counts) {
      for (const [balancer, n] of byBalancer) this.inc({ balancer, event }, n);
    }
  },
});

const metricsServer = createServer(async (_req, res) => {
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(await registry.metrics());
});
await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));

// ---- traffic --------------------------------------------------------------------------------------------------
// Registered after the balancer was built, so replace the endpoint set once to see endpoint events counted.
balancers[0]!.setEndpoints([servers[0]!.address]);
balancers[0]!.setEndpoints(servers.map((s) => s.address));
const pools = new Map(servers.map((s) => [s.address, new Pool(`http://${s.address}`)]));
await Promise.all(
  Array.from({ length: 100 }, async () => {
    const lease = balancers[0]!.pick();
    if (lease === undefined) return;
    const res = await pools.get(lease.endpoint.address)!.request({ path: '/', method: 'GET' });
    await res.body.dump();
    lease.release();
  }),
);

// ---- scrape once ----------------------------------------------------------------------------------------------
const { port } = metricsServer.address() as AddressInfo;
const scrape = await request(`http://127.0.0.1:${port}/metrics`);
console.log(await scrape.body.text());

events.stop();
metricsServer.close();
await Promise.all(balancers.map((b) => b.close()));
await Promise.all([...pools.values()].map((p) => p.close()));
await Promise.all(servers.map((s) => s.close()));
