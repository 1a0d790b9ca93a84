/**
 * The robust (confirmed-peak) estimator, sample by sample. τ = 2 s, spikeFactor = 2, two confirmations unless stated.
 *   ordinary sample (≤ 2 × estimate):  w = e^(−Δt/τ); est' = est·w + rtt·(1 − w)
 *   first high sample: a suspect; published estimate provisionally 2 × est, the confirmed one kept aside
 *   high sample from a request started after the previous high one arrived: one confirmation; after two,
 *   est' = the smallest of the chain
 *   ordinary sample from a request started after the suspect arrived: refuted, confirmed estimate restored
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { peakEwmaEstimator } from '../../src/load/peak-ewma.js';
import { robustEwmaEstimator } from '../../src/load/robust-ewma.js';

const TAU = 2000;
const estimator = robustEwmaEstimator(TAU, 2, 2);
const observed = (rtt: number, at = 0) => {
  const state = new EndpointState(parseEndpoint('h:1', 'e'), at, 30);
  estimator.observe(state, rtt, at);
  return state;
};

describe('robust estimator, sample by sample', () => {
  it('takes the first sample outright, then moves by the time-weighted EWMA', () => {
    const s = observed(10, 0);
    expect(s.rttEstimate).toBe(10);
    estimator.observe(s, 14, 1000); // w = e^−0.5: 10w + 14(1 − w) = 11.57387736
    expect(s.rttEstimate).toBeCloseTo(11.57387736, 7);
    expect(estimator.estimate(s, 3000)).toBeCloseTo(11.57387736 * Math.exp(-1), 7); // decays while idle
  });

  it('takes a sample outright after an estimate of exactly 0 (no multiple of 0 can be a spike)', () => {
    const s = observed(0, 0);
    estimator.observe(s, 3, 10);
    expect(s.rttEstimate).toBe(3);
    expect(s.rttSuspect).toBe(0);
  });

  it('ignores an isolated spike: provisional 2× raise, restored exactly by the next independent sample', () => {
    const s = observed(5, 0);
    estimator.observe(s, 60, 100); // started at 40, a suspect
    expect(s.rttSuspect).toBe(60);
    expect(s.rttEstimate).toBeCloseTo(2 * 5 * Math.exp(-100 / TAU), 9);
    estimator.observe(s, 5, 110); // started at 105, after the suspect arrived: refuted
    expect(s.rttSuspect).toBe(0);
    const w = Math.exp(-110 / TAU);
    expect(s.rttEstimate).toBeCloseTo(5 * w + 5 * (1 - w), 9); // as if the spike had never happened
  });

  it('does not let responses delayed by the same pause confirm each other', () => {
    const s = observed(5, 0);
    // One 60 ms pause delays three requests in flight together; they arrive at once.
    estimator.observe(s, 62, 100);
    estimator.observe(s, 61, 100);
    estimator.observe(s, 58, 100);
    expect(s.rttSuspect).toBe(62);
    expect(s.rttEstimate).toBeLessThan(10.01); // still only the provisional 2×
    estimator.observe(s, 5, 106);
    expect(s.rttEstimate).toBeCloseTo(5, 9);
  });

  it('with one confirmation, takes a real slowdown on the second independent slow sample', () => {
    const one = robustEwmaEstimator(TAU, 2, 1);
    const s = observed(5, 0);
    one.observe(s, 50, 1000); // suspect
    one.observe(s, 48, 1008); // started at 960, overlapped the suspect and came back with it (≤ 2 × 5 ms later)
    expect(s.rttSuspect).toBe(50);
    one.observe(s, 55, 1060); // started at 1005, after 1000: confirmed
    expect(s.rttSuspect).toBe(0);
    expect(s.rttEstimate).toBe(50); // the smaller of the two
    expect(s.rttStamp).toBe(1060);
  });

  it('with the default two confirmations, needs a chain of three independent slow samples', () => {
    const s = observed(5, 0);
    estimator.observe(s, 52, 1000); // suspect; provisional 2 × 5 × e^(−1000/τ)
    expect(s.rttEstimate).toBeCloseTo(10 * Math.exp(-1000 / TAU), 9);
    estimator.observe(s, 55, 1060); // started 1005 ≥ 1000: first confirmation, not yet enough
    expect(s.rttSuspect).toBe(52);
    expect(s.rttEstimate).toBeCloseTo(10 * Math.exp(-1000 / TAU), 9);
    estimator.observe(s, 51, 1068); // started 1017 < 1060 and back within 2 × 5 ms of it: no confirmation
    expect(s.rttSuspect).toBe(52);
    estimator.observe(s, 50, 1120); // started 1070 ≥ 1060: second confirmation
    expect(s.rttSuspect).toBe(0);
    expect(s.rttEstimate).toBe(50); // the smallest of the chain
  });

  it('takes slow answers that overlapped the suspect but came back well after it as confirmations', () => {
    // A real slowdown: requests already in flight keep coming back slow, one after another.
    const s = observed(5, 0);
    estimator.observe(s, 50, 1000); // suspect
    estimator.observe(s, 50, 1011); // started 961, before the suspect arrived, but back 11 ms > 2 × 5 ms after it
    expect(s.rttSuspect).toBe(50);
    estimator.observe(s, 50, 1022); // 11 ms after the previous high one: the second confirmation
    expect(s.rttSuspect).toBe(0);
    expect(s.rttEstimate).toBe(50);
  });

  it('does not take the answers one pause released together as confirmations', () => {
    // A 60 ms pause of a 5 ms backend: everything in service comes back within ~5 ms of the pause's end.
    const s = observed(5, 0);
    for (const [rtt, at] of [
      [62, 1000],
      [61, 1001],
      [58, 1003],
      [57, 1004],
      [56, 1006],
      [55, 1009],
    ] as const) {
      estimator.observe(s, rtt, at);
    }
    expect(s.rttSuspect).toBe(62);
    estimator.observe(s, 5, 1015); // started 1010, after the suspect: refuted
    expect(s.rttSuspect).toBe(0);
    expect(s.rttEstimate).toBeLessThan(5.1);
  });

  it('is refuted by an ordinary sample between confirmations', () => {
    const s = observed(5, 0);
    estimator.observe(s, 52, 1000);
    estimator.observe(s, 55, 1060); // one confirmation
    estimator.observe(s, 5, 1070); // started 1065 ≥ 1060: refuted, the confirmed estimate comes back
    expect(s.rttSuspect).toBe(0);
    const w = Math.exp(-1070 / TAU);
    expect(s.rttEstimate).toBeCloseTo(5 * w + 5 * (1 - w), 9);
  });

  it('keeps EWMA-updating the confirmed estimate from overlapping ordinary samples while a suspect is pending', () => {
    const s = observed(10, 0);
    estimator.observe(s, 100, 500); // suspect at 500
    estimator.observe(s, 8, 504); // started at 496: overlapped, updates the confirmed estimate only
    expect(s.rttBase).toBeCloseTo(10 * Math.exp(-504 / TAU) + 8 * (1 - Math.exp(-504 / TAU)), 9);
    expect(s.rttSuspect).toBe(100);
    estimator.observe(s, 9, 520); // started at 511: refuted
    const base = 10 * Math.exp(-504 / TAU) + 8 * (1 - Math.exp(-504 / TAU));
    const w = Math.exp(-16 / TAU);
    expect(s.rttEstimate).toBeCloseTo(base * w + 9 * (1 - w), 9);
  });
});

/** Fast samples around 5 ms with isolated spikes of 10–15×, each followed by ordinary samples. */
const noisySequence = fc.array(
  fc.record({
    gapMs: fc.double({ min: 1, max: 200, noNaN: true }),
    rtt: fc.double({ min: 4, max: 6, noNaN: true }),
    spike: fc.option(fc.double({ min: 50, max: 75, noNaN: true }), { freq: 10 }),
  }),
  { minLength: 5, maxLength: 200 },
);

