/**
 * Cascading failure: a two-second blip makes six of ten backends answer 90 % of their requests with 503s. Outlier
 * detection (allowed to eject up to 100 % of the fleet here, to show the failure mode) ejects all six for 30 s, the
 * remaining four get 2.5× their load, overflow their queues, fail in turn and are ejected as well: a two-second
 * blip becomes a long outage. With the healthy-panic threshold (Envoy's default 50 %) the balancer stops trusting
 * ejection once less than half the fleet is healthy and spreads load across every backend again.
 */
import type { Scenario } from './scenario.js';

const ejection = { consecutive5xx: 5, maxEjectionPercent: 100, intervalMs: 1000, baseEjectionTimeMs: 30_000 };

export const cascadingFailure: Scenario = {
  name: 'cascading-failure',
  summary:
    'Ten backends at ~55 % load; at t = 10 s six of them return 503 to 90 % of their requests for 2 s. Outlier ' +
    'ejection (up to 100 % of hosts) with the panic threshold off, and with it at 50 % (the default).',
  fleet: {
    name: 'cascading-failure',
    seed: 31,
    durationMs: 60_000,
    clients: 10,
    timeoutMs: 1000,
    arrivals: { type: 'poisson', ratePerSec: 4400 },
    backends: [
      {
        name: 'steady',
        count: 4,
        concurrency: 8,
        queue: 64,
        serviceTime: { type: 'exponential', meanMs: 10 },
      },
      {
        name: 'blipped',
        count: 6,
        concurrency: 8,
        queue: 64,
        serviceTime: { type: 'exponential', meanMs: 10 },
        timeline: [
          { atMs: 10_000, action: 'errors', rate: 0.9 },
          { atMs: 12_000, action: 'errors', rate: 0 },
        ],
      },
    ],
    configurations: [
      { name: 'no ejection', policy: 'least_request' },
      {
        name: 'ejection, panic off',
        policy: 'least_request',
        balancer: { outlierDetection: ejection, panicThreshold: 0 },
      },
      {
        name: 'ejection, panic 50%',
        policy: 'least_request',
        balancer: { outlierDetection: ejection, panicThreshold: 50 },
      },
    ],
  },
};
