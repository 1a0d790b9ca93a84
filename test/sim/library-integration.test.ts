/**
 * The simulator drives the library's own health and resilience code on virtual time: these tests check that the
 * mechanisms take effect inside a simulation (and so that the scenarios measure the real thing).
 */
import { describe, expect, it } from 'vitest';
import { type FleetConfig, parseFleetConfig } from '../../src/sim/config.js';
import { simulate } from '../../src/sim/engine.js';

function run(fleet: FleetConfig) {
  return simulate(parseFleetConfig(fleet)).configurations;
}

describe('simulated health', () => {
  it('outlier detection ejects a backend that answers 503, on virtual time', () => {
    const [plain, ejecting] = run({
      seed: 2,
      durationMs: 20_000,
      clients: 2,
      arrivals: { type: 'poisson', ratePerSec: 400 },
      backends: [
        { name: 'good', count: 4, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 5 } },
        { name: 'broken', concurrency: 8, errorRate: 1, serviceTime: { type: 'exponential', meanMs: 5 } },
      ],
      configurations: [
        { name: 'plain', policy: 'round_robin' },
        {
          name: 'ejecting',
          policy: 'round_robin',
          balancer: {
            outlierDetection: { consecutive5xx: 5, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
          },
        },
      ],
    });
    const brokenShare = (c: typeof plain) => c!.backends.find((b) => b.group === 'broken')!.share;
    expect(brokenShare(plain)).toBeCloseTo(0.2, 2);
    // Ejected after 5 failures per client and kept out for 30 s: a handful of attempts in all.
    expect(brokenShare(ejecting)).toBeLessThan(0.002);
    expect(ejecting!.errorKinds.status).toBeLessThanOrEqual(2 * 5);
    // What the health code published on its diagnostics channel: one ejection per client, no return within 20 s.
    expect(ejecting!.channelEvents.endpointEjected).toBe(2);
    expect(ejecting!.channelEvents.endpointReturned ?? 0).toBe(0);
    expect(plain!.channelEvents.endpointEjected ?? 0).toBe(0);
  });

  it('slow start ramps a re-registered backend up instead of giving it its full share at once', () => {
    const configurations = run({
      seed: 3,
      durationMs: 20_000,
      clients: 4,
      sampleMs: 1000,
      arrivals: { type: 'poisson', ratePerSec: 1000 },
      backends: [
        { name: 'old', count: 3, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 5 } },
        {
          name: 'new',
          concurrency: 8,
          registered: false,
          serviceTime: { type: 'exponential', meanMs: 5 },
          timeline: [{ atMs: 5_000, action: 'register' }],
        },
      ],
      configurations: [
        { name: 'wrr', policy: 'weighted_round_robin' },
        {
          name: 'wrr + slow start',
          policy: 'weighted_round_robin',
          balancer: { slowStart: { windowMs: 10_000 } },
        },
      ],
    });
    const newRate = (i: number, second: number) => configurations[i]!.load.series[3]![second]!;
    // Without slow start: a full quarter (~250/s) from the first second.
    expect(newRate(0, 5)).toBeGreaterThan(200);
    // With it: a small share at first, growing to the full share by the end of the window.
    expect(newRate(1, 5)).toBeLessThan(100);
    expect(newRate(1, 9)).toBeGreaterThan(newRate(1, 5));
    expect(newRate(1, 17)).toBeGreaterThan(200);
  });
});

describe('simulated retries', () => {
  const failing = (retry: Record<string, unknown>, throttle?: Record<string, unknown>): FleetConfig => ({
    seed: 4,
    durationMs: 20_000,
    clients: 2,
    arrivals: { type: 'poisson', ratePerSec: 200 },
    backends: [{ name: 'down', count: 2, errorRate: 1, serviceTime: { type: 'constant', ms: 1 } }],
    configurations: [{ name: 'x', policy: 'round_robin', retry, ...(throttle ? { throttle } : {}) }],
  });

  it('without a budget every failure is retried up to maxAttempts', () => {
    const [c] = run(failing({ maxAttempts: 3, budget: false }));
    expect(c!.retries).toBe(2 * c!.requests);
    expect(c!.attempts).toBe(3 * c!.requests);
  });

  it('the retry budget bounds retries to percentCanRetry of requests plus the per-second floor', () => {
    const [c] = run(
      failing({ maxAttempts: 3, budget: { percentCanRetry: 0.2, minRetriesPerSec: 1, ttlMs: 10_000 } }),
    );
    // Per client: 20 % of its requests + 1/s over a 10 s reserve (two clients, 20 s).
    const bound = 0.2 * c!.requests + 2 * (1 * 10 + 1 * 20);
    expect(c!.retries).toBeGreaterThan(0.1 * c!.requests);
    expect(c!.retries).toBeLessThanOrEqual(bound);
  });

  it('adaptive throttling sheds requests locally when the backends refuse them', () => {
    const [c] = run(failing({ maxAttempts: 1 }, { k: 2, windowMs: 5_000 }));
    expect(c!.errorKinds.throttled).toBeGreaterThan(0.3 * c!.requests);
    expect(c!.attempts).toBeLessThan(0.7 * c!.requests);
  });
});

describe('simulated consistent hashing', () => {
  it('bounded load caps the endpoint that owns the hot keys', () => {
    const [plain, bounded] = run({
      seed: 6,
      durationMs: 10_000,
      clients: 2,
      keys: { count: 1000, skew: 1.2 },
      arrivals: { type: 'poisson', ratePerSec: 800 },
      backends: [
        { name: 'cache', count: 5, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 5 } },
      ],
      configurations: [
        { name: 'maglev', policy: 'maglev' },
        { name: 'bounded', policy: { name: 'maglev', balanceFactor: 1.25 } },
      ],
    });
    const maxShare = (c: typeof plain) => Math.max(...c!.backends.map((b) => b.share));
    // Zipf 1.2 over 1000 keys: the top key alone is ~23 % of requests, so its owner gets well over a fifth.
    expect(maxShare(plain)).toBeGreaterThan(0.3);
    expect(maxShare(bounded)).toBeLessThan(maxShare(plain));
    expect(maxShare(bounded)).toBeLessThan(0.3);
  });
});
