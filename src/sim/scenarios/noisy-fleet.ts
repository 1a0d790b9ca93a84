/**
 * A noisy fleet: four fast backends that are not perfectly clean — rare whole-process pauses (a GC, a noisy
 * neighbour), heavy-ish tails, network jitter, clients whose event loops stall now and then — and one backend
 * steadily 10× slower. Classic Peak-EWMA takes every pause as the fast backends' latency and keeps them looking
 * almost as slow as the slow one; the robust estimator (the default) ignores isolated spikes.
 */
import type { Scenario } from './scenario.js';

const fast = {
  concurrency: 16,
  serviceTime: { type: 'lognormal', medianMs: 5, sigma: 0.3 },
  pauses: { probability: 0.001, durationMs: 60 },
} as const;

export const noisyFleet: Scenario = {
  name: 'noisy-fleet',
  summary:
    'Four backends at 5 ms (lognormal σ 0.3) with 60 ms process pauses triggered by 0.1 % of requests, one steadily ' +
    'at 50 ms; 0.3 ms network jitter, client stalls of 30 ms every 10 s. The default (p2c_robust_ewma) against ' +
    'classic p2c_peak_ewma, least_request and round_robin.',
  fleet: {
    name: 'noisy-fleet',
    seed: 41,
    durationMs: 20_000,
    clients: 8,
    arrivals: { type: 'poisson', ratePerSec: 800 },
    networkDelay: { type: 'lognormal', medianMs: 0.3, sigma: 0.5 },
    clientStalls: { ratePerSec: 0.1, durationMs: 30 },
    backends: [
      { name: 'fast', count: 4, ...fast },
      { name: 'slow', concurrency: 16, serviceTime: { type: 'lognormal', medianMs: 50, sigma: 0.3 } },
    ],
    configurations: [
      { name: 'round_robin', policy: 'round_robin' },
      { name: 'least_request', policy: 'least_request' },
      { name: 'p2c_peak_ewma', policy: 'p2c_peak_ewma' },
      { name: 'p2c_robust_ewma', policy: 'p2c_robust_ewma' },
    ],
  },
};

/**
 * The same noise, and a backend that turns 10× slower at t = 10 s: the robust estimator still has to notice a
 * real slowdown within a few samples (it needs three independent slow answers; classic Peak-EWMA needs one but
 * has been misled by the noise all along; plain EWMA needs ~τ).
 */
export const slowdownUnderNoise: Scenario = {
  name: 'slowdown-under-noise',
  summary:
    'Five backends as the fast ones in noisy-fleet; at t = 10 s one turns 10× slower. How much traffic it still ' +
    'gets right after, per policy (plain EWMA = p2c_robust_ewma with spikeFactor 1000: no peak rule at all).',
  fleet: {
    name: 'slowdown-under-noise',
    seed: 43,
    durationMs: 20_000,
    clients: 8,
    sampleMs: 100,
    arrivals: { type: 'poisson', ratePerSec: 2000 },
    networkDelay: { type: 'lognormal', medianMs: 0.3, sigma: 0.5 },
    clientStalls: { ratePerSec: 0.1, durationMs: 30 },
    backends: [
      { name: 'steady', count: 4, ...fast },
      { name: 'turns-slow', ...fast, timeline: [{ atMs: 10_000, action: 'slow', factor: 10 }] },
    ],
    configurations: [
      { name: 'round_robin', policy: 'round_robin' },
      { name: 'plain EWMA', policy: { name: 'p2c_robust_ewma', spikeFactor: 1000 } },
      { name: 'p2c_peak_ewma', policy: 'p2c_peak_ewma' },
      { name: 'p2c_robust_ewma', policy: 'p2c_robust_ewma' },
    ],
  },
};
