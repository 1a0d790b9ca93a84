/**
 * The default policy's promise, checked on seeded simulations (deterministic; the targets of issue 12):
 * lower tail latency than round robin when backends differ, even when the fast ones are not perfectly clean.
 *
 * Every fleet also runs the default with one of its properties removed, and the test asserts that variant misses
 * the target — so these tests fail if the robustness (classic peak rule: `p2c_peak_ewma`), the reaction (no peak
 * rule at all: `spikeFactor` so high nothing counts as a spike, i.e. plain EWMA) or the concurrent-server cost
 * (`cost: 'queue'`, Finagle's `estimate × (inFlight + 1)`) is taken out.
 */
import { describe, expect, it } from 'vitest';
import { type FleetConfig, parseFleetConfig } from '../../src/sim/config.js';
import { type ConfigurationResult, simulate } from '../../src/sim/engine.js';

const ROUND_ROBIN = { name: 'round_robin', policy: 'round_robin' } as const;
/** The Balancer default (test/balancer/balancer.test.ts checks that it is the default). */
const DEFAULT = { name: 'default', policy: 'p2c_robust_ewma' } as const;
const NO_ROBUSTNESS = { name: 'classic_peak', policy: 'p2c_peak_ewma' } as const;
const NO_REACTION = { name: 'plain_ewma', policy: { name: 'p2c_robust_ewma', spikeFactor: 1000 } } as const;
/** The default with Finagle's cost `estimate × (inFlight + 1)` instead of the concurrent-server cost. */
const QUEUE_COST = { name: 'queue_cost', policy: { name: 'p2c_robust_ewma', cost: 'queue' } } as const;

function run(fleet: Omit<FleetConfig, 'configurations'>, configurations: FleetConfig['configurations']) {
  const result = simulate(parseFleetConfig({ ...fleet, configurations }));
  return Object.fromEntries(result.configurations.map((c) => [c.name, c])) as Record<
    string,
    ConfigurationResult
  >;
}

const share = (c: ConfigurationResult, group: string) =>
  c.backends.filter((b) => b.group === group).reduce((s, b) => s + b.share, 0);

/** Share of attempts that went to backend `index` between `fromMs` and `toMs` (load buckets of `bucketMs`). */
function windowShare(c: ConfigurationResult, index: number, fromMs: number, toMs: number): number {
  const { bucketMs, series } = c.load;
  let all = 0;
  let mine = 0;
  for (let k = Math.round(fromMs / bucketMs); k < Math.round(toMs / bucketMs); k++) {
    for (const s of series) all += s[k]!;
    mine += series[index]![k]!;
  }
  return mine / all;
}

const clients4 = { clients: 4, durationMs: 10_000, arrivals: { type: 'poisson', ratePerSec: 400 } } as const;

describe('fast backends with rare pauses, one steadily 10× slower', () => {
  it('sends ≤ 1 % to the slow one with p99 ≤ 0.5× round robin (pauses hit ~0.4 % of requests at 12×)', () => {
    const r = run(
      {
        ...clients4,
        seed: 3,
        backends: [
          {
            name: 'fast',
            count: 4,
            concurrency: 16,
            serviceTime: { type: 'constant', ms: 5 },
            pauses: { probability: 0.001, durationMs: 60 },
          },
          { name: 'slow', concurrency: 16, serviceTime: { type: 'constant', ms: 50 } },
        ],
      },
      [ROUND_ROBIN, DEFAULT, NO_ROBUSTNESS],
    );
    const paused = r.default!.backends.reduce((n, b) => n + b.pausedRequests, 0) / r.default!.attempts;
    expect(paused).toBeGreaterThan(0.003);
    expect(paused).toBeLessThan(0.01);
    expect(share(r.default!, 'slow')).toBeLessThanOrEqual(0.01);
    expect(r.default!.latency.p99).toBeLessThanOrEqual(0.5 * r.round_robin!.latency.p99);
    // Classic Peak-EWMA: each pause becomes a fast backend's estimate, so the slow one looks almost as good.
    expect(share(r.classic_peak!, 'slow')).toBeGreaterThan(0.02);
    expect(r.classic_peak!.latency.p99).toBeGreaterThan(0.5 * r.round_robin!.latency.p99);
  });

  it('sends ≤ 1 % to the slow one when 1 % of requests take 15× the median', () => {
    const r = run(
      {
        ...clients4,
        seed: 4,
        backends: [
          {
            name: 'fast',
            count: 4,
            concurrency: 16,
            serviceTime: { type: 'bimodal', fastMs: 5, slowMs: 75, slowFraction: 0.01 },
          },
          { name: 'slow', concurrency: 16, serviceTime: { type: 'constant', ms: 50 } },
        ],
      },
      [DEFAULT, NO_ROBUSTNESS],
    );
    expect(share(r.default!, 'slow')).toBeLessThanOrEqual(0.01);
    expect(share(r.classic_peak!, 'slow')).toBeGreaterThan(0.05);
  });
});

