/**
 * Cost of health on the hot path: pick + release with outlier detection (the `outcome` hook runs on every
 * release) against the same balancer without it, and the cost of a picker rebuild with priorities/zones.
 * Run: `node --import tsx benchmarks/health.ts`. Reports ns/op and the ratio to the baseline of the same run.
 */
import { Balancer } from '../src/balancer/balancer.js';
import type { Outcome } from '../src/balancer/outcome.js';
import { seededRandom } from '../src/random.js';

const endpoints = Array.from({ length: 100 }, (_, i) => ({
  host: '10.0.0.1',
  port: 1000 + i,
  priority: i < 80 ? 0 : 1,
  locality: { zone: i % 2 === 0 ? 'a' : 'b' },
}));
const OK: Outcome = { ok: true, latencyMs: 5, now: 0 };
const FAIL: Outcome = { ok: false, failure: 'status', status: 500, latencyMs: 5, now: 0 };

function pickRelease(b: Balancer, n: number): number {
  const ctx = { now: 0 };
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const lease = b.pick(ctx)!;
    lease.release(i % 50 === 0 ? FAIL : OK);
  }
  return Number(process.hrtime.bigint() - start) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Interleaves the configurations round by round, so machine noise (2 shared cores) hits them alike. */
function measureAll(makers: readonly (() => Balancer)[], rounds = 15, n = 200_000): number[] {
  const balancers = makers.map((make) => make());
  for (const b of balancers) pickRelease(b, n); // warm-up
  const samples = balancers.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < balancers.length; i++) samples[i]!.push(pickRelease(balancers[i]!, n));
  }
  for (const b of balancers) void b.close();
  return samples.map(median);
}

const base = { endpoints, policy: 'p2c_peak_ewma' as const, random: seededRandom(1) };
const [baseline, outlier, everything] = measureAll([
  () => new Balancer({ ...base }),
  () => new Balancer({ ...base, outlierDetection: { consecutive5xx: 1_000_000 } }),
  () =>
    new Balancer({
      ...base,
      outlierDetection: { consecutive5xx: 1_000_000 },
      slowStart: { windowMs: 1 },
      localZone: 'a',
    }),
]) as [number, number, number];

const rebuild = (() => {
  const b = new Balancer({ ...base, localZone: 'a' });
  const samples: number[] = [];
  for (let r = 0; r < 9; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1_000; i++) b.setPolicy('p2c_peak_ewma');
    samples.push(Number(process.hrtime.bigint() - start) / 1_000 / 1_000);
  }
  return median(samples);
})();

console.log(`pick+release, 100 endpoints, p2c_peak_ewma (median of 15 interleaved rounds × 200k):`);
console.log(`  baseline (no health)                 ${baseline.toFixed(1)} ns/op  1.00×`);
console.log(
  `  + outlierDetection                   ${outlier.toFixed(1)} ns/op  ${(outlier / baseline).toFixed(2)}×`,
);
console.log(
  `  + outlier + slowStart + localZone    ${everything.toFixed(1)} ns/op  ${(everything / baseline).toFixed(2)}×`,
);
console.log(`picker rebuild, 100 endpoints, 2 levels × 2 zones: ${rebuild.toFixed(1)} µs`);
