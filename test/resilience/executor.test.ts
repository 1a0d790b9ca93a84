import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { isConfigError } from '../../src/errors/config-error.js';
import { isDeadlineExceededError } from '../../src/errors/deadline-exceeded-error.js';
import { isNoEndpointError } from '../../src/errors/no-endpoint-error.js';
import { isThrottledError } from '../../src/errors/throttled-error.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { AdaptiveThrottle } from '../../src/resilience/adaptive-throttle.js';
import { type AttemptInfo, type ExecuteOptions, execute } from '../../src/resilience/executor.js';
import { HedgingPolicy } from '../../src/resilience/hedging.js';
import { RetryBudget } from '../../src/resilience/retry-budget.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { checkAsyncProperty } from '../helpers/properties.js';
import {
  advanceUntil,
  classifyFake,
  type FakeReply,
  FakeTransportError,
  fakeBalancer,
  flush,
  replyAfter,
  runToEnd,
  track,
} from './helpers.js';

const subscriptions: [string, (message: unknown) => void][] = [];
function listen(name: string): unknown[] {
  const messages: unknown[] = [];
  const fn = (message: unknown) => messages.push(message);
  diagnosticsChannel.subscribe(name, fn);
  subscriptions.push([name, fn]);
  return messages;
}
afterEach(() => {
  for (const [name, fn] of subscriptions.splice(0)) diagnosticsChannel.unsubscribe(name, fn);
});

function reply(info: AttemptInfo, status: number): FakeReply {
  return { status, address: info.lease.endpoint.address, discarded: false };
}

/** Options with an HTTP-ish classify, idempotent and replayable unless overridden. */
function options(
  balancer: Balancer,
  attempt: (info: AttemptInfo) => Promise<FakeReply>,
  extra: Partial<ExecuteOptions<FakeReply>> = {},
): ExecuteOptions<FakeReply> {
  return {
    balancer,
    attempt,
    classify: classifyFake,
    discard: (value) => {
      value.discarded = true;
    },
    idempotent: true,
    replayable: true,
    ...extra,
  };
}

function inFlight(balancer: Balancer): number {
  return balancer.stats().totalInFlight;
}