function replay(
  steps: readonly { gapMs: number; rtt: number; spike: number | null }[],
  observe: (s: EndpointState, rtt: number, now: number) => void,
): number {
  const s = new EndpointState(parseEndpoint('h:1', 'e'), 0, 30);
  let now = 0;
  let worst = 0;
  observe(s, 5, now);
  for (const step of steps) {
    now += step.gapMs;
    if (step.spike !== null) observe(s, step.spike, now); // isolated: the next sample starts after it
    now += step.rtt + 0.5;
    observe(s, step.rtt, now);
    worst = Math.max(worst, s.rttEstimate);
  }
  return worst;
}

describe('robust estimator under isolated spikes (property)', () => {
  const property = fc.property(noisySequence, (steps) => {
    // After every ordinary sample the estimate is within the ordinary samples' range (≤ 6 ms).
    expect(replay(steps, robustEwmaEstimator(TAU, 2, 1).observe)).toBeLessThanOrEqual(6);
  });

  it('never lets an isolated spike into the estimate (fixed seed)', () => {
    fc.assert(property, { seed: 42, numRuns: 300 });
  });

  it('never lets an isolated spike into the estimate (fresh seed, printed on failure)', () => {
    const seed = Date.now() % 2 ** 31;
    try {
      fc.assert(property, { seed, numRuns: 100 });
    } catch (error) {
      throw new Error(`failed with fast-check seed ${seed}: ${String(error)}`);
    }
  });

  it('is what the classic peak rule is not: the same sequences hold a classic estimate near the spike', () => {
    // Guards the test itself: the property above must be able to fail.
    const steps = [{ gapMs: 10, rtt: 5, spike: 60 }];
    expect(replay(steps, peakEwmaEstimator(TAU).observe)).toBeGreaterThan(50);
  });
});
