/**
 * The simulator's noise model: backend pauses, client stalls, network delay. Checked on fleets small enough to
 * reason about exactly (constant service times, one client), then validation of the new fields.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { type FleetConfig, parseFleetConfig } from '../../src/sim/config.js';
import { simulate } from '../../src/sim/engine.js';

const quiet: FleetConfig = {
  seed: 9,
  durationMs: 20_000,
  clients: 1,
  arrivals: { type: 'poisson', ratePerSec: 200 },
  backends: [{ name: 'b', concurrency: 64, serviceTime: { type: 'constant', ms: 5 } }],
  configurations: [{ name: 'rr', policy: 'round_robin' }],
};

const run = (fleet: FleetConfig) => simulate(parseFleetConfig(fleet)).configurations[0]!;

describe('backend pauses', () => {
  it('delay every request in service during a pause by the overlap, and only those', () => {
    const c = run({
      ...quiet,
      backends: [{ ...quiet.backends[0]!, pauses: { probability: 0.002, durationMs: 100 } }],
    });
    const b = c.backends[0]!;
    // 4000 requests × 0.002 ≈ 8 pauses; each delays the requests in service (~1) plus those arriving in 100 ms (~20).
    expect(b.pauses).toBeGreaterThanOrEqual(3);
    expect(b.pausedRequests).toBeGreaterThan(b.pauses * 5);
    expect(b.pausedRequests / c.requests).toBeLessThan(0.1);
    // Unpaused requests take exactly 5 ms; a paused one at most 5 + 100; the slowest is the one that triggered it.
    expect(c.latency.p50).toBe(5);
    expect(c.latency.max).toBeCloseTo(105, 6);
    expect(c.latency.p90).toBe(5);
  });

  it('leave the run unchanged when absent (no extra draw from the backend stream)', () => {
    const a = run(quiet);
    const b = run({
      ...quiet,
      backends: [{ ...quiet.backends[0]!, pauses: { probability: 0, durationMs: 1 } }],
    });
    expect(b.latency).toEqual(a.latency);
    expect(b.backends[0]!.pauses).toBe(0);
  });
});

describe('client stalls', () => {
  it('hold every answer a stalled client waits for until the stall ends, whichever backend sent it', () => {
    const c = run({
      ...quiet,
      clientStalls: { ratePerSec: 1, durationMs: 40 },
      backends: [{ ...quiet.backends[0]!, count: 3 }],
    });
    // ~20 stalls of 40 ms in 20 s: ~4 % of the time stalled, so p99 is inside a stall, the median untouched.
    expect(c.latency.p50).toBe(5);
    expect(c.latency.p99).toBeGreaterThan(10);
    // At most a wait for one stall to end before sending and another on the answer (seeded: no triple chain).
    expect(c.latency.max).toBeLessThanOrEqual(5 + 2 * 40 + 1e-9);
    expect(c.successes).toBe(c.requests);
  });
});

describe('network delay', () => {
  it('adds its draw to every answer', () => {
    const c = run({ ...quiet, networkDelay: { type: 'constant', ms: 2 } });
    expect(c.latency.p50).toBeCloseTo(7, 9);
    expect(c.latency.max).toBeCloseTo(7, 9);
  });
});

describe('noise configuration', () => {
  const fieldOf = (patch: Record<string, unknown>, backend: Record<string, unknown> = {}) => {
    try {
      parseFleetConfig({ ...quiet, ...patch, backends: [{ ...quiet.backends[0]!, ...backend }] });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).field;
    }
    throw new Error('expected a ConfigError');
  };

  it('rejects bad values with a ConfigError naming the field', () => {
    expect(fieldOf({}, { pauses: { probability: 1.5, durationMs: 10 } })).toBe(
      'backends[0].pauses.probability',
    );
    expect(fieldOf({}, { pauses: { probability: 0.1, durationMs: 0 } })).toBe(
      'backends[0].pauses.durationMs',
    );
    expect(fieldOf({}, { pauses: { probability: 0.1 } })).toBe('backends[0].pauses.durationMs');
    expect(fieldOf({}, { pauses: { probability: 0.1, durationMs: 5, every: 3 } })).toBe(
      'backends[0].pauses.every',
    );
    expect(fieldOf({ clientStalls: { ratePerSec: -1, durationMs: 5 } })).toBe('clientStalls.ratePerSec');
    expect(fieldOf({ clientStalls: { ratePerSec: 1, durationMs: 'long' } })).toBe('clientStalls.durationMs');
    expect(fieldOf({ networkDelay: { type: 'lognormal', medianMs: 1 } })).toBe('networkDelay.sigma');
    expect(fieldOf({ networkDelay: { type: 'gaussian' } })).toBe('networkDelay.type');
  });
});