describe('execute', () => {
  it('returns the first success with its lease unreleased, and retries nothing', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const retry = new RetryPolicy({}, { random: seededRandom(1) });
    const retries = listen(channelNames.retry);
    const result = await execute(options(balancer, async (info) => reply(info, 200), { retry }));
    expect(result.attempts).toBe(1);
    expect(result.value.status).toBe(200);
    expect(result.lease.released).toBe(false);
    expect(inFlight(balancer)).toBe(1);
    result.lease.release();
    expect(inFlight(balancer)).toBe(0);
    expect(retries).toEqual([]);
    expect(retry.stats().retries).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('retries on another endpoint, releases the failed lease with its outcome, discards the failed response', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const retry = new RetryPolicy({}, { random: seededRandom(1) });
    const retries = listen(channelNames.retry);
    const seen: string[] = [];
    const discarded: FakeReply[] = [];
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          async (info) => {
            seen.push(info.lease.endpoint.address);
            return reply(info, info.attempt === 1 ? 503 : 200);
          },
          { retry, discard: (v) => discarded.push(v) },
        ),
      ),
    );
    expect(result.attempts).toBe(2);
    expect(new Set(seen).size).toBe(2);
    expect(result.value.address).toBe(seen[1]);
    expect(discarded.map((d) => d.status)).toEqual([503]);
    const first = balancer.stats().endpoints.find((e) => e.address === seen[0])!;
    expect(first).toMatchObject({ failures: 1, inFlight: 0 });
    expect(retries).toEqual([
      expect.objectContaining({
        balancer: 'default',
        attempt: 2,
        failure: 'status',
        status: 503,
        address: seen[0],
      }),
    ]);
    expect(clock.now()).toBeLessThan(25); // one full-jitter backoff of at most 25 ms
    result.lease.release();
    expect(inFlight(balancer)).toBe(0);
  });

  it('after maxAttempts, resolves with the last failed response (lease unreleased) on three distinct endpoints', async () => {
    const { balancer, clock } = fakeBalancer(5);
    const retry = new RetryPolicy({ maxAttempts: 3 }, { random: seededRandom(2) });
    const seen: string[] = [];
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          async (info) => {
            seen.push(info.lease.endpoint.address);
            return reply(info, 503);
          },
          { retry },
        ),
      ),
    );
    expect(result.attempts).toBe(3);
    expect(new Set(seen).size).toBe(3);
    expect(result.value).toMatchObject({ status: 503, discarded: false, address: seen[2] });
    expect(inFlight(balancer)).toBe(1);
    expect(retry.stats().refused['max-attempts']).toBe(1);
    result.lease.release({ ok: false, failure: 'status', status: 503 });
  });

  it('rejects with the last transport error when every attempt fails without a response', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const retry = new RetryPolicy({ maxAttempts: 4 }, { random: seededRandom(3) });
    const errors: Error[] = [];
    const run = track(
      execute(
        options(
          balancer,
          async () => {
            const e = new FakeTransportError('ECONNRESET');
            errors.push(e);
            throw e;
          },
          { retry },
        ),
      ),
    );
    await advanceUntil(clock, run.settled);
    await expect(run.result()).rejects.toBe(errors[3]);
    expect(errors).toHaveLength(4);
    expect(inFlight(balancer)).toBe(0);
    // With two endpoints and four attempts, exclusion falls back to reusing tried ones: both got two.
    expect(balancer.stats().endpoints.map((e) => e.failures)).toEqual([2, 2]);
  });

  it('retries a connect failure of a non-idempotent request, but not its 503', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const retry = new RetryPolicy({}, { random: seededRandom(4) });
    let calls = 0;
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          async (info) => {
            calls++;
            if (info.attempt === 1) throw new FakeTransportError('ECONNREFUSED');
            return reply(info, 503);
          },
          { retry, idempotent: false },
        ),
      ),
    );
    expect(calls).toBe(2);
    expect(result.value.status).toBe(503);
    expect(retry.stats().refused['not-retryable']).toBe(1);
    result.lease.release();
  });

  it('never retries a non-replayable body', async () => {
    const { balancer } = fakeBalancer(3);
    const retry = new RetryPolicy({}, { random: seededRandom(4) });
    const error = new FakeTransportError('ECONNREFUSED');
    await expect(
      execute(options(balancer, () => Promise.reject(error), { retry, replayable: false })),
    ).rejects.toBe(error);
    expect(retry.stats().refused['not-replayable']).toBe(1);
    expect(inFlight(balancer)).toBe(0);
  });

  it('aborts an attempt at its per-try timeout (outcome timeout) and retries elsewhere', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const retry = new RetryPolicy({ perTryTimeoutMs: 100 }, { random: seededRandom(5) });
    const signals: AbortSignal[] = [];
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          (info) => {
            signals.push(info.signal);
            // The first endpoint hangs until aborted; the second answers in 10 ms.
            return replyAfter(clock, info.attempt === 1 ? 1e9 : 10, info.signal, () => reply(info, 200));
          },
          { retry },
        ),
      ),
    );
    expect(result.attempts).toBe(2);
    expect(signals[0]!.aborted).toBe(true);
    expect(isDeadlineExceededError(signals[0]!.reason)).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ scope: 'attempt', timeoutMs: 100 });
    expect(signals[1]!.aborted).toBe(false);
    const slow = balancer.stats().endpoints.find((e) => e.failures === 1);
    expect(slow).toBeDefined();
    expect(slow!.latencyEstimateMs).toBeGreaterThan(90); // the 100 ms timeout raised it from the 30 ms default
    result.lease.release();
  });

  it('fails with DeadlineExceededError at the overall deadline, releasing everything', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const retry = new RetryPolicy({ deadlineMs: 250, perTryTimeoutMs: 100 }, { random: seededRandom(6) });
    const run = track(
      execute(
        options(balancer, (info) => replyAfter(clock, 1e9, info.signal, () => reply(info, 200)), { retry }),
      ),
    );
    await advanceUntil(clock, run.settled);
    const error = await run.result().catch((e: unknown) => e);
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(error).toMatchObject({ scope: 'request', timeoutMs: 250 });
    expect(clock.now()).toBe(250);
    expect(inFlight(balancer)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(retry.stats().deadlineExceeded).toBe(1);
  });

  it("rejects with the caller's abort reason and releases the attempt as cancelled", async () => {
    const { balancer, clock } = fakeBalancer(2);
    const controller = new AbortController();
    const run = track(
      execute(
        options(balancer, (info) => replyAfter(clock, 1e9, info.signal, () => reply(info, 200)), {
          signal: controller.signal,
          retry: new RetryPolicy({}, { random: seededRandom(7) }),
        }),
      ),
    );
    await flush();
    expect(inFlight(balancer)).toBe(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(run.result()).rejects.toBe(reason);
    expect(inFlight(balancer)).toBe(0);
    // A cancellation is not the endpoint's fault: no failure recorded.
    expect(balancer.stats().endpoints.every((e) => e.failures === 0)).toBe(true);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { balancer } = fakeBalancer(1);
    let calls = 0;
    const signal = AbortSignal.abort(new Error('already'));
    await expect(
      execute(
        options(
          balancer,
          async (i) => {
            calls++;
            return reply(i, 200);
          },
          { signal },
        ),
      ),
    ).rejects.toThrow('already');
    expect(calls).toBe(0);
  });

  it('throttled requests fail with ThrottledError and make no call', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const throttle = new AdaptiveThrottle({ maxRejectionProbability: 1 }, clock, () => 0);
    for (let i = 0; i < 100; i++) throttle.record(false);
    const throttled = listen(channelNames.throttled);
    let calls = 0;
    const error = await execute(
      options(
        balancer,
        async (i) => {
          calls++;
          return reply(i, 200);
        },
        { throttle },
      ),
    ).catch((e: unknown) => e);
    expect(isThrottledError(error)).toBe(true);
    expect(calls).toBe(0);
    expect(inFlight(balancer)).toBe(0);
    expect(throttled).toEqual([expect.objectContaining({ balancer: 'default', hedge: false })]);
  });

  it('feeds the throttle: accepted on success, not accepted on failure', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const throttle = new AdaptiveThrottle({}, clock, seededRandom(1));
    const ok = await execute(options(balancer, async (i) => reply(i, 200), { throttle }));
    ok.lease.release();
    const failed = await execute(options(balancer, async (i) => reply(i, 503), { throttle }));
    failed.lease.release();
    expect(throttle.stats()).toMatchObject({ requests: 2, accepts: 1 });
  });

  it('fails with NoEndpointError when nothing is routable', async () => {
    const { balancer } = fakeBalancer(1);
    await balancer.close();
    const error = await execute(options(balancer, async (i) => reply(i, 200))).catch((e: unknown) => e);
    expect(isNoEndpointError(error)).toBe(true);
    expect((error as Error).message).toBe('default: no routable endpoint');
  });

  it('rejects bad options with a ConfigError', async () => {
    const { balancer } = fakeBalancer(1);
    const bad = [
      { ...options(balancer, async (i) => reply(i, 200)), balancer: {} },
      { ...options(balancer, async (i) => reply(i, 200)), classify: undefined },
      { ...options(balancer, async (i) => reply(i, 200)), idempotent: 'yes' },
    ];
    for (const o of bad) {
      const error = await execute(o as never).catch((e: unknown) => e);
      expect(isConfigError(error)).toBe(true);
    }
  });

  it('publishes budget exhaustion and gives up with the last response when the budget is empty', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const budget = new RetryBudget({ minRetriesPerSec: 0, percentCanRetry: 0 }, clock);
    const retry = new RetryPolicy({ budget }, { random: seededRandom(8) });
    const exhausted = listen(channelNames.budgetExhausted);
    const result = await execute(options(balancer, async (i) => reply(i, 503), { retry }));
    expect(result.attempts).toBe(1);
    expect(result.value.status).toBe(503);
    expect(exhausted).toEqual([{ balancer: 'default', kind: 'retry', attempts: 1 }]);
    expect(retry.stats().refused.budget).toBe(1);
    result.lease.release();
  });

  it('a shared budget is drained across balancers', async () => {
    const clock = new ManualClock();
    const a = fakeBalancer(2, { clock, name: 'a' }).balancer;
    const b = fakeBalancer(2, { clock, name: 'b' }).balancer;
    const budget = new RetryBudget({ minRetriesPerSec: 0.2, ttlMs: 10_000, percentCanRetry: 0 }, clock); // 2 retries
    const retry = new RetryPolicy({ budget, maxAttempts: 10 }, { random: seededRandom(9) });
    const fail = async (balancer: Balancer) => {
      const result = await runToEnd(clock, execute(options(balancer, async (i) => reply(i, 503), { retry })));
      result.lease.release();
      return result.attempts;
    };
    expect(await fail(a)).toBe(3);
    expect(await fail(b)).toBe(1);
  });
});

