/**
 * Peak-EWMA against values computed by hand from the formula in src/load/peak-ewma.ts:
 *   w = exp(−Δt/τ);  est' = rtt if rtt > est·w, else est·w + rtt·(1 − w).
 */
import { describe, expect, it } from 'vitest';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import { parseEndpoint } from '../../src/endpoint.js';
import {
  cheaperThan,
  currentEstimate,
  decayFactor,
  peakEwmaCost,
  peakEwmaEstimator,
} from '../../src/load/peak-ewma.js';
import { rig } from '../pickers/helpers.js';

const TAU = 10_000;
const peak = peakEwmaEstimator(TAU);
/** A state that has already seen traffic, with estimate `rtt` as of `at`. */
const fresh = (rtt = 30, at = 0) => {
  const state = new EndpointState(parseEndpoint('h:1', 'e'), at, rtt);
  state.rttObserved = true;
  return state;
};

describe('decayFactor', () => {
  it('matches Math.exp(-x) to 1e-7 on both sides of the series cut-over', () => {
    for (const x of [0, 1e-6, 1e-4, 0.005, 0.00999, 0.01, 0.5, 3, 50]) {
      expect(Math.abs(decayFactor(x) - Math.exp(-x))).toBeLessThan(1e-7);
    }
  });
});

describe('peak estimator observe', () => {
  it('lets the first sample replace the starting estimate, downwards too', () => {
    const s = new EndpointState(parseEndpoint('h:1', 'e'), 0, 30);
    peak.observe(s, 2, 5);
    expect(s.rttEstimate).toBe(2);
    expect(s.rttObserved).toBe(true);
    peak.observe(s, 1, 5);
    expect(s.rttEstimate).toBe(2); // Δt = 0: later samples move it by 1 − e^0 = 0
  });

  it('jumps to a peak at once', () => {
    const s = fresh(30);
    peak.observe(s, 120, 1);
    expect(s.rttEstimate).toBe(120);
  });

  it('moves toward a lower sample by 1 − exp(−Δt/τ)', () => {
    const s = fresh(30);
    peak.observe(s, 10, 1000);
    // w = e^−0.1 = 0.904837418; 30·w + 10·(1 − w) = 28.09674836
    expect(s.rttEstimate).toBeCloseTo(28.09674836, 7);
    peak.observe(s, 10, 6000);
    // w = e^−0.5 = 0.606530660; 28.09674836·w + 10·(1 − w) = 20.97623272
    expect(s.rttEstimate).toBeCloseTo(20.97623272, 7);
  });

  it('compares a new sample with the decayed estimate (the estimate decays while idle)', () => {
    const s = fresh(100);
    // After 10 s idle the estimate reads 100·e^−1 = 36.78794412; a 40 ms sample is a new peak.
    expect(currentEstimate(s, 10_000, TAU)).toBeCloseTo(36.78794412, 7);
    peak.observe(s, 40, 10_000);
    expect(s.rttEstimate).toBe(40);
  });

  it('same-instant samples (Δt = 0) do not move a higher estimate', () => {
    const s = fresh(50, 5);
    peak.observe(s, 1, 5);
    expect(s.rttEstimate).toBe(50);
  });
});

describe('cost', () => {
  it('is estimate × (in-flight + 1), and queue length alone at a zero estimate', () => {
    const s = fresh(20);
    s.inFlight = 3;
    expect(peakEwmaCost(s, 0, TAU)).toBe(80);
    s.rttEstimate = 0;
    expect(peakEwmaCost(s, 0, TAU)).toBe(3);
  });

  it('cheaperThan agrees with comparing full costs', () => {
    const a = fresh(20, 0);
    const b = fresh(30, 4000);
    a.inFlight = 2;
    b.inFlight = 1;
    for (const now of [4000, 9000, 60_000]) {
      const expected = peakEwmaCost(b, now, TAU) < peakEwmaCost(a, now, TAU);
      expect(cheaperThan(b, a, TAU, now)).toBe(expected);
      expect(cheaperThan(a, b, TAU, now)).toBe(peakEwmaCost(a, now, TAU) < peakEwmaCost(b, now, TAU));
    }
  });
});

describe('through the Balancer with a fake clock', () => {
  it('tracks the hand-computed estimate of a request sequence', () => {
    const r = rig(['h:1'], { policy: { name: 'p2c_peak_ewma', decayMs: TAU, defaultRttMs: 30 } });
    const sequence = [
      { at: 0, latency: 10 }, // the first sample replaces the 30 ms default: 10
      { at: 100, latency: 50 }, // peak: 50
      { at: 2000, latency: 20 }, // answers at 2020, Δt = 2020 − 150 = 1870: w = e^−0.187; 50w + 20(1−w) = 44.88331
    ];
    const expected = [10, 50, 44.883312092];
    sequence.forEach(({ at, latency }, i) => {
      r.clock.set(at);
      const lease = r.balancer.pick()!;
      r.clock.advance(latency);
      lease.release();
      expect(r.state('h:1').rttEstimate).toBeCloseTo(expected[i]!, 5);
    });
  });
});
