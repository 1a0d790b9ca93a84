/**
 * Nothing is starved: an endpoint that answered slowly once is measured again within a bounded time and gets its
 * share back. Through the real Balancer on a ManualClock; latencies come from a seeded source.
 *
 * The bound: an endpoint's estimate decays toward 0 with τ while it is not picked, so one r× slower than its
 * peers is probed again after about τ·ln(r) — 2 s × ln(100) ≈ 9 s for the default policy, 46 s for classic
 * Peak-EWMA (τ 10 s), which is why the classic policy fails these tests.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyConfig } from '../../src/balancer/policy/registry.js';
import { seededRandom } from '../../src/random.js';
import { rig } from './helpers.js';

interface Drive {
  readonly endpoints: number;
  readonly inFlight: number;
  /** Latency of one request, ms. */
  readonly latency: (random: () => number) => number;
  /** Overrides the latency of the first answer from endpoint 0. */
  readonly firstAnswerMs?: number;
  readonly seconds: number;
}

/**
 * Closed loop: `inFlight` requests always outstanding, each released after its latency; returns picks per endpoint
 * in the last quarter of the run.
 */
function drive(policy: PolicyConfig, d: Drive): number[] {
  const addresses = Array.from({ length: d.endpoints }, (_, i) => `10.0.0.${i + 1}:80`);
  const r = rig(addresses, { policy }, 7);
  const random = seededRandom(11);
  const endMs = d.seconds * 1000;
  const counts = new Array<number>(d.endpoints).fill(0);
  let firstPending = d.firstAnswerMs !== undefined;
  // Outstanding requests: [release time, lease], kept sorted by release time (small: inFlight entries).
  const outstanding: { at: number; release: () => void }[] = [];
  const start = () => {
    const lease = r.balancer.pick()!;
    const index = addresses.indexOf(lease.endpoint.address);
    let latency = d.latency(random);
    if (firstPending && index === 0) {
      latency = d.firstAnswerMs!;
      firstPending = false;
    }
    if (r.clock.now() >= endMs * 0.75) counts[index]!++;
    const at = r.clock.now() + latency;
    outstanding.push({ at, release: () => lease.release() });
    outstanding.sort((a, b) => a.at - b.at);
  };
  for (let i = 0; i < d.inFlight; i++) start();
  for (let steps = 0; steps < 2_000_000 && r.clock.now() < endMs; steps++) {
    const next = outstanding.shift()!;
    r.clock.set(next.at);
    next.release();
    start();
  }
  return counts;
}

const fairShareOk = (counts: number[]) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.every((c) => c >= (0.5 * total) / counts.length);
};

describe('no starvation', () => {
  const oneSlowFirstAnswer: Drive = {
    endpoints: 5,
    inFlight: 2,
    latency: (random) => 1 + random(), // 1–2 ms
    firstAnswerMs: 150, // a cold connection, a JIT warm-up: 100× the others
    seconds: 20,
  };

  it('identical replicas, one slow first answer: it has at least half its fair share back within 15 s', () => {
    const counts = drive('p2c_robust_ewma', oneSlowFirstAnswer);
    expect(fairShareOk(counts), `picks in the last 5 s: ${counts.join(', ')}`).toBe(true);
  });

  it('(classic Peak-EWMA keeps it out far longer, so the test above can fail)', () => {
    const counts = drive('p2c_peak_ewma', oneSlowFirstAnswer);
    expect(counts[0]).toBeLessThan((0.5 * counts.reduce((a, b) => a + b, 0)) / 5);
  });

  const subMillisecond: Drive = {
    endpoints: 10,
    inFlight: 1,
    // 0.05–0.5 ms, with a 5 ms hiccup in 1 % of requests (a GC in the client or server).
    latency: (random) => (random() < 0.01 ? 5 : 0.05 + 0.45 * random()),
    seconds: 20,
  };

  it('at sub-millisecond latencies, no endpoint among 10 goes unused (each ≥ half its fair share)', () => {
    const counts = drive('p2c_robust_ewma', subMillisecond);
    expect(fairShareOk(counts), `picks in the last 5 s: ${counts.join(', ')}`).toBe(true);
  });
});
