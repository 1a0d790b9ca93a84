/**
 * Cost of the simulator: one million simulated requests (20 backends, 20 clients, lognormal service times, 1 s
 * timeout) per policy, reported as simulated requests per wall-clock second. `random` — the cheapest policy — is
 * the baseline of the same run, so the ratios show what the policy itself costs on top of the engine.
 *
 * Run: npx tsx scripts/sim-bench.ts
 */
import { parseFleetConfig } from '../src/sim/config.js';
import { simulate } from '../src/sim/engine.js';

const POLICIES = ['random', 'round_robin', 'least_request', 'p2c_peak_ewma'] as const;

function fleet(policy: string) {
  return parseFleetConfig({
    name: 'bench',
    seed: 1,
    durationMs: 250_000,
    clients: 20,
    timeoutMs: 1000,
    arrivals: { type: 'poisson', ratePerSec: 4000 },
    backends: [
      { name: 'web', count: 20, concurrency: 8, serviceTime: { type: 'lognormal', medianMs: 10, sigma: 1 } },
    ],
    configurations: [{ name: policy, policy }],
  });
}

const rows: { policy: string; requests: number; seconds: number; perSecond: number }[] = [];
for (const policy of POLICIES) {
  const result = simulate(fleet(policy));
  const c = result.configurations[0]!;
  rows.push({
    policy,
    requests: c.requests,
    seconds: c.wallMs / 1000,
    perSecond: (c.requests * 1000) / c.wallMs,
  });
}
const base = rows[0]!.perSecond;
console.log('policy          requests   wall s   simulated req/s   vs random');
for (const r of rows) {
  console.log(
    `${r.policy.padEnd(14)} ${r.requests.toLocaleString('en-US').padStart(9)} ${r.seconds.toFixed(2).padStart(8)} ` +
      `${Math.round(r.perSecond).toLocaleString('en-US').padStart(17)}   ${(r.perSecond / base).toFixed(2)}×`,
  );
}