describe('heavy-tailed replicas', () => {
  it('lognormal (σ 0.8) replicas with one 5× slower: p99 ≤ 0.5× round robin', () => {
    const r = run(
      {
        ...clients4,
        seed: 3,
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
      [ROUND_ROBIN, DEFAULT],
    );
    expect(r.default!.latency.p99).toBeLessThanOrEqual(0.5 * r.round_robin!.latency.p99);
  });
});

describe('identical replicas with rare pauses at low load', () => {
  it('gives none less than half its fair share', () => {
    const r = run(
      {
        ...clients4,
        seed: 3,
        arrivals: { type: 'poisson', ratePerSec: 40 },
        clientStalls: { ratePerSec: 0.2, durationMs: 30 },
        backends: [
          {
            name: 'replica',
            count: 5,
            concurrency: 16,
            serviceTime: { type: 'lognormal', medianMs: 5, sigma: 0.3 },
            pauses: { probability: 0.01, durationMs: 60 },
          },
        ],
      },
      [DEFAULT],
    );
    for (const b of r.default!.backends) expect(b.share).toBeGreaterThanOrEqual(0.5 / 5);
  });
});

describe('a backend that turns 10× slower', () => {
  // Issue 12's target: ≤ 2 %. The default gets 1.68 % here (1.68–2.00 % over seeds 1–6), against 3.7 % for plain
  // EWMA (same τ) and 7.7 % for classic Peak-EWMA under the same noise. Slow answers that were already in flight
  // confirm the slowdown as they come back (load/robust-ewma.ts); before that rule, 2.07 % (2.1–2.8 %).
  it('gets ≤ 2 % of requests in the first 0.5 s after, where plain EWMA and classic peak send > 3 %', () => {
    const r = run(
      {
        seed: 5,
        clients: 10,
        durationMs: 6000,
        sampleMs: 100,
        arrivals: { type: 'poisson', ratePerSec: 4000 },
        backends: [
          {
            name: 'fast',
            count: 4,
            concurrency: 64,
            serviceTime: { type: 'constant', ms: 5 },
            pauses: { probability: 0.001, durationMs: 60 },
          },
          {
            name: 'turns-slow',
            concurrency: 64,
            serviceTime: { type: 'constant', ms: 5 },
            pauses: { probability: 0.001, durationMs: 60 },
            timeline: [{ atMs: 3000, action: 'slow', factor: 10 }],
          },
        ],
      },
      [DEFAULT, NO_REACTION, NO_ROBUSTNESS],
    );
    const firstHalfSecond = (c: ConfigurationResult) => windowShare(c, 4, 3000, 3500);
    expect(windowShare(r.default!, 4, 0, 3000)).toBeGreaterThan(0.15); // a full share before
    expect(firstHalfSecond(r.default!)).toBeLessThanOrEqual(0.02);
    expect(firstHalfSecond(r.plain_ewma!)).toBeGreaterThan(0.03);
    expect(firstHalfSecond(r.classic_peak!)).toBeGreaterThan(0.03);
  });
});

describe('servers that serve requests concurrently, many requests in flight', () => {
  // One client holding ~20 or ~64 requests in flight against servers that serve them concurrently (latency does
  // not grow with the number in flight), with rare 60 ms answers. The slow backend is 6× slower: what the client
  // of benchmarks/noisy-tail.ts measures against 50 ms when its fast backends answer at 6.5–8 ms.
  const fleet = (inFlight: number) =>
    ({
      seed: 1,
      clients: 1,
      durationMs: 4000,
      arrivals: { type: 'poisson', ratePerSec: (inFlight * 1000) / 6 },
      networkDelay: { type: 'lognormal', medianMs: 0.3, sigma: 0.5 },
      clientStalls: { ratePerSec: 0.2, durationMs: 20 },
      backends: [
        {
          name: 'fast',
          count: 4,
          concurrency: 100_000,
          serviceTime: { type: 'bimodal', fastMs: 5, slowMs: 60, slowFraction: 0.003 },
        },
        { name: 'slow', concurrency: 100_000, serviceTime: { type: 'constant', ms: 30 } },
      ],
    }) as const;

  it.each([20, 64])(
    '%i in flight: ≤ 1 in 200 requests to the slow one, p99 ≤ 0.5× round robin; the Finagle cost sends ~1 in 100',
    (inFlight) => {
      const r = run(fleet(inFlight), [ROUND_ROBIN, DEFAULT, QUEUE_COST]);
      expect(share(r.default!, 'slow')).toBeLessThanOrEqual(0.005);
      expect(r.default!.latency.p99).toBeLessThanOrEqual(0.5 * r.round_robin!.latency.p99);
      // estimate × (inFlight + 1): the idle slow backend (30 × 1) undercuts fast ones holding 5+ requests.
      expect(share(r.queue_cost!, 'slow')).toBeGreaterThan(0.007);
      expect(r.queue_cost!.latency.p99).toBeGreaterThan(0.5 * r.round_robin!.latency.p99);
    },
  );

  it('servers that do queue (one worker each), ten clients at 60 % load: p99 within 1.1× of the Finagle cost', () => {
    const r = run(
      {
        seed: 2,
        clients: 10,
        durationMs: 4000,
        arrivals: { type: 'poisson', ratePerSec: 480 },
        backends: [
          { name: 'fast', count: 4, concurrency: 1, serviceTime: { type: 'exponential', meanMs: 5 } },
          { name: 'slow', concurrency: 1, serviceTime: { type: 'exponential', meanMs: 50 } },
        ],
      },
      [ROUND_ROBIN, DEFAULT, QUEUE_COST],
    );
    expect(r.default!.latency.p99).toBeLessThanOrEqual(1.1 * r.queue_cost!.latency.p99);
    expect(r.default!.latency.p99).toBeLessThanOrEqual(0.5 * r.round_robin!.latency.p99);
  });
});
