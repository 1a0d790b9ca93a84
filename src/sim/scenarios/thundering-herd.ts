/**
 * Thundering herd on a restarted server: a deploy restarts one of ten backends. It comes back cold (five times
 * slower at first, recovering over 10 s: empty caches, JIT not warmed up) and gets traffic at once: its full share
 * under weighted round robin, and under least-request every client sees it with nothing in flight and sends it
 * requests until its own in-flight count there catches up. Slow start (Envoy `slow_start_config`) ramps its weight
 * from 10 % over a window instead.
 */
import type { Scenario } from './scenario.js';

export const thunderingHerd: Scenario = {
  name: 'thundering-herd',
  summary:
    'Ten backends at ~60 % load, 20 clients; at t = 10 s one restarts and re-registers cold (5× slower, warming ' +
    'up over 10 s). weighted_round_robin and least_request with 10 choices (close to "least connections"), each ' +
    'without and with a 10 s slow start.',
  fleet: {
    name: 'thundering-herd',
    seed: 23,
    durationMs: 40_000,
    clients: 20,
    timeoutMs: 1000,
    arrivals: { type: 'poisson', ratePerSec: 4800 },
    backends: [
      { name: 'steady', count: 9, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 10 } },
      {
        name: 'restarted',
        concurrency: 8,
        serviceTime: { type: 'exponential', meanMs: 10 },
        timeline: [
          { atMs: 10_000, action: 'deregister' },
          { atMs: 10_000, action: 'down' },
          { atMs: 15_000, action: 'up', warmupMs: 10_000, warmupFactor: 5 },
          { atMs: 15_000, action: 'register' },
        ],
      },
    ],
    configurations: [
      { name: 'weighted_round_robin', policy: 'weighted_round_robin' },
      {
        name: 'weighted_round_robin + slow start',
        policy: 'weighted_round_robin',
        balancer: { slowStart: { windowMs: 10_000 } },
      },
      { name: 'least_request', policy: { name: 'least_request', choiceCount: 10 } },
      {
        name: 'least_request + slow start',
        policy: { name: 'least_request', choiceCount: 10 },
        balancer: { slowStart: { windowMs: 10_000 } },
      },
    ],
  },
};
