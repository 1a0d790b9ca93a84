/**
 * Latency work is done for the policies that read it: a latency-aware policy's estimate follows every response; a
 * policy that reads no latency gets a sampled estimate (first response, then one in LATENCY_SAMPLE_EVERY) for
 * stats and metrics.
 */
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { LATENCY_SAMPLE_EVERY } from '../../src/balancer/lease.js';
import { ManualClock } from '../../src/clock.js';

function respond(b: Balancer, latencyMs: number, at: number, ok = true): void {
  const lease = b.pick({ now: at })!;
  lease.release(
    ok
      ? { ok: true, latencyMs, now: at + latencyMs }
      : { ok: false, failure: 'timeout', latencyMs, now: at + latencyMs },
  );
}

const estimate = (b: Balancer) => b.stats().endpoints[0]!.latencyEstimateMs;

describe('latency estimates by policy', () => {
  it('round_robin: the first response, then one in LATENCY_SAMPLE_EVERY successes', () => {
    const clock = new ManualClock(0);
    const b = new Balancer({ endpoints: ['a:1'], policy: 'round_robin', clock });
    respond(b, 10, 0);
    expect(estimate(b)).toBeCloseTo(10, 6);
    // Successes 2 … LATENCY_SAMPLE_EVERY − 1 are not observed: a 500 ms peak among them leaves no trace.
    for (let i = 2; i < LATENCY_SAMPLE_EVERY; i++) respond(b, 500, 0);
    expect(estimate(b)).toBeCloseTo(10, 6);
    // Success number LATENCY_SAMPLE_EVERY is: the peak rule takes it.
    respond(b, 500, 0);
    expect(estimate(b)).toBeGreaterThan(400);
    expect(b.stats().endpoints[0]).toMatchObject({ successes: LATENCY_SAMPLE_EVERY, inFlight: 0 });
  });

  it('round_robin: failures are sampled apart from successes, and may still only raise the estimate', () => {
    const clock = new ManualClock(0);
    const b = new Balancer({ endpoints: ['a:1'], policy: 'round_robin', clock });
    respond(b, 10, 0);
    for (let i = 1; i < LATENCY_SAMPLE_EVERY; i++) respond(b, 900, 0, false);
    expect(estimate(b)).toBeCloseTo(10, 6);
    respond(b, 900, 0, false);
    expect(estimate(b)).toBeGreaterThan(800);
    expect(b.stats().endpoints[0]!.failures).toBe(LATENCY_SAMPLE_EVERY);
  });

  it.each(['p2c_peak_ewma', 'p2c_robust_ewma'])('%s: every response reaches the estimator', (policy) => {
    const clock = new ManualClock(0);
    const b = new Balancer({ endpoints: ['a:1'], policy, clock });
    respond(b, 10, 0);
    expect(estimate(b)).toBeCloseTo(10, 6);
    const before = estimate(b);
    // Slow responses at separate moments (the robust estimator wants independent confirmations of a rise).
    for (let i = 1; i <= 6; i++) respond(b, 500, i * 1_000);
    expect(estimate(b)).toBeGreaterThan(before + 50);
  });

  it('switching from round_robin to a latency-aware policy keeps the sampled estimates warm', () => {
    const clock = new ManualClock(0);
    const b = new Balancer({ endpoints: ['a:1'], policy: 'round_robin', clock });
    respond(b, 80, 0);
    b.setPolicy('p2c_peak_ewma');
    expect(estimate(b)).toBeCloseTo(80, 6);
    respond(b, 400, 0);
    expect(estimate(b)).toBeGreaterThan(300);
  });
});
