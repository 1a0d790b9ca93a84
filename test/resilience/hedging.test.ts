import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Balancer } from '../../src/balancer/balancer.js';
import type { ManualClock } from '../../src/clock.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { type AttemptInfo, type ExecuteOptions, execute } from '../../src/resilience/executor.js';
import { HedgingPolicy } from '../../src/resilience/hedging.js';
import { LatencyWindow, RECOMPUTE_EVERY, select, WINDOW_SIZE } from '../../src/resilience/latency-window.js';
import { RetryBudget } from '../../src/resilience/retry-budget.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { checkAsyncProperty, checkProperty } from '../helpers/properties.js';
import {
  advanceUntil,
  classifyFake,
  expectConfigError,
  type FakeReply,
  fakeBalancer,
  replyAfter,
  runToEnd,
  track,
} from './helpers.js';

/** Each endpoint answers 200 after its own latency (ms), by address. */
function slowEndpoints(clock: ManualClock, latency: (address: string, attempt: number) => number) {
  const signals: AbortSignal[] = [];
  const attempt = (info: AttemptInfo) => {
    signals.push(info.signal);
    const address = info.lease.endpoint.address;
    return replyAfter(clock, latency(address, info.attempt), info.signal, () => ({
      status: 200,
      address,
      discarded: false,
    }));
  };
  return { attempt, signals };
}

function hedged(
  balancer: Balancer,
  attempt: (info: AttemptInfo) => Promise<FakeReply>,
  extra: Partial<ExecuteOptions<FakeReply>>,
): ExecuteOptions<FakeReply> {
  return {
    balancer,
    attempt,
    classify: classifyFake,
    discard: (v) => {
      v.discarded = true;
    },
    idempotent: true,
    replayable: true,
    ...extra,
  };
}

describe('HedgingPolicy options', () => {
  it.each([
    [{}, 'hedging: expected an object with `delayMs`, `percentile` or both'],
    [{ delayMs: -1 }, 'hedging.delayMs: expected a number from 0 to 3600000, got -1'],
    [{ percentile: 100 }, 'hedging.percentile: expected a number from 1 to 99.9, got 100'],
    [{ delayMs: 10, maxHedges: 0 }, 'hedging.maxHedges: expected an integer from 1 to 4, got 0'],
    [
      { delayMs: 10, budget: 'shared' },
      'hedging.budget: expected a RetryBudget, retry budget options, or false',
    ],
    [{ delayMs: 10, after: 5 }, 'hedging.after: expected one of the known options'],
  ])('rejects %j', (options, message) => {
    expectConfigError(() => new HedgingPolicy(options as never), message);
  });
});

