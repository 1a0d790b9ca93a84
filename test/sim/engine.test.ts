import { describe, expect, it } from 'vitest';
import { type FleetConfig, parseFleetConfig } from '../../src/sim/config.js';
import { type ConfigurationResult, simulate } from '../../src/sim/engine.js';
import { latencySvg, loadSvg, textReport } from '../../src/sim/output.js';

function run(fleet: FleetConfig) {
  return simulate(parseFleetConfig(fleet));
}

function share(result: ConfigurationResult, group: string): number {
  return result.backends.filter((b) => b.group === group).reduce((s, b) => s + b.share, 0);
}

describe('simulate', () => {
  it('matches M/M/1 queueing theory: mean response time 1 / (μ − λ)', () => {
    // μ = 100/s (mean service 10 ms), λ = 50/s → mean time in system 20 ms, median 20·ln 2 ≈ 13.9 ms.
    const result = run({
      seed: 5,
      durationMs: 2_000_000,
      clients: 1,
      arrivals: { type: 'poisson', ratePerSec: 50 },
      backends: [
        { name: 'only', concurrency: 1, queue: 100_000, serviceTime: { type: 'exponential', meanMs: 10 } },
      ],
      configurations: [{ name: 'rr', policy: 'round_robin' }],
    });
    const c = result.configurations[0]!;
    expect(c.requests).toBeGreaterThan(95_000);
    expect(c.latency.mean).toBeGreaterThan(19);
    expect(c.latency.mean).toBeLessThan(21);
    expect(c.latency.p50).toBeCloseTo(20 * Math.LN2, 0);
  });

  it('is deterministic: the same seed gives identical results, another seed different ones', () => {
    const fleet: FleetConfig = {
      seed: 9,
      durationMs: 5_000,
      clients: 3,
      arrivals: { type: 'bursty', ratePerSec: 300, burstRatePerSec: 1200, burstMs: 500, periodMs: 2000 },
      keys: { count: 100, skew: 1 },
      backends: [
        { name: 'a', count: 3, concurrency: 2, serviceTime: { type: 'lognormal', medianMs: 3, sigma: 1 } },
        { name: 'b', errorRate: 0.1, serviceTime: { type: 'exponential', meanMs: 4 } },
      ],
      configurations: [
        { name: 'p2c', policy: 'p2c_peak_ewma', retry: { maxAttempts: 2 }, throttle: {} },
        { name: 'lr', policy: 'least_request' },
      ],
    };
    const strip = (r: ReturnType<typeof run>) => r.configurations.map(({ wallMs: _w, ...rest }) => rest);
    const first = strip(run(fleet));
    expect(strip(run(fleet))).toEqual(first);
    expect(strip(run({ ...fleet, seed: 10 }))).not.toEqual(first);
  });

  it('splits round robin evenly and sends the same arrivals to every configuration', () => {
    const result = run({
      durationMs: 10_000,
      clients: 4,
      arrivals: { type: 'poisson', ratePerSec: 1000 },
      backends: [{ name: 's', count: 5, concurrency: 4, serviceTime: { type: 'constant', ms: 2 } }],
      configurations: [
        { name: 'rr', policy: 'round_robin' },
        { name: 'random', policy: 'random' },
      ],
    });
    const [rr, rnd] = result.configurations;
    expect(rr!.requests).toBe(rnd!.requests);
    for (const b of rr!.backends) expect(b.share).toBeCloseTo(0.2, 2);
    expect(rr!.errors).toBe(0);
    expect(rr!.latency.p99).toBe(2);
  });

  it('shows p2c_peak_ewma avoiding a slowed backend that round robin keeps feeding', () => {
    const result = run({
      seed: 3,
      durationMs: 10_000,
      clients: 5,
      timeoutMs: 500,
      arrivals: { type: 'poisson', ratePerSec: 2000 },
      backends: [
        { name: 'fast', count: 4, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 10 } },
        {
          name: 'slow',
          concurrency: 8,
          serviceTime: { type: 'exponential', meanMs: 10 },
          timeline: [{ atMs: 2_000, action: 'slow', factor: 10 }],
        },
      ],
      configurations: [
        { name: 'rr', policy: 'round_robin' },
        { name: 'ewma', policy: 'p2c_peak_ewma' },
      ],
    });
    const [rr, ewma] = result.configurations;
    expect(share(rr!, 'slow')).toBeCloseTo(0.2, 2);
    expect(share(ewma!, 'slow')).toBeLessThan(0.08);
    // Round robin's requests to the slow backend time out (errors); p2c_peak_ewma's almost never do.
    expect(rr!.errorKinds.timeout).toBeGreaterThan(100);
    expect(ewma!.errors).toBeLessThan(rr!.errors / 10);
    expect(ewma!.latency.p999).toBeLessThan(rr!.latency.p999);
  });

  it('fails requests to a dead backend with connect/reset errors, and retries recover them elsewhere', () => {
    const fleet = (retry: boolean): FleetConfig => ({
      seed: 4,
      durationMs: 6_000,
      clients: 2,
      arrivals: { type: 'poisson', ratePerSec: 500 },
      backends: [
        { name: 'ok', count: 2, concurrency: 4, serviceTime: { type: 'constant', ms: 5 } },
        {
          name: 'dies',
          concurrency: 4,
          serviceTime: { type: 'constant', ms: 5 },
          timeline: [
            { atMs: 2_000, action: 'down' },
            { atMs: 4_000, action: 'up', warmupMs: 500, warmupFactor: 4 },
          ],
        },
      ],
      configurations: [
        {
          name: 'rr',
          policy: 'round_robin',
          ...(retry ? { retry: { maxAttempts: 2, budget: false as const } } : {}),
        },
      ],
    });
    const plain = run(fleet(false)).configurations[0]!;
    expect(plain.errorKinds.connect).toBeGreaterThan(200);
    expect(plain.errors).toBe((plain.errorKinds.connect ?? 0) + (plain.errorKinds.reset ?? 0));
    const retried = run(fleet(true)).configurations[0]!;
    expect(retried.errors).toBe(0);
    // Each failed first attempt was retried once (on another backend: tried ones are excluded).
    expect(retried.retries).toBeGreaterThan(plain.errors / 2);
    expect(retried.attempts).toBe(retried.requests + retried.retries);
  });

  it('rejects with 503 when the queue is full, and follows deregister/register', () => {
    const result = run({
      durationMs: 4_000,
      clients: 1,
      arrivals: { type: 'poisson', ratePerSec: 400 },
      backends: [
        { name: 'tiny', concurrency: 1, queue: 0, serviceTime: { type: 'constant', ms: 10 } },
        {
          name: 'roomy',
          concurrency: 100,
          serviceTime: { type: 'constant', ms: 1 },
          timeline: [
            { atMs: 1_000, action: 'deregister' },
            { atMs: 3_000, action: 'register' },
          ],
        },
      ],
      configurations: [{ name: 'rr', policy: 'round_robin' }],
    });
    const c = result.configurations[0]!;
    expect(c.errorKinds.overloaded).toBeGreaterThan(100);
    const roomy = c.load.series[1]!;
    const bucketsPerSecond = 1000 / c.load.bucketMs;
    // Nothing goes to the deregistered backend between 1 s and 3 s.
    expect(roomy.slice(1.1 * bucketsPerSecond, 2.9 * bucketsPerSecond).every((v) => v === 0)).toBe(true);
    expect(roomy.slice(3.1 * bucketsPerSecond).some((v) => v > 0)).toBe(true);
  });

  it('renders a table and two SVG charts', () => {
    const result = run({
      name: 'tiny <fleet>',
      durationMs: 1_000,
      arrivals: { type: 'poisson', ratePerSec: 200 },
      backends: [{ name: 'a', count: 2, serviceTime: { type: 'exponential', meanMs: 1 } }],
      configurations: [{ name: 'rr', policy: 'round_robin' }],
    });
    expect(textReport(result)).toMatch(
      /rr\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0\s+0\s+a max 5\d\.\d% {2}min 4\d\.\d%/,
    );
    for (const svg of [latencySvg(result), loadSvg(result)]) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toContain('tiny &lt;fleet&gt;');
      expect(svg).not.toContain('NaN');
    }
  });
});
