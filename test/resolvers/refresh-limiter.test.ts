import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { RefreshLimiter } from '../../src/resolvers/refresh-limiter.js';

/** A limiter whose run records the clock time and finishes when the test says so. */
function setup(minIntervalMs = 5_000) {
  const clock = new ManualClock(1_000);
  const runs: number[] = [];
  let finish: (() => void) | undefined;
  const limiter = new RefreshLimiter({
    clock,
    minIntervalMs,
    run: () =>
      new Promise<void>((resolve) => {
        runs.push(clock.now());
        finish = resolve;
      }),
  });
  const complete = async () => {
    finish?.();
    finish = undefined;
    await flush();
  };
  return { clock, runs, limiter, complete };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RefreshLimiter', () => {
  it('runs a first request on a microtask, never synchronously', async () => {
    const { runs, limiter } = setup();
    limiter.request();
    expect(runs).toEqual([]);
    await flush();
    expect(runs).toEqual([1_000]);
  });

  it('coalesces requests inside the interval into one run at the end of it', async () => {
    const { clock, runs, limiter, complete } = setup();
    limiter.request();
    await flush();
    await complete();
    clock.advance(1_000);
    expect(limiter.request()).toBe(6_000);
    expect(limiter.request()).toBe(6_000);
    clock.advance(3_999);
    expect(runs).toEqual([1_000]);
    clock.advance(1);
    expect(runs).toEqual([1_000, 6_000]);
  });

  it('treats a run in flight as satisfying a request', async () => {
    const { clock, runs, limiter, complete } = setup();
    limiter.request();
    await flush();
    expect(limiter.running).toBe(true);
    limiter.request();
    clock.advance(60_000);
    await flush();
    expect(runs).toEqual([1_000]);
    await complete();
    expect(limiter.running).toBe(false);
    expect(limiter.dueAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('does not delay a scheduled run that is due sooner than the rate limit allows', async () => {
    const { clock, runs, limiter, complete } = setup();
    limiter.request();
    await flush();
    limiter.schedule(2_000);
    await complete();
    expect(limiter.request()).toBe(3_000);
    clock.advance(2_000);
    expect(runs).toEqual([1_000, 3_000]);
  });

  it('brings a later scheduled run forward to the end of the interval', async () => {
    const { clock, runs, limiter, complete } = setup();
    limiter.request();
    await flush();
    limiter.schedule(60_000);
    await complete();
    expect(limiter.request()).toBe(6_000);
    clock.advance(5_000);
    expect(runs).toEqual([1_000, 6_000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs nothing after close(), and leaves no timer behind', async () => {
    const { clock, runs, limiter } = setup();
    limiter.schedule(100);
    limiter.request();
    limiter.close();
    await flush();
    clock.advance(100_000);
    limiter.request();
    limiter.schedule(1);
    clock.advance(10);
    await flush();
    expect(runs).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hands a throwing run to onRunError and keeps working', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    let calls = 0;
    const limiter = new RefreshLimiter({
      clock,
      minIntervalMs: 10,
      run: () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return Promise.reject(new Error('async boom'));
      },
      onRunError: (error) => errors.push(error),
    });
    limiter.request();
    await flush();
    clock.advance(10);
    limiter.request();
    await flush();
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'async boom']);
    expect(limiter.running).toBe(false);
  });
});