describe('execute under sustained failure (property)', () => {
  /**
   * Drives `rate` requests per second for `seconds` against a balancer whose endpoints all fail, and counts
   * attempts. Attempts fail after 1 ms (connection refused), so retries follow their backoff.
   */
  async function storm(rate: number, seconds: number, status: number, budgetOptions: object, seed: number) {
    const { balancer, clock } = fakeBalancer(4);
    const retry = new RetryPolicy(
      { maxAttempts: 10, budget: budgetOptions, backoff: { baseMs: 5, maxMs: 50 } },
      { random: seededRandom(seed) },
    );
    let attempts = 0;
    let requests = 0;
    const pending = new Set<Promise<unknown>>();
    const attempt = (info: AttemptInfo) => {
      attempts++;
      return replyAfter(clock, 1, info.signal, () =>
        status === 0 ? new FakeTransportError('ECONNREFUSED') : reply(info, status),
      );
    };
    const gapMs = 1000 / rate;
    for (let t = 0; t < seconds * 1000; t += gapMs) {
      requests++;
      const p = execute(options(balancer, attempt, { retry })).then(
        (r) => r.lease.release(),
        () => undefined,
      );
      pending.add(p);
      p.finally(() => pending.delete(p));
      await flush();
      clock.advance(gapMs);
    }
    await advanceUntil(clock, () => pending.size === 0, 5);
    return { attempts, requests, retries: retry.stats().retries, inFlight: inFlight(balancer) };
  }

  it('attempts ≤ (1 + percentCanRetry) × requests + minRetriesPerSec × (T + ttl)', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 100 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(0, 503),
        fc.record({
          ttlMs: fc.constantFrom(1_000, 5_000, 10_000),
          minRetriesPerSec: fc.integer({ min: 0, max: 20 }),
          percentCanRetry: fc.constantFrom(0, 0.1, 0.2, 0.5),
        }),
        fc.integer(),
        async (rate, seconds, status, budget, seed) => {
          const r = await storm(rate, seconds, status, budget, seed);
          const bound =
            (1 + budget.percentCanRetry) * r.requests +
            budget.minRetriesPerSec * (seconds + budget.ttlMs / 1000);
          expect(r.attempts).toBeLessThanOrEqual(bound);
          expect(r.attempts).toBe(r.requests + r.retries);
          expect(r.inFlight).toBe(0);
          // The budget is not simply refusing everything: retries happen whenever it holds a whole token.
          if (budget.minRetriesPerSec * (budget.ttlMs / 1000) >= 1) expect(r.retries).toBeGreaterThan(0);
        },
      ),
      { seed: 42, numRuns: 15 },
    );
  });

  it('the budget is what bounds a retry storm: without one, maxAttempts multiplies load', async () => {
    const budgeted = await storm(50, 20, 503, {}, 1);
    const unbounded = await storm(50, 20, 503, false as unknown as object, 1);
    expect(budgeted.requests).toBe(1000);
    // Defaults: 20 % of 1000 requests + 10/s over 20 s + the 10 s ttl burst = 500 at most.
    expect(budgeted.retries).toBeLessThanOrEqual(200 + 10 * (20 + 10));
    expect(unbounded.attempts).toBe(10 * unbounded.requests);
  });

  it('with no failures, no retry happens', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const retry = new RetryPolicy({}, { random: seededRandom(10) });
    for (let i = 0; i < 200; i++) {
      const result = await runToEnd(
        clock,
        execute(
          options(balancer, (info) => replyAfter(clock, 3, info.signal, () => reply(info, 200)), { retry }),
        ),
      );
      expect(result.attempts).toBe(1);
      result.lease.release();
    }
    expect(retry.stats().retries).toBe(0);
    expect(retry.budgetFor(balancer)!.stats()).toMatchObject({ deposits: 200, withdrawals: 0 });
  });
});

