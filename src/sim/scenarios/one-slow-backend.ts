/**
 * One slow backend: ten backends, one of which becomes 10× slower 10 s in (a noisy neighbour, a bad disk). The
 * Linkerd 2016 experiment in miniature: round robin keeps sending it a tenth of the traffic, least_request sends it
 * less once its queue builds, p2c_peak_ewma notices the latency itself and sends it almost nothing.
 */
import type { Scenario } from './scenario.js';

export const oneSlowBackend: Scenario = {
  name: 'one-slow-backend',
  summary:
    'Ten backends (exponential, mean 10 ms, 8 workers each) at ~50 % load; at t = 10 s one of them turns 10× slower. ' +
    'Compares round_robin, least_request, p2c_peak_ewma and p2c_robust_ewma (the default) with a 1 s client timeout.',
  fleet: {
    name: 'one-slow-backend',
    seed: 11,
    durationMs: 30_000,
    clients: 10,
    timeoutMs: 1000,
    arrivals: { type: 'poisson', ratePerSec: 4000 },
    backends: [
      { name: 'fast', count: 9, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 10 } },
      {
        name: 'slow',
        concurrency: 8,
        serviceTime: { type: 'exponential', meanMs: 10 },
        timeline: [{ atMs: 10_000, action: 'slow', factor: 10 }],
      },
    ],
    configurations: [
      { name: 'round_robin', policy: 'round_robin' },
      { name: 'least_request', policy: 'least_request' },
      { name: 'p2c_peak_ewma', policy: 'p2c_peak_ewma' },
      { name: 'p2c_robust_ewma', policy: 'p2c_robust_ewma' },
    ],
  },
};
