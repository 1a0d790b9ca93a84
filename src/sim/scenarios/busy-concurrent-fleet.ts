/**
 * Servers that serve requests concurrently (an event loop, a thread per request: latency does not grow with the
 * number in flight), and clients that keep many requests in flight. Finagle's cost `estimate × (inFlight + 1)`
 * assumes every request in flight waits ahead of the new one, so at ~25 in flight per client an idle backend 6×
 * slower looks as cheap as a fast one holding five requests and keeps about one request in flight all the time:
 * ~1 % of all requests, which puts p99 at its latency. The default's concurrent-server cost charges the slower
 * candidate at least the typical in-flight count (load/concurrent-cost.ts).
 */
import type { Scenario } from './scenario.js';

export const busyConcurrentFleet: Scenario = {
  name: 'busy-concurrent-fleet',
  summary:
    'Two clients with ~25 requests in flight each; five backends that serve requests concurrently: four at 5 ms ' +
    '(0.3 % of answers at 60 ms), one at 30 ms (benchmarks/noisy-tail.ts as its client measures it). The default ' +
    "(p2c_robust_ewma) against the same policy with Finagle's cost (cost: 'queue'), classic p2c_peak_ewma, " +
    'least_request and round_robin.',
  fleet: {
    name: 'busy-concurrent-fleet',
    seed: 47,
    durationMs: 10_000,
    clients: 2,
    arrivals: { type: 'poisson', ratePerSec: 8000 },
    networkDelay: { type: 'lognormal', medianMs: 0.3, sigma: 0.5 },
    clientStalls: { ratePerSec: 0.2, durationMs: 20 },
    backends: [
      {
        name: 'fast',
        count: 4,
        concurrency: 10_000,
        serviceTime: { type: 'bimodal', fastMs: 5, slowMs: 60, slowFraction: 0.003 },
      },
      { name: 'slow', concurrency: 10_000, serviceTime: { type: 'lognormal', medianMs: 30, sigma: 0.3 } },
    ],
    configurations: [
      { name: 'round_robin', policy: 'round_robin' },
      { name: 'least_request', policy: 'least_request' },
      { name: 'p2c_peak_ewma', policy: 'p2c_peak_ewma' },
      { name: "default, cost: 'queue'", policy: { name: 'p2c_robust_ewma', cost: 'queue' } },
      { name: 'p2c_robust_ewma', policy: 'p2c_robust_ewma' },
    ],
  },
};