describe('LatencyWindow', () => {
  it('property: matches the nearest-rank percentile of the last samples at each recomputation', () => {
    checkProperty(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), {
          minLength: RECOMPUTE_EVERY,
          maxLength: 700,
        }),
        fc.constantFrom(50, 90, 95, 99, 99.9),
        (samples, percentile) => {
          const window = new LatencyWindow(percentile);
          for (const s of samples) window.observe(s);
          // The value is as of the last multiple of RECOMPUTE_EVERY samples.
          const upTo = samples.length - (samples.length % RECOMPUTE_EVERY);
          const recent = samples.slice(Math.max(0, upTo - WINDOW_SIZE), upTo).sort((a, b) => a - b);
          const rank = Math.max(1, Math.ceil((percentile / 100) * recent.length));
          expect(window.value).toBe(recent[rank - 1]);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('is NaN until enough samples were seen', () => {
    const window = new LatencyWindow(95);
    for (let i = 0; i < RECOMPUTE_EVERY - 1; i++) window.observe(i);
    expect(window.value).toBeNaN();
    window.observe(1);
    expect(window.value).not.toBeNaN();
  });
});

describe('hedging through execute', () => {
  it('sends a hedge to another endpoint after delayMs; the first answer wins and the loser is cancelled', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const hedging = new HedgingPolicy({ delayMs: 20 });
    const hedges: unknown[] = [];
    const listener = (m: unknown) => hedges.push(m);
    diagnosticsChannel.subscribe(channelNames.hedge, listener);
    const { attempt, signals } = slowEndpoints(clock, (_, n) => (n === 1 ? 500 : 30));
    const run = track(execute(hedged(balancer, attempt, { hedging })));
    await advanceUntil(clock, run.settled);
    diagnosticsChannel.unsubscribe(channelNames.hedge, listener);
    const result = await run.result();
    expect(clock.now()).toBe(50); // hedge at 20 ms + 30 ms
    expect(result.attempts).toBe(2);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    expect(balancer.stats().totalInFlight).toBe(1); // only the winner's lease
    expect(hedging.stats()).toEqual({ hedges: 1, won: 1, budgetExhausted: 0 });
    expect(hedges).toEqual([
      expect.objectContaining({ event: 'sent', attempt: 2 }),
      expect.objectContaining({ event: 'won', attempt: 2, address: result.value.address }),
    ]);
    // The cancelled loser counted no failure against its endpoint.
    expect(balancer.stats().endpoints.every((e) => e.failures === 0)).toBe(true);
    result.lease.release();
  });

  it('sends no hedge when the first attempt answers before the delay', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const hedging = new HedgingPolicy({ delayMs: 20 });
    const { attempt } = slowEndpoints(clock, () => 10);
    const result = await runToEnd(clock, execute(hedged(balancer, attempt, { hedging })));
    expect(result.attempts).toBe(1);
    expect(hedging.stats().hedges).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    result.lease.release();
  });

  it('never hedges a non-idempotent or non-replayable request', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const hedging = new HedgingPolicy({ delayMs: 5 });
    const { attempt } = slowEndpoints(clock, () => 50);
    for (const extra of [{ idempotent: false }, { replayable: false }]) {
      const run = track(execute(hedged(balancer, attempt, { hedging, ...extra })));
      await advanceUntil(clock, run.settled);
      (await run.result()).lease.release();
    }
    expect(hedging.stats().hedges).toBe(0);
  });

  it('hedges at the observed percentile once it is known', async () => {
    const { balancer, clock } = fakeBalancer(4);
    const hedging = new HedgingPolicy({ percentile: 90 });
    // Warm-up: 32 requests at latencies 1..32 ms; a percentile-only policy does not hedge until it has a value.
    for (let i = 1; i <= RECOMPUTE_EVERY; i++) {
      const { attempt } = slowEndpoints(clock, () => i);
      const run = track(execute(hedged(balancer, attempt, { hedging })));
      await advanceUntil(clock, run.settled);
      (await run.result()).lease.release();
    }
    expect(hedging.stats().hedges).toBe(0);
    expect(hedging.delayFor(balancer)).toBe(29); // nearest-rank p90 of 1..32
    expect(hedging.delayFor(fakeBalancer(1).balancer)).toBeUndefined(); // per balancer: another has no estimate
    const { attempt } = slowEndpoints(clock, (_, n) => (n === 1 ? 1_000 : 5));
    const start = clock.now();
    const result = await runToEnd(clock, execute(hedged(balancer, attempt, { hedging })));
    expect(clock.now() - start).toBe(29 + 5);
    expect(hedging.stats()).toMatchObject({ hedges: 1, won: 1 });
    result.lease.release();
  });

  it('a failed hedge does not end the request while the original may still succeed', async () => {
    const { balancer, clock } = fakeBalancer(3);
    const hedging = new HedgingPolicy({ delayMs: 10 });
    const attempt = (info: AttemptInfo) =>
      replyAfter(clock, info.attempt === 1 ? 40 : 5, info.signal, () => ({
        status: info.attempt === 1 ? 200 : 503,
        address: info.lease.endpoint.address,
        discarded: false,
      }));
    const result = await runToEnd(clock, execute(hedged(balancer, attempt, { hedging })));
    expect(result.value.status).toBe(200);
    expect(clock.now()).toBe(40);
    expect(hedging.stats()).toMatchObject({ hedges: 1, won: 0 });
    result.lease.release();
  });

  it('property: hedges never exceed what the budget allows', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom(0, 0.05, 0.2, 0.5),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (requests, percentCanRetry, maxHedges, withRetryPolicy) => {
          const { balancer, clock } = fakeBalancer(5);
          const budget = new RetryBudget({ minRetriesPerSec: 0, percentCanRetry }, clock);
          const hedging = new HedgingPolicy({ delayMs: 5, maxHedges, budget });
          const retry = withRetryPolicy
            ? new RetryPolicy({ budget, maxAttempts: 5 }, { random: seededRandom(1) })
            : undefined;
          // Every attempt is slow, so every request wants all its hedges.
          const { attempt } = slowEndpoints(clock, () => 100);
          for (let i = 0; i < requests; i++) {
            const run = track(execute(hedged(balancer, attempt, { hedging, retry })));
            await advanceUntil(clock, run.settled);
            (await run.result()).lease.release();
          }
          const { hedges, budgetExhausted } = hedging.stats();
          expect(hedges).toBeLessThanOrEqual(Math.floor(percentCanRetry * requests + 1e-9));
          expect(hedges).toBe(budget.stats().withdrawals);
          if (percentCanRetry === 0) expect(budgetExhausted).toBe(requests);
          expect(balancer.stats().totalInFlight).toBe(0);
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  });
});

describe('select (quickselect)', () => {
  it('property: returns the k-th smallest, duplicates and sorted runs included', () => {
    checkProperty(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e6, noNaN: true })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.nat(),
        fc.boolean(),
        (values, k0, sorted) => {
          const input = sorted ? [...values].sort((x, y) => x - y) : values;
          const k = k0 % input.length;
          const expected = [...input].sort((x, y) => x - y)[k];
          expect(select(Float64Array.from(input), input.length, k)).toBe(expected);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });
});
