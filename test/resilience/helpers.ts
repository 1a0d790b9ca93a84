/**
 * Test helpers for the resilience suite: a balancer on a ManualClock with a seeded random source, and a way to let
 * promise callbacks run between clock advances (the executor reacts to attempts in microtasks).
 */
import { expect } from 'vitest';
import { Balancer, type BalancerOptions } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { isConfigError } from '../../src/errors/config-error.js';
import { seededRandom } from '../../src/random.js';

/** Lets pending promise callbacks (and their follow-ups) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A balancer over `n` endpoints (10.0.0.1:80 …) on a ManualClock. */
export function fakeBalancer(
  n: number,
  extra: Partial<BalancerOptions> = {},
): { balancer: Balancer; clock: ManualClock } {
  const clock = (extra.clock as ManualClock | undefined) ?? new ManualClock(0);
  const endpoints = Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:80`);
  const balancer = new Balancer({
    endpoints,
    policy: 'round_robin',
    random: seededRandom(7),
    ...extra,
    clock,
  });
  return { balancer, clock };
}

/** Advances `clock` in `stepMs` steps, flushing between steps, until `done()` or `maxMs` elapsed. */
export async function advanceUntil(
  clock: ManualClock,
  done: () => boolean,
  stepMs = 1,
  maxMs = 60_000,
): Promise<void> {
  await flush();
  for (let t = 0; t < maxMs && !done(); t += stepMs) {
    clock.advance(stepMs);
    await flush();
  }
}

/** Tracks a promise's settlement without unhandled-rejection noise. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; result: () => Promise<T> } {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { settled: () => settled, result: () => promise };
}

/** A fake response: what a fake attempt resolves with. */
export interface FakeReply {
  readonly status: number;
  readonly address: string;
  discarded: boolean;
}

/** Error a fake transport rejects with, carrying a Node-style code. */
export class FakeTransportError extends Error {
  constructor(readonly code: 'ECONNREFUSED' | 'ECONNRESET') {
    super(code);
  }
}

/** An HTTP-ish classify for fake replies: 5xx are failures; transport errors by code; aborts are cancellations. */
export function classifyFake(result: { value: FakeReply } | { error: unknown }) {
  if ('value' in result) {
    const status = result.value.status;
    return status >= 500
      ? { outcome: { ok: false as const, failure: 'status' as const, status }, retryable: true }
      : { outcome: { ok: true as const }, retryable: false };
  }
  const error = result.error as { code?: string; name?: string };
  if (error?.code === 'ECONNREFUSED') {
    return { outcome: { ok: false as const, failure: 'connect' as const }, retryable: true, bodySent: false };
  }
  if (error?.code === 'ECONNRESET')
    return { outcome: { ok: false as const, failure: 'reset' as const }, retryable: true };
  return { outcome: { ok: false as const, failure: 'cancelled' as const }, retryable: false };
}

/** A reply promise that settles after `ms` on `clock`, or rejects when `signal` aborts. */
export function replyAfter(
  clock: ManualClock,
  ms: number,
  signal: AbortSignal,
  reply: () => FakeReply | Error,
): Promise<FakeReply> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimer(() => {
      const r = reply();
      if (r instanceof Error) reject(r);
      else resolve(r);
    }, ms);
    signal.addEventListener('abort', () => {
      timer.cancel();
      reject(signal.reason);
    });
  });
}

/** Drives `clock` until `promise` settles and returns it (resolved value or rejection). */
export async function runToEnd<T>(clock: ManualClock, promise: Promise<T>, stepMs = 1): Promise<T> {
  const run = track(promise);
  await advanceUntil(clock, run.settled, stepMs);
  return run.result();
}

/** Asserts that `construct` throws a ConfigError whose message contains `message`. */
export function expectConfigError(construct: () => unknown, message: string): void {
  let error: unknown;
  try {
    construct();
  } catch (e) {
    error = e;
  }
  expect(isConfigError(error)).toBe(true);
  expect((error as Error).message).toContain(message);
}