describe('execute edge cases', () => {
  it('discards a late response from an attempt that already timed out', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const retry = new RetryPolicy({ perTryTimeoutMs: 50 }, { random: seededRandom(11) });
    const discarded: FakeReply[] = [];
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          // Ignores the abort signal: the first attempt answers at 80 ms anyway, after its 50 ms timeout; the
          // retry answers 40 ms after it starts, so the late response arrives while the retry is in flight.
          (info) =>
            new Promise<FakeReply>((resolve) => {
              clock.setTimer(() => resolve(reply(info, 200)), info.attempt === 1 ? 80 : 40);
            }),
          { retry, discard: (v) => discarded.push(v) },
        ),
      ),
    );
    expect(result.attempts).toBe(2);
    expect(discarded).toHaveLength(1);
    expect(discarded[0]!.address).not.toBe(result.value.address);
    expect(inFlight(balancer)).toBe(1);
    result.lease.release();
  });

  it('a retry rejected by the throttle fails with ThrottledError carrying the previous failure', async () => {
    const { balancer, clock } = fakeBalancer(2);
    // p is 0 for the first attempt (no draw); after its failure p = 1/2, and a draw of 0 rejects the retry.
    const throttle = new AdaptiveThrottle({}, clock, () => 0);
    const retry = new RetryPolicy({}, { random: seededRandom(12) });
    const failure = new FakeTransportError('ECONNREFUSED');
    const error = await runToEnd(
      clock,
      execute(options(balancer, () => Promise.reject(failure), { retry, throttle })),
    ).catch((e: unknown) => e);
    expect(isThrottledError(error)).toBe(true);
    expect((error as Error).cause).toBe(failure);
    expect(retry.stats()).toMatchObject({ retries: 1, throttled: 1 });
  });

  it('does not start a backoff that would end past the deadline: answers with the last response', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const retry = new RetryPolicy(
      { deadlineMs: 1_000, backoff: { baseMs: 900, maxMs: 900 } },
      { random: () => 0.999 },
    );
    const starts: number[] = [];
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          (info) => {
            starts.push(clock.now());
            return replyAfter(clock, 200, info.signal, () => reply(info, 503));
          },
          { retry },
        ),
      ),
    );
    // The attempt at 0 fails at 200; an 899 ms backoff would end at 1,099 > 1,000, so the policy stops there,
    // and the caller gets the 503 at once rather than a DeadlineExceededError 800 ms later.
    expect(starts).toEqual([0]);
    expect(clock.now()).toBe(200);
    expect(result.value.status).toBe(503);
    expect(retry.stats().refused.deadline).toBe(1);
    result.lease.release();
  });

  it('a classify that throws fails the request with that error and releases the lease', async () => {
    const { balancer } = fakeBalancer(1);
    const bug = new Error('classify bug');
    await expect(
      execute({
        ...options(balancer, async (i) => reply(i, 200)),
        classify: () => {
          throw bug;
        },
      }),
    ).rejects.toBe(bug);
    expect(inFlight(balancer)).toBe(0);
  });

  it('an attempt that throws synchronously counts as a failed attempt', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const retry = new RetryPolicy({}, { random: seededRandom(13) });
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          (info) => {
            if (info.attempt === 1) throw new FakeTransportError('ECONNREFUSED');
            return Promise.resolve(reply(info, 200));
          },
          { retry },
        ),
      ),
    );
    expect(result.attempts).toBe(2);
    result.lease.release();
  });

  it('maxHedges 2: two hedges at delay intervals, then the first answer wins and both losers are cancelled', async () => {
    const { balancer, clock } = fakeBalancer(4);
    const hedging = new HedgingPolicy({ delayMs: 10, maxHedges: 2 });
    const signals: AbortSignal[] = [];
    const result = await runToEnd(
      clock,
      execute(
        options(
          balancer,
          (info) => {
            signals.push(info.signal);
            return replyAfter(clock, info.attempt === 3 ? 5 : 1_000, info.signal, () => reply(info, 200));
          },
          { hedging },
        ),
      ),
    );
    expect(clock.now()).toBe(25); // hedges at 10 and 20; the second answers 5 ms later
    expect(result.attempts).toBe(3);
    expect(signals.map((s) => s.aborted)).toEqual([true, true, false]);
    expect(inFlight(balancer)).toBe(1);
    result.lease.release();
  });
});

