import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { defaultRetryBudgetOptions, RetryBudget } from '../../src/resilience/retry-budget.js';
import { boundedWhile } from '../helpers/bounded.js';
import { checkProperty } from '../helpers/properties.js';
import { expectConfigError } from './helpers.js';

describe('RetryBudget options', () => {
  it('applies Finagle defaults', () => {
    expect(new RetryBudget().options).toEqual({ ttlMs: 10_000, minRetriesPerSec: 10, percentCanRetry: 0.2 });
    expect(defaultRetryBudgetOptions).toEqual({ ttlMs: 10_000, minRetriesPerSec: 10, percentCanRetry: 0.2 });
  });

  it.each([
    [{ ttlMs: 999 }, 'budget.ttlMs: expected a number from 1000 to 60000, got 999'],
    [{ ttlMs: 60_001 }, 'budget.ttlMs: expected a number from 1000 to 60000, got 60001'],
    [{ minRetriesPerSec: -1 }, 'budget.minRetriesPerSec: expected a number from 0 to 1000000, got -1'],
    [{ percentCanRetry: Number.NaN }, 'budget.percentCanRetry: expected a number from 0 to 1000, got NaN'],
    [{ percentCanRetry: '0.2' }, 'budget.percentCanRetry: expected a number from 0 to 1000, got "0.2"'],
    [{ retries: 3 }, 'budget.retries: expected one of the known options'],
  ])('rejects %j', (options, message) => {
    expectConfigError(() => new RetryBudget(options as never), message);
  });
});

describe('RetryBudget', () => {
  it('starts with the reserve: minRetriesPerSec × ttl retries', () => {
    const budget = new RetryBudget({ minRetriesPerSec: 2, ttlMs: 5_000 }, new ManualClock());
    expect(budget.balance).toBe(10);
    for (let i = 0; i < 10; i++) expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(false);
    expect(budget.stats()).toEqual({ deposits: 0, withdrawals: 10, refused: 1, balance: 0 });
  });

  it('grants percentCanRetry retries per deposit on top of the reserve', () => {
    const budget = new RetryBudget({ minRetriesPerSec: 0, percentCanRetry: 0.25 }, new ManualClock());
    expect(budget.withdraw()).toBe(false);
    for (let i = 0; i < 8; i++) budget.deposit();
    expect(budget.balance).toBe(2);
    expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(false);
  });

  it('expires deposits after the ttl, and returns reserve withdrawals after it', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ minRetriesPerSec: 1, percentCanRetry: 1, ttlMs: 10_000 }, clock);
    for (let i = 0; i < 5; i++) budget.deposit();
    expect(budget.balance).toBe(15);
    expect(
      boundedWhile(
        () => budget.withdraw(),
        () => {},
        100,
        'withdrawing the balance',
      ),
    ).toBe(15);
    expect(budget.balance).toBe(0);
    clock.advance(9_999);
    expect(budget.balance).toBe(0);
    clock.advance(1_001 + 1_000); // past ttl plus one bucket: the deposits and withdrawals both fall out
    expect(budget.balance).toBe(10);
    budget.deposit();
    clock.advance(12_000);
    expect(budget.balance).toBe(10); // the deposit expired; the reserve stays
  });

  it('property: over T seconds, retries ≤ percentCanRetry × requests + minRetriesPerSec × (T + ttl)', () => {
    checkProperty(
      fc.property(
        fc.record({
          ttlMs: fc.integer({ min: 1_000, max: 60_000 }),
          minRetriesPerSec: fc.integer({ min: 0, max: 50 }),
          percentCanRetry: fc.double({ min: 0, max: 2, noNaN: true }),
          seconds: fc.integer({ min: 1, max: 120 }),
          // Steps not aligned to the budget's buckets, so withdrawals land anywhere inside a bucket.
          stepMs: fc.constantFrom(37, 70, 99, 100, 130, 251),
          // Requests per tick and retries attempted per tick: bursty, adversarial patterns.
          ticks: fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 40 })), {
            minLength: 1,
            maxLength: 50,
          }),
        }),
        ({ ttlMs, minRetriesPerSec, percentCanRetry, seconds, stepMs, ticks }) => {
          const clock = new ManualClock();
          const budget = new RetryBudget({ ttlMs, minRetriesPerSec, percentCanRetry }, clock);
          let requests = 0;
          let retries = 0;
          for (let t = 0; t < seconds * 1000; t += stepMs) {
            const [deposits, attempts] = ticks[Math.round(t / stepMs) % ticks.length]!;
            for (let i = 0; i < deposits; i++) budget.deposit();
            requests += deposits;
            for (let i = 0; i < attempts; i++) if (budget.withdraw()) retries++;
            clock.advance(stepMs);
          }
          const bound = percentCanRetry * requests + minRetriesPerSec * (seconds + ttlMs / 1000);
          // 1e-9 slack: the budget rounds percentCanRetry to 1/1000 of a retry.
          expect(retries).toBeLessThanOrEqual(bound + requests * 0.0005 + 1e-9);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
