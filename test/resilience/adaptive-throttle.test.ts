import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { AdaptiveThrottle } from '../../src/resilience/adaptive-throttle.js';
import { checkProperty } from '../helpers/properties.js';
import { expectConfigError } from './helpers.js';

describe('AdaptiveThrottle options', () => {
  it('defaults to the SRE book: K = 2 over two minutes, uncapped', () => {
    expect(new AdaptiveThrottle().options).toEqual({ k: 2, windowMs: 120_000, maxRejectionProbability: 1 });
  });

  it.each([
    [{ k: 0.5 }, 'throttle.k: expected a number from 1 to 10, got 0.5'],
    [{ windowMs: 10 }, 'throttle.windowMs: expected a number from 1000 to 3600000, got 10'],
    [
      { maxRejectionProbability: 1.5 },
      'throttle.maxRejectionProbability: expected a number from 0 to 1, got 1.5',
    ],
    [{ K: 2 }, 'throttle.K: expected one of the known options'],
  ])('rejects %j', (options, message) => {
    expectConfigError(() => new AdaptiveThrottle(options as never), message);
  });
});

describe('AdaptiveThrottle', () => {
  it('property: the rejection probability is max(0, (requests − K·accepts) / (requests + 1))', () => {
    checkProperty(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 500 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (accepted, refused, k) => {
          const throttle = new AdaptiveThrottle({ k }, new ManualClock(), seededRandom(1));
          for (let i = 0; i < accepted; i++) throttle.record(true);
          for (let i = 0; i < refused; i++) throttle.record(false);
          const requests = accepted + refused;
          const expected = Math.max(0, (requests - k * accepted) / (requests + 1));
          expect(throttle.rejectionProbability).toBeCloseTo(expected, 12);
          expect(throttle.stats()).toMatchObject({ requests, accepts: accepted });
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('never rejects while at least half the requests are accepted (K = 2)', () => {
    const throttle = new AdaptiveThrottle({}, new ManualClock(), seededRandom(2));
    for (let i = 0; i < 1_000; i++) throttle.record(i % 2 === 0);
    expect(throttle.rejectionProbability).toBe(0);
    for (let i = 0; i < 1_000; i++) expect(throttle.shouldReject()).toBe(false);
  });

  it('rejects at the formula rate and counts rejections as requests', () => {
    const throttle = new AdaptiveThrottle({}, new ManualClock(), seededRandom(3));
    // 1000 requests, 250 accepted: p = (1000 − 500) / 1001 ≈ 0.4995
    for (let i = 0; i < 1_000; i++) throttle.record(i % 4 === 0);
    const p0 = throttle.rejectionProbability;
    expect(p0).toBeCloseTo(500 / 1001, 10);
    let rejected = 0;
    const draws = 200;
    for (let i = 0; i < draws; i++) if (throttle.shouldReject()) rejected++;
    // Each rejection adds a request: p rises a little during the run; the rate stays near p0.
    expect(rejected / draws).toBeGreaterThan(p0 - 0.1);
    expect(rejected / draws).toBeLessThan(p0 + 0.15);
    expect(throttle.stats()).toMatchObject({ requests: 1_000 + rejected, accepts: 250, throttled: rejected });
  });

  it('forgets after the window, so a recovered backend gets traffic again', () => {
    const clock = new ManualClock();
    const throttle = new AdaptiveThrottle({}, clock, seededRandom(4));
    for (let i = 0; i < 100; i++) throttle.record(false);
    expect(throttle.rejectionProbability).toBeCloseTo(100 / 101, 10);
    clock.advance(60_000);
    expect(throttle.rejectionProbability).toBeCloseTo(100 / 101, 10);
    clock.advance(62_000); // window plus one bucket
    expect(throttle.rejectionProbability).toBe(0);
    expect(throttle.shouldReject()).toBe(false);
  });

  it('caps the probability at maxRejectionProbability', () => {
    const throttle = new AdaptiveThrottle(
      { maxRejectionProbability: 0.8 },
      new ManualClock(),
      seededRandom(5),
    );
    for (let i = 0; i < 1_000; i++) throttle.record(false);
    expect(throttle.rejectionProbability).toBe(0.8);
  });
});