describe('execute lease discipline (property)', () => {
  type Behaviour = 'ok' | '503' | 'reset' | 'refused' | 'slow' | 'hang';

  it('whatever happens, every lease is released once and no timer is left behind', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Behaviour>('ok', '503', 'reset', 'refused', 'slow', 'hang'), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.record({
          maxAttempts: fc.integer({ min: 1, max: 5 }),
          perTryTimeoutMs: fc.option(fc.constantFrom(30, 200), { nil: undefined }),
          deadlineMs: fc.option(fc.constantFrom(100, 1_000), { nil: undefined }),
        }),
        fc.option(fc.constantFrom(10, 50), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
        fc.boolean(),
        async (behaviours, retryOptions, hedgeDelay, abortAt, idempotent) => {
          const { balancer, clock } = fakeBalancer(3);
          const retry = new RetryPolicy(
            { ...retryOptions, backoff: { baseMs: 5, maxMs: 20 } },
            { random: seededRandom(behaviours.length) },
          );
          const hedging = hedgeDelay === undefined ? undefined : new HedgingPolicy({ delayMs: hedgeDelay });
          const controller = new AbortController();
          // A caller that never gives up, with no timeout, would wait forever on a hanging endpoint: give it one.
          const bounded = retryOptions.perTryTimeoutMs !== undefined || retryOptions.deadlineMs !== undefined;
          const abortTime = abortAt ?? (bounded ? undefined : 10_000);
          if (abortTime !== undefined) {
            clock.setTimer(() => controller.abort(new Error('caller abort')), abortTime);
          }
          const attempt = (info: AttemptInfo) => {
            const behaviour = behaviours[(info.attempt - 1) % behaviours.length]!;
            const delay = behaviour === 'hang' ? 1e9 : behaviour === 'slow' ? 150 : 5;
            return replyAfter(clock, delay, info.signal, () => {
              if (behaviour === 'reset') return new FakeTransportError('ECONNRESET');
              if (behaviour === 'refused') return new FakeTransportError('ECONNREFUSED');
              return reply(info, behaviour === '503' ? 503 : 200);
            });
          };
          const outcome = await runToEnd(
            clock,
            execute(
              options(balancer, attempt, {
                retry,
                hedging,
                idempotent,
                signal: controller.signal,
              }),
            ).then(
              (r) => r,
              () => undefined,
            ),
          );
          // Only the returned response still holds its lease.
          expect(inFlight(balancer)).toBe(outcome === undefined ? 0 : 1);
          outcome?.lease.release();
          expect(inFlight(balancer)).toBe(0);
          expect(outcome === undefined || outcome.attempts <= retryOptions.maxAttempts).toBe(true);
          // The abort timer may still be pending when the request ended first; nothing else may be.
          const abortPending = abortTime !== undefined && clock.now() < abortTime ? 1 : 0;
          expect(clock.pendingTimers).toBe(abortPending);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });
});

describe('execute: resume after an adapter-made first attempt', () => {
  const failedFirst = (address: string, startedAt = 0) => ({
    address,
    startedAt,
    error: new FakeTransportError('ECONNREFUSED'),
    classified: {
      outcome: { ok: false as const, failure: 'connect' as const },
      retryable: true,
      bodySent: false,
    },
  });

  it('retries away from the first attempt’s endpoint and counts the request in the budget once', async () => {
    const { balancer } = fakeBalancer(2);
    const budget = new RetryBudget({ minRetriesPerSec: 0, percentCanRetry: 1 }, balancer.clock);
    const retry = new RetryPolicy({ budget }, { random: seededRandom(1) });
    const tried: string[] = [];
    const run = track(
      execute(
        options(
          balancer,
          async (info) => {
            tried.push(info.lease.endpoint.address);
            return reply(info, 200);
          },
          { retry, resume: failedFirst('10.0.0.1:80') },
        ),
      ),
    );
    await advanceUntil(balancer.clock as ManualClock, run.settled);
    const result = await run.result();
    expect(tried).toEqual(['10.0.0.2:80']);
    expect(result.attempts).toBe(2);
    expect(budget.stats()).toMatchObject({ deposits: 1, withdrawals: 1 });
    result.lease.release();
  });

  it('gives up with the first error when it is not retryable, releasing nothing it does not own', async () => {
    const { balancer } = fakeBalancer(2);
    const retry = new RetryPolicy({}, { random: seededRandom(1) });
    const first = failedFirst('10.0.0.1:80');
    let attempts = 0;
    const error = await execute(
      options(
        balancer,
        async (info) => {
          attempts++;
          return reply(info, 200);
        },
        { retry, resume: { ...first, classified: { ...first.classified, retryable: false } } },
      ),
    ).catch((e: unknown) => e);
    expect(error).toBe(first.error);
    expect(attempts).toBe(0);
    expect(inFlight(balancer)).toBe(0);
  });

  it('a per-request deadline counts from the first attempt’s start and refuses a retry past it', async () => {
    const { balancer, clock } = fakeBalancer(2);
    clock.advance(1_000);
    const retry = new RetryPolicy({ backoff: { baseMs: 100, maxMs: 100 } }, { random: () => 0.99 });
    const first = failedFirst('10.0.0.1:80', 950);
    let attempts = 0;
    const error = await execute(
      options(
        balancer,
        async (info) => {
          attempts++;
          return reply(info, 200);
        },
        // 50 ms already spent of 100: a ~99 ms backoff would end past the deadline.
        { retry, resume: first, deadlineMs: 100 },
      ),
    ).catch((e: unknown) => e);
    expect(error).toBe(first.error);
    expect(attempts).toBe(0);
    expect(retry.stats().refused.deadline).toBe(1);
  });

  it('a per-request deadline shorter than the policy’s ends the request with DeadlineExceededError', async () => {
    const { balancer, clock } = fakeBalancer(2);
    const retry = new RetryPolicy({ deadlineMs: 10_000 }, { random: seededRandom(1) });
    const run = track(
      execute(options(balancer, () => new Promise<FakeReply>(() => {}), { retry, deadlineMs: 200 })),
    );
    await advanceUntil(clock, run.settled);
    expect(clock.now()).toBe(200);
    const error = await run.result().catch((e: unknown) => e);
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(inFlight(balancer)).toBe(0);
  });
});
