/**
 * Retry storm: the fleet runs at ~70 % load when a slowdown (a GC storm, a slow dependency) cuts its capacity for
 * 5 s. Requests time out; with three attempts and no budget every timeout becomes up to three requests, and the
 * backends — still working on the requests their clients gave up on — stay overloaded long after the slowdown
 * ends (a metastable failure). A retry budget (20 % of requests, Finagle/Linkerd) caps the extra load and the fleet
 * recovers a few seconds after the slowdown ends — later than with no retries at all: during overload every retry
 * is extra load, and a budget bounds the damage rather than making retries free.
 */
import type { Scenario } from './scenario.js';

const slowdown = [
  { atMs: 10_000, action: 'slow', factor: 2.5 },
  { atMs: 15_000, action: 'slow', factor: 1 },
] as const;

export const retryStorm: Scenario = {
  name: 'retry-storm',
  summary:
    'Ten backends at ~70 % load; from t = 10 s to 15 s every backend is 2.5× slower. Per-try timeout 300 ms, three ' +
    'attempts: no retries, retries without a budget, retries with the default 20 % budget.',
  fleet: {
    name: 'retry-storm',
    seed: 43,
    durationMs: 40_000,
    clients: 10,
    timeoutMs: 300,
    arrivals: { type: 'poisson', ratePerSec: 5600 },
    backends: [
      {
        name: 'server',
        count: 10,
        concurrency: 8,
        queue: 2000,
        serviceTime: { type: 'exponential', meanMs: 10 },
        timeline: [...slowdown],
      },
    ],
    configurations: [
      { name: 'no retries', policy: 'least_request' },
      { name: 'retries, no budget', policy: 'least_request', retry: { maxAttempts: 3, budget: false } },
      { name: 'retries + budget', policy: 'least_request', retry: { maxAttempts: 3 } },
    ],
  },
};
