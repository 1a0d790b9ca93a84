import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { RetryBudget } from '../../src/resilience/retry-budget.js';
import { type RetryInfo, RetryPolicy } from '../../src/resilience/retry-policy.js';
import { expectConfigError } from './helpers.js';

const clock = new ManualClock();
const env = { clock, random: seededRandom(3) };
const base: RetryInfo = {
  attempt: 1,
  failure: 'status',
  status: 503,
  idempotent: true,
  bodySent: true,
  replayable: true,
  elapsedMs: 0,
};

describe('RetryPolicy options', () => {
  it.each([
    [{ maxAttempts: 0 }, 'retry.maxAttempts: expected an integer from 1 to 10, got 0'],
    [{ maxAttempts: 2.5 }, 'retry.maxAttempts: expected an integer from 1 to 10, got 2.5'],
    [{ perTryTimeoutMs: 0 }, 'retry.perTryTimeoutMs: expected a number > 0 and <= 3600000, got 0'],
    [{ deadlineMs: -5 }, 'retry.deadlineMs: expected a number > 0 and <= 3600000, got -5'],
    [
      { retryOn: { statuses: [503, 600] } },
      'retry.retryOn.statuses[1]: expected an integer from 100 to 599, got 600',
    ],
    [{ retryOn: { statuses: 503 } }, 'retry.retryOn.statuses: expected an array of HTTP statuses, got 503'],
    [
      { retryOn: { grpcCodes: ['UNAVAILABLE', 'BUSY'] } },
      'retry.retryOn.grpcCodes[1]: expected a gRPC status name',
    ],
    [{ retryOn: { connectFailures: 'yes' } }, 'retry.retryOn.connectFailures: expected a boolean, got "yes"'],
    [{ retryOn: { everything: true } }, 'retry.retryOn.everything: expected one of the known options'],
    [{ backoff: { baseMs: -1 } }, 'retry.backoff.baseMs: expected a number > 0'],
    [
      { budget: { percentCanRetry: 2000 } },
      'retry.budget.percentCanRetry: expected a number from 0 to 1000, got 2000',
    ],
    [{ budget: 3 }, 'retry.budget: expected a RetryBudget, retry budget options, or false, got 3'],
    [{ numRetries: 2 }, 'retry.numRetries: expected one of the known options'],
  ])('rejects %j', (options, message) => {
    expectConfigError(() => new RetryPolicy(options as never, env), message);
  });

  it('defaults: 3 attempts, 502/503/504 and UNAVAILABLE, connect failures, a per-balancer budget', () => {
    const policy = new RetryPolicy({}, env);
    expect(policy.maxAttempts).toBe(3);
    expect(policy.perTryTimeoutMs).toBeUndefined();
    expect(policy.deadlineMs).toBeUndefined();
    for (const status of [502, 503, 504, 14])
      expect(policy.retryable('status', status, true, true)).toBe(true);
    for (const status of [500, 501, 429, 404, 13])
      expect(policy.retryable('status', status, true, true)).toBe(false);
    const a = { clock };
    const b = { clock };
    expect(policy.budgetFor(a)).toBeInstanceOf(RetryBudget);
    expect(policy.budgetFor(a)).toBe(policy.budgetFor(a));
    expect(policy.budgetFor(a)).not.toBe(policy.budgetFor(b));
  });

  it('shares a RetryBudget instance across balancers; false turns budgets off', () => {
    const shared = new RetryBudget({}, clock);
    const policy = new RetryPolicy({ budget: shared }, env);
    expect(policy.budgetFor({ clock })).toBe(shared);
    expect(policy.budgetFor({ clock })).toBe(shared);
    expect(new RetryPolicy({ budget: false }, env).budgetFor({ clock })).toBeUndefined();
  });
});

