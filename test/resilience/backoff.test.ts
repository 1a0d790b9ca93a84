import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/random.js';
import { ExponentialBackoff, parseRetryAfter } from '../../src/resilience/backoff.js';
import { checkProperty } from '../helpers/properties.js';
import { expectConfigError } from './helpers.js';

describe('ExponentialBackoff options', () => {
  it('defaults to Linkerd: 25 ms base, 250 ms max, Retry-After up to 30 s', () => {
    expect(new ExponentialBackoff().options).toEqual({ baseMs: 25, maxMs: 250, maxRetryAfterMs: 30_000 });
  });

  it.each([
    [{ baseMs: 0 }, 'backoff.baseMs: expected a number > 0 and <= 3600000, got 0'],
    [{ baseMs: 100, maxMs: 50 }, 'backoff.maxMs: expected a number >= baseMs (100), got 50'],
    [{ maxRetryAfterMs: -1 }, 'backoff.maxRetryAfterMs: expected a number from 0 to 3600000, got -1'],
    [{ jitter: 'full' }, 'backoff.jitter: expected one of the known options'],
  ])('rejects %j', (options, message) => {
    expectConfigError(() => new ExponentialBackoff(options as never), message);
  });

  it('raises the default max to the base when only a larger base is given', () => {
    expect(new ExponentialBackoff({ baseMs: 1_000 }).options.maxMs).toBe(1_000);
  });
});

describe('ExponentialBackoff.delay', () => {
  it('property: full jitter stays in [0, min(max, base × 2^(n−1)))', () => {
    checkProperty(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer(),
        (baseMs, extra, retryNumber, seed) => {
          const maxMs = baseMs + extra;
          const backoff = new ExponentialBackoff({ baseMs, maxMs }, seededRandom(seed));
          const ceiling = Math.min(maxMs, baseMs * 2 ** (retryNumber - 1));
          for (let i = 0; i < 20; i++) {
            const delay = backoff.delay(retryNumber);
            expect(delay).toBeGreaterThanOrEqual(0);
            expect(delay).toBeLessThan(ceiling);
          }
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('spreads delays over the whole interval (mean ≈ half the ceiling)', () => {
    const backoff = new ExponentialBackoff({}, seededRandom(1));
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const d = backoff.delay(3); // ceiling min(250, 25 × 4) = 100
      sum += d;
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    expect(sum / n).toBeGreaterThan(48);
    expect(sum / n).toBeLessThan(52);
    expect(min).toBeLessThan(1);
    expect(max).toBeGreaterThan(99);
  });

  it('uses the server-requested delay, capped at maxRetryAfterMs', () => {
    const backoff = new ExponentialBackoff({ maxRetryAfterMs: 5_000 }, seededRandom(1));
    expect(backoff.delay(1, 1_200)).toBe(1_200);
    expect(backoff.delay(1, 0)).toBe(0);
    expect(backoff.delay(4, 60_000)).toBe(5_000);
  });

  it('rejects a retry number below 1', () => {
    expect(() => new ExponentialBackoff().delay(0)).toThrow(RangeError);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it.each<[string | string[] | undefined, number | undefined]>([
    ['120', 120_000],
    ['0', 0],
    [' 3 ', 3_000],
    [['2', '9'], 2_000],
    ['Wed, 21 Oct 2015 07:28:30 GMT', 30_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0], // in the past: retry now
    ['Sunday, 06-Nov-94 08:49:37 GMT', 0], // obsolete RFC 850 form, long past
    ['Wed Oct 21 07:29:00 2015', 60_000], // asctime form, read as UTC
    [undefined, undefined],
    ['', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['2025', 2_025_000], // digits are always delay-seconds
  ])('%j → %j', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });

  it('feeds ExponentialBackoff.delay, which caps it', () => {
    const backoff = new ExponentialBackoff({ maxRetryAfterMs: 60_000 }, seededRandom(1));
    expect(backoff.delay(1, parseRetryAfter('120', now))).toBe(60_000);
    expect(backoff.delay(1, parseRetryAfter('junk', now))).toBeLessThan(25);
  });
});
