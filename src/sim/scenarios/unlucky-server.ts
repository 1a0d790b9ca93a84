/**
 * The unlucky server: requests whose cost is heavy-tailed (lognormal, σ = 1.5: the median request takes 5 ms, one
 * in a thousand over 500 ms). Round robin keeps handing a server its turn even while it is stuck behind a huge
 * request, so the requests queued behind it wait; load-aware policies steer around the queue.
 */
import type { Scenario } from './scenario.js';

export const unluckyServer: Scenario = {
  name: 'unlucky-server',
  summary:
    'Ten identical backends with heavy-tailed service times (lognormal, median 5 ms, σ 1.5) at ~70 % load. ' +
    'Round robin queues requests behind the occasional huge one; least_request and the latency-aware policies route around it.',
  fleet: {
    name: 'unlucky-server',
    seed: 7,
    durationMs: 30_000,
    clients: 10,
    arrivals: { type: 'poisson', ratePerSec: 1800 },
    backends: [
      {
        name: 'server',
        count: 10,
        concurrency: 4,
        queue: 1000,
        serviceTime: { type: 'lognormal', medianMs: 5, sigma: 1.5, maxMs: 5000 },
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
