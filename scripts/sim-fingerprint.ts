/**
 * A fingerprint of seeded simulations of the latency-aware policies, to show that a change to the estimators or
 * the p2c pickers leaves their results bit for bit as they were: `npx tsx scripts/sim-fingerprint.ts` on the base
 * and on the branch, then compare the printed hashes (one per fleet and seed, and `ALL`). A different hash means some
 * pick went the other way; then compare the printed p99s and the behaviour tests (test/sim/latency-aware.test.ts).
 *
 * Fleets: the ones test/sim/latency-aware.test.ts checks (rare pauses with one 10× slower backend; lognormal
 * replicas; a backend that turns 10× slower; servers that serve requests concurrently at ~64 in flight), shortened
 * to seconds; seeds 1–3; the default, the default with Finagle's cost, and classic Peak-EWMA.
 */
import { createHash } from 'node:crypto';
import { type FleetConfig, parseFleetConfig } from '../src/sim/config.js';
import { simulate } from '../src/sim/engine.js';

const configurations = [
  { name: 'default', policy: 'p2c_robust_ewma' },
  { name: 'classic_peak', policy: 'p2c_peak_ewma' },
  { name: 'queue_cost', policy: { name: 'p2c_robust_ewma', cost: 'queue' } },
] as const;
const pauses = { probability: 0.001, durationMs: 60 } as const;
const constant = (ms: number) => ({ type: 'constant', ms }) as const;

function fleets(seed: number): Omit<FleetConfig, 'configurations'>[] {
  const clients4 = {
    seed,
    clients: 4,
    durationMs: 4000,
    arrivals: { type: 'poisson', ratePerSec: 400 },
  } as const;
  return [
    {
      ...clients4,
      backends: [
        { name: 'fast', count: 4, concurrency: 16, serviceTime: constant(5), pauses },
        { name: 'slow', concurrency: 16, serviceTime: constant(50) },
      ],
    },
    {
      ...clients4,
      backends: [
        {
          name: 'fast',
          count: 4,
          concurrency: 16,
          serviceTime: { type: 'lognormal', medianMs: 5, sigma: 0.8 },
        },
        { name: 'slow', concurrency: 16, serviceTime: { type: 'lognormal', medianMs: 25, sigma: 0.8 } },
      ],
    },
    {
      seed,
      clients: 10,
      durationMs: 3000,
      arrivals: { type: 'poisson', ratePerSec: 4000 },
      backends: [
        { name: 'fast', count: 4, concurrency: 64, serviceTime: constant(5), pauses },
        {
          name: 'turns-slow',
          concurrency: 64,
          serviceTime: constant(5),
          pauses,
          timeline: [{ atMs: 1500, action: 'slow', factor: 10 }],
        },
      ],
    },
    {
      seed,
      clients: 1,
      durationMs: 3000,
      arrivals: { type: 'poisson', ratePerSec: 64_000 / 6 },
      networkDelay: { type: 'lognormal', medianMs: 0.3, sigma: 0.5 },
      clientStalls: { ratePerSec: 0.2, durationMs: 20 },
      backends: [
        {
          name: 'fast',
          count: 4,
          concurrency: 100_000,
          serviceTime: { type: 'bimodal', fastMs: 5, slowMs: 60, slowFraction: 0.003 },
        },
        { name: 'slow', concurrency: 100_000, serviceTime: constant(30) },
      ],
    },
  ] as Omit<FleetConfig, 'configurations'>[];
}

const all = createHash('sha256');
for (const seed of [1, 2, 3]) {
  for (const [k, fleet] of fleets(seed).entries()) {
    const result = simulate(parseFleetConfig({ ...fleet, configurations }));
    const summary = result.configurations.map((c) => [c.name, c.latency, c.backends.map((b) => b.share)]);
    const hash = createHash('sha256').update(JSON.stringify(summary)).digest('hex').slice(0, 12);
    all.update(hash);
    const p99s = result.configurations.map((c) => `${c.name} p99 ${c.latency.p99.toFixed(3)} ms`).join(', ');
    console.log(`seed ${seed} fleet ${k}: ${hash}  (${p99s})`);
  }
}
console.log(`ALL ${all.digest('hex').slice(0, 16)}`);
