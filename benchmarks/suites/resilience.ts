/**
 * Cost of the resilience building blocks, against same-run baselines:
 * - `budget/deposit+withdraw`, `throttle/shouldReject+record`, `backoff/delay`, `hedging/observe`: the per-request
 *   bookkeeping, compared with `resilience/baseline-counter` (incrementing two plain fields) and
 *   `resilience/baseline-clock-read` (one `performance.now()`: the budget and throttle read the clock once per call
 *   unless given `now`);
 * - `hedging/baseline-observe-sort`: the same latency ring re-sorting a copy instead of quickselect;
 * - `execute/*` (metrics, ns/op over sequential requests): one request through `execute()` with a retry policy,
 *   budget and throttle, against the same request done by hand (`tryPick` + attempt + `release`), both with an
 *   attempt that resolves at once — the executor's overhead per request, not network time;
 * - `storm/<failure %>/<budget|no-budget>/{amplification,success}` (metrics): 100 requests/s for 60 s on a
 *   ManualClock, attempts failing at random, default retry policy with and without its budget (docs/retries.md).
 */
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock, systemClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { AdaptiveThrottle } from '../../src/resilience/adaptive-throttle.js';
import { ExponentialBackoff } from '../../src/resilience/backoff.js';
import { type Classified, execute } from '../../src/resilience/executor.js';
import { LatencyWindow } from '../../src/resilience/latency-window.js';
import { RetryBudget } from '../../src/resilience/retry-budget.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import type { Bench } from '../harness.js';

const OK: Classified = { outcome: { ok: true }, retryable: false };

export default async function suite(b: Bench): Promise<void> {
  const budget = new RetryBudget({}, systemClock);
  const throttle = new AdaptiveThrottle({}, systemClock, seededRandom(1));
  const backoff = new ExponentialBackoff({}, seededRandom(2));
  const window = new LatencyWindow(95);
  const counters = { a: 0, b: 0 };
  let n = 0;

  b.group('resilience bookkeeping per request', () => {
    b.bench('resilience/baseline-counter', () => {
      counters.a++;
      return counters.b++;
    });
    b.bench('resilience/baseline-clock-read', () => systemClock.now());
    b.bench('budget/deposit+withdraw', () => {
      budget.deposit();
      return budget.withdraw();
    });
    b.bench('throttle/shouldReject+record', () => {
      const rejected = throttle.shouldReject();
      if (!rejected) throttle.record(true);
      return rejected;
    });
    b.bench('backoff/delay', () => backoff.delay((n++ % 5) + 1));
    b.bench('hedging/observe', () => window.observe(n++ % 100));
    // Baseline: the same ring, but re-sorting a copy every 32 samples instead of quickselect.
    const ring = new Float64Array(256);
    let next = 0;
    let since = 0;
    let p95 = 0;
    b.bench('hedging/baseline-observe-sort', () => {
      ring[next] = n++ % 100;
      next = (next + 1) % 256;
      if (++since >= 32) {
        since = 0;
        const sorted = ring.slice().sort();
        p95 = sorted[Math.ceil(0.95 * 256) - 1]!;
      }
      return p95;
    });
  });

  // Allocation with a clock whose reads allocate nothing: performance.now() boxes its double result (16 bytes per
  // read), which is the clock's cost, not the budget's or the throttle's.
  const manual = new ManualClock(0);
  const quietBudget = new RetryBudget({}, manual);
  const quietThrottle = new AdaptiveThrottle({}, manual, seededRandom(4));
  b.allocations('budget/deposit+withdraw', () => {
    quietBudget.deposit();
    return quietBudget.withdraw();
  });
  b.allocations('throttle/shouldReject+record', () => {
    quietThrottle.record(!quietThrottle.shouldReject());
  });
  b.allocations('clock/performance.now', () => performance.now());
  b.allocations('hedging/observe', () => window.observe(n++ % 100));

  // execute() against a hand-written pick/attempt/release, sequentially, same run.
  const balancer = new Balancer({
    endpoints: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'],
    policy: 'round_robin',
  });
  const retry = new RetryPolicy({}, { random: seededRandom(3) });
  const value = { status: 200 };
  const requests = 50_000;
  const byHand = async () => {
    const lease = balancer.pick()!;
    await Promise.resolve(value);
    lease.release();
  };
  const viaExecute = async () => {
    const result = await execute({
      balancer,
      attempt: async () => value,
      classify: () => OK,
      retry,
      throttle,
      idempotent: true,
      replayable: true,
    });
    result.lease.release();
  };
  for (const [name, fn] of [
    ['execute/baseline-by-hand', byHand],
    ['execute/retry+budget+throttle', viaExecute],
  ] as const) {
    for (let i = 0; i < 5_000; i++) await fn(); // warm-up
    const started = performance.now();
    for (let i = 0; i < requests; i++) await fn();
    b.metric(`${name} (ns/op)`, Math.round(((performance.now() - started) / requests) * 1e6));
  }
  await storm(b);
}

/** Simulated load under random failure: attempts per request and success rate, with or without the budget. */
async function storm(b: Bench): Promise<void> {
  for (const failRate of [0, 0.1, 0.5, 1]) {
    for (const budget of [{}, false] as const) {
      const clock = new ManualClock();
      const balancer = new Balancer({
        endpoints: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'],
        policy: 'round_robin',
        clock,
        random: seededRandom(1),
      });
      const retry = new RetryPolicy({ budget }, { random: seededRandom(2) });
      const random = seededRandom(3);
      let attempts = 0;
      let ok = 0;
      let requests = 0;
      const pending = new Set<Promise<void>>();
      const flush = async () => {
        for (let i = 0; i < 8; i++) await Promise.resolve();
      };
      for (let t = 0; t < 60_000; t += 10) {
        requests++;
        const p: Promise<void> = execute({
          balancer,
          retry,
          idempotent: true,
          replayable: true,
          attempt: () => {
            attempts++;
            const status = random() < failRate ? 503 : 200;
            return new Promise<number>((resolve) => clock.setTimer(() => resolve(status), 5));
          },
          classify: (r) =>
            'value' in r && r.value === 200
              ? OK
              : { outcome: { ok: false, failure: 'status', status: 503 }, retryable: true },
        }).then((r) => {
          if (r.value === 200) ok++;
          r.lease.release();
        });
        pending.add(p);
        p.finally(() => pending.delete(p));
        await flush();
        clock.advance(10);
        await flush();
      }
      while (pending.size > 0) {
        clock.advance(5);
        await flush();
      }
      const name = `storm/${failRate * 100}%/${budget === false ? 'no-budget' : 'budget'}`;
      b.metric(`${name}/amplification`, Math.round((attempts / requests) * 1000) / 1000);
      b.metric(`${name}/success`, Math.round((ok / requests) * 1000) / 1000);
    }
  }
}
