/**
 * The default policy's pick cost (load/concurrent-cost.ts): `estimate × (inFlight + 1)`, with the slower candidate
 * charged at least `typical × min(1, ratio − 1)` in flight. Checked pick by pick, against the classic cost it
 * replaces, and through the Balancer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { cheaperConcurrent, TypicalLoad } from '../../src/load/concurrent-cost.js';
import { cheaperThan } from '../../src/load/peak-ewma.js';
import { checkProperty } from '../helpers/properties.js';
import { rig } from '../pickers/helpers.js';

const TAU = 1000;
const endpoint = (estimate: number, inFlight: number, stamp = 0) => {
  const s = new EndpointState(parseEndpoint('h:1', 'e'), stamp, estimate);
  s.inFlight = inFlight;
  return s;
};

describe('concurrent-server cost, pick by pick', () => {
  it('keeps an idle 10× slower endpoint out while the fast one holds the typical load, unlike the classic cost', () => {
    const slow = endpoint(50, 0);
    // Typical load 5 (20 in flight over four fast endpoints): the fast one at 5 costs 5 × 6 = 30, the slow one is
    // charged 5 in flight: 50 × 6 = 300.
    for (let k = 0; k <= 20; k++)
      expect(cheaperConcurrent(slow, endpoint(5, k), TAU, new TypicalLoad(5))).toBe(false);
    // The classic cost hands the idle slow one the request as soon as the fast one has 10 in flight.
    expect(cheaperThan(slow, endpoint(5, 10), TAU, 0)).toBe(true);
  });

  it('still spills to the slower endpoint once the fast one is loaded beyond typical by the latency ratio', () => {
    const slow = endpoint(50, 0);
    // 5 × (k + 1) against 50 × (5 + 1): the slow one wins from k + 1 > 60.
    expect(cheaperConcurrent(slow, endpoint(5, 58), TAU, new TypicalLoad(5))).toBe(false);
    expect(cheaperConcurrent(slow, endpoint(5, 60), TAU, new TypicalLoad(5))).toBe(true);
  });

  it('compares like the classic cost when the estimates are equal, or when the typical load is below one request', () => {
    checkProperty(
      fc.property(
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.nat(100),
        fc.nat(100),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (ea, eb, ka, kb, typical) => {
          const a = endpoint(ea, ka);
          expect(cheaperConcurrent(endpoint(ea, kb), a, TAU, new TypicalLoad(typical))).toBe(
            cheaperThan(endpoint(ea, kb), a, TAU, 0),
          );
          expect(cheaperConcurrent(endpoint(eb, kb), a, TAU, new TypicalLoad(typical % 1))).toBe(
            cheaperThan(endpoint(eb, kb), a, TAU, 0),
          );
        },
      ),
      { seed: 12, numRuns: 300 },
    );
  });

  it('never prefers a candidate that is both slower and more loaded', () => {
    checkProperty(
      fc.property(
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        fc.nat(100),
        fc.nat(100),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (fast, ratio, k, extra, typical) => {
          const a = endpoint(fast, k);
          const b = endpoint(fast * ratio, k + extra);
          if (ratio > 1 || extra > 0)
            expect(cheaperConcurrent(b, a, TAU, new TypicalLoad(typical))).toBe(false);
        },
      ),
      { seed: 13, numRuns: 300 },
    );
  });

  it('compares the estimates at a common time (decay since each stamp), as the classic cost does', () => {
    // The slow one was measured 50 ms 2.3 s ago: 50·e^(−2.3) ≈ 5.01, about the fast one's 5 → nearly no charge.
    const slow = endpoint(50, 0, 0);
    const fast = endpoint(5, 3, 2300);
    expect(cheaperConcurrent(slow, fast, TAU, new TypicalLoad(5))).toBe(true);
    // Measured 1 s ago it is still 18 ms: charged the full typical load.
    expect(cheaperConcurrent(endpoint(50, 0, 1300), fast, TAU, new TypicalLoad(5))).toBe(false);
  });

  it('charges an in-flight floor that grows linearly from 1× to 2× slower, then stays at the typical load', () => {
    const typical = new TypicalLoad(8);
    // The slower candidate idle, the faster one (5 ms) with k in flight: the slower wins once 5 · (k + 1) exceeds
    // its estimate × (floor + 1).
    const firstWin = (slowMs: number) => {
      for (let k = 0; k < 1000; k++)
        if (cheaperConcurrent(endpoint(slowMs, 0), endpoint(5, k), TAU, typical)) return k;
      return -1;
    };
    expect(firstWin(6.25)).toBe(3); // 1.25×: floor 8 · 0.25 = 2, 6.25 · 3 = 18.75 < 5 · 4 (classic: k = 1)
    expect(firstWin(10)).toBe(18); // 2×: floor 8, 10 · 9 = 90 < 5 · 19
    expect(firstWin(200)).toBe(360); // 40×: still floor 8, 200 · 9 = 1800 < 5 · 361
    // Its own load when above the floor: 50 × (11 + 1) = 600 against 5 × (k + 1).
    const slow = endpoint(50, 11);
    expect(cheaperConcurrent(slow, endpoint(5, 119), TAU, typical)).toBe(false);
    expect(cheaperConcurrent(slow, endpoint(5, 120), TAU, typical)).toBe(true);
  });

  it('charges whole typical requests: 8.9 counts as 8, 0.9 as none', () => {
    const slow = endpoint(50, 0);
    // 5 × (k + 1) against 50 × (8 + 1) = 450: the slow one is cheaper from k = 90 (with 9: 500, from k = 100).
    expect(cheaperConcurrent(slow, endpoint(5, 90), TAU, new TypicalLoad(8.9))).toBe(true);
    expect(cheaperConcurrent(slow, endpoint(5, 89), TAU, new TypicalLoad(8.9))).toBe(false);
    expect(cheaperConcurrent(slow, endpoint(5, 10), TAU, new TypicalLoad(0.9))).toBe(true); // classic
  });
});

describe('typical load', () => {
  it('follows the in-flight count of the chosen endpoints, 1/16 per pick', () => {
    const t = new TypicalLoad(0);
    t.record(16);
    expect(t.value).toBe(1);
    for (let i = 0; i < 300; i++) t.record(4);
    expect(t.value).toBeCloseTo(4, 3);
    for (let i = 0; i < 300; i++) t.record(0);
    expect(t.value).toBeLessThan(0.001);
    // Mostly idle, now and then one in flight: the average stays at the fraction (no drift up to a whole request).
    for (let i = 0; i < 3000; i++) t.record(i % 10 === 0 ? 1 : 0);
    expect(t.value).toBeGreaterThan(0.05);
    expect(t.value).toBeLessThan(0.2);
    expect(new TypicalLoad(-1).value).toBe(0);
    expect(new TypicalLoad(2.5).value).toBe(2.5);
    const huge = new TypicalLoad(0);
    for (let i = 0; i < 300; i++) huge.record(1e9);
    expect(Number.isInteger(huge.scaled)).toBe(true);
    expect(huge.value).toBeCloseTo(16_383, 0);
  });
});

describe('through the Balancer', () => {
  const twoEndpoints = (policy: 'p2c_robust_ewma' | { name: 'p2c_robust_ewma'; cost: 'queue' }) => {
    const r = rig(['h:1', 'h:2'], { policy });
    r.state('h:1').rttEstimate = 5;
    r.state('h:2').rttEstimate = 50;
    return r;
  };
  /** Holds `total` requests in flight, re-picking one at a time, and counts picks of h:2 over `picks`. */
  const slowPicks = (r: ReturnType<typeof twoEndpoints>, total: number, picks: number) => {
    const held = Array.from({ length: total }, () => r.balancer.pick({ now: 0 })!);
    let slow = 0;
    for (let i = 0; i < picks; i++) {
      held.shift()!.release({ ok: false, failure: 'cancelled' });
      const lease = r.balancer.pick({ now: 0 })!;
      if (lease.endpoint.address === 'h:2') slow++;
      held.push(lease);
    }
    return slow;
  };

  it('with 30 in flight sends nothing to an idle 10× slower endpoint; the classic cost sends it a share', () => {
    expect(slowPicks(twoEndpoints('p2c_robust_ewma'), 30, 2000)).toBe(0);
    expect(slowPicks(twoEndpoints({ name: 'p2c_robust_ewma', cost: 'queue' }), 30, 2000)).toBeGreaterThan(
      100,
    );
  });
});
