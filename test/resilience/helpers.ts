/**
 * Test helpers for the resilience suite: a balancer on a ManualClock with a seeded random source, and a way to let
 * promise callbacks run between clock advances (the executor reacts to attempts in microtasks).
 */
import { Balancer, type BalancerOptions } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
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