describe('RetryPolicy.decide', () => {
  const policy = () => new RetryPolicy({ budget: false }, env);

  it.each<[string, Partial<RetryInfo>, boolean | string]>([
    ['503 on an idempotent request', {}, true],
    ['500 is not in the list', { status: 500 }, 'not-retryable'],
    ['overloaded 503 (Retry-After)', { failure: 'overloaded', status: 503 }, true],
    ['gRPC UNAVAILABLE', { status: 14 }, true],
    ['connect failure on a POST', { failure: 'connect', idempotent: false, status: undefined }, true],
    ['503 on a POST after the body was sent', { idempotent: false }, 'not-retryable'],
    ['503 on a POST before any byte was sent', { idempotent: false, bodySent: false }, true],
    ['reset on an idempotent request', { failure: 'reset', status: undefined }, true],
    ['reset on a POST mid-body', { failure: 'reset', idempotent: false, status: undefined }, 'not-retryable'],
    ['timeout on an idempotent request', { failure: 'timeout', status: undefined }, true],
    ['cancelled by the caller', { failure: 'cancelled', status: undefined }, 'not-retryable'],
    ['an unclassified failure', { failure: 'other', status: undefined }, 'not-retryable'],
    ['a consumed stream body', { replayable: false }, 'not-replayable'],
    ['a consumed stream body, connect failure', { failure: 'connect', replayable: false }, 'not-replayable'],
    ['the third attempt of three', { attempt: 3 }, 'max-attempts'],
    ['no deadline set: elapsed time does not matter', { elapsedMs: 10_000_000 }, true],
  ])('%s', (_, overrides, expected) => {
    const decision = policy().decide({ ...base, ...overrides });
    if (expected === true) expect(decision.retry).toBe(true);
    else expect(decision).toEqual({ retry: false, reason: expected });
  });

  it('honours retryOn switches', () => {
    const p = new RetryPolicy(
      {
        budget: false,
        retryOn: { connectFailures: false, resets: false, timeouts: false, statuses: [500], grpcCodes: [] },
      },
      env,
    );
    expect(p.decide({ ...base, failure: 'connect' })).toEqual({ retry: false, reason: 'not-retryable' });
    expect(p.decide({ ...base, failure: 'reset' })).toEqual({ retry: false, reason: 'not-retryable' });
    expect(p.decide({ ...base, failure: 'timeout' })).toEqual({ retry: false, reason: 'not-retryable' });
    expect(p.decide({ ...base, status: 14 })).toEqual({ retry: false, reason: 'not-retryable' });
    expect(p.decide({ ...base, status: 500 }).retry).toBe(true);
  });

  it('refuses when the backoff would end past the deadline', () => {
    const p = new RetryPolicy({ budget: false, deadlineMs: 1_000 }, env);
    expect(p.decide({ ...base, elapsedMs: 999, retryAfterMs: 5 })).toEqual({
      retry: false,
      reason: 'deadline',
    });
    expect(p.decide({ ...base, elapsedMs: 1_000 })).toEqual({ retry: false, reason: 'deadline' });
    expect(p.decide({ ...base, elapsedMs: 900, retryAfterMs: 50 })).toEqual({ retry: true, delayMs: 50 });
  });

  it('uses the backoff, or the server-requested delay', () => {
    const p = new RetryPolicy({ budget: false, backoff: { baseMs: 10, maxMs: 40 } }, env);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const decision = p.decide({ ...base, attempt });
      expect(decision.retry).toBe(true);
      if (decision.retry) expect(decision.delayMs).toBeLessThan(10 * 2 ** (attempt - 1));
    }
    expect(p.decide({ ...base, retryAfterMs: 2_000 })).toEqual({ retry: true, delayMs: 2_000 });
  });

  it('withdraws from the budget only when it retries, and refuses when it is empty', () => {
    const budget = new RetryBudget({ minRetriesPerSec: 0.1, ttlMs: 10_000 }, clock); // a reserve of one retry
    const p = new RetryPolicy({ budget, maxAttempts: 10 }, env);
    expect(p.decide({ ...base, status: 500 }).retry).toBe(false);
    expect(budget.balance).toBe(1);
    expect(p.decide(base).retry).toBe(true);
    expect(p.decide(base)).toEqual({ retry: false, reason: 'budget' });
    expect(p.stats()).toMatchObject({
      retries: 1,
      refused: { budget: 1, 'not-retryable': 1, 'max-attempts': 0, deadline: 0, 'not-replayable': 0 },
    });
  });
});
