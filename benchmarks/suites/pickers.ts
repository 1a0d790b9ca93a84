/**
 * Pick + release cost of the load-aware policies at 10/100/1000 endpoints, against same-run baselines:
 * - `array`: `arr[i++ % n]`, the floor for any pick;
 * - `hand-p2c`: a hand-written P2C over a plain array with an inline xorshift PRNG (the best a picker can do);
 * - `npm-load-balancers-p2c`: the npm package `load-balancers` (P2C over pick counts, `Math.random`).
 * `picker/<policy>` is the algorithm alone (the policy's Picker over EndpointStates, like the hand P2C).
 * `pick/<policy>` runs through the real `Balancer.pick()` and `lease.release()`, with the caller passing `now` and
 * the latency as an adapter does: what an adapter pays per request, Lease allocation and bookkeeping included.
 * `acquire/<policy>` is the same through the Lease-free path (`balancer.acquire()` + `balancer.complete()`).
 */
import { P2cBalancer } from 'load-balancers';
import { Balancer } from '../../src/balancer/balancer.js';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import type { Outcome } from '../../src/balancer/outcome.js';
import type { PickContext } from '../../src/balancer/policy/picker.js';
import { createPolicy, parsePolicyConfig } from '../../src/balancer/policy/registry.js';
import { systemClock } from '../../src/clock.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { seededRandom } from '../../src/random.js';
import type { Bench } from '../harness.js';

const SIZES = [10, 100, 1000];
const ALL_POLICIES = [
  'round_robin',
  'weighted_round_robin',
  'random',
  'least_request',
  'p2c_peak_ewma',
  'p2c_robust_ewma',
];
/**
 * `BENCH_POLICIES=least_request` registers one policy's rows only (with the baselines). Rows of six policies in one
 * process share the Balancer's and the bench's call sites, which V8 then dispatches megamorphically (no inlining,
 * `now` boxed per call); a service running one policy does not pay that. Run once per policy to measure that case.
 */
const POLICIES = process.env.BENCH_POLICIES?.split(',') ?? ALL_POLICIES;

function endpoints(n: number, weighted: boolean) {
  return Array.from({ length: n }, (_, i) => ({
    host: '10.0.0.1',
    port: 1000 + i,
    weight: weighted ? 1 + (i % 4) : 1,
  }));
}

export default async function suite(b: Bench): Promise<void> {
  for (const n of SIZES) {
    b.group(`pick + release, ${n} endpoints`, () => {
      const objects = Array.from({ length: n }, (_, i) => ({ id: i, inFlight: 0 }));
      let i = 0;
      b.bench(`pick/baseline-array/${n}`, () => objects[i++ % n]);

      let x = 2463534242;
      b.bench(`pick/baseline-hand-p2c/${n}`, () => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const a = objects[(x >>> 0) % n]!;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const c = objects[(x >>> 0) % n]!;
        const chosen = c.inFlight < a.inFlight ? c : a;
        chosen.inFlight++;
        chosen.inFlight--;
        return chosen;
      });

      const npm = new P2cBalancer(n);
      b.bench(`pick/npm-load-balancers-p2c/${n}`, () => npm.pick());

      // The algorithm alone: the policy's picker over EndpointStates, with the same ++/-- the hand P2C does.
      // Compare these with the baselines; the `pick/` rows below add the Balancer's bookkeeping and the Lease.
      for (const policy of POLICIES) {
        const weighted = policy === 'weighted_round_robin';
        const states = endpoints(n, weighted).map(
          (e, k) => new EndpointState(parseEndpoint(e, `e${k}`), 0, 1),
        );
        const picker = createPolicy(parsePolicyConfig(policy), {
          random: seededRandom(7),
          clock: systemClock,
          load: { totalInFlight: 0 },
        }).build(states);
        const ctx = {};
        let now = 0;
        b.bench(`picker/${policy}/${n}`, () => {
          const state = picker.pick(ctx, (now += 0.01))!;
          state.inFlight++;
          state.inFlight--;
          return state;
        });
      }

      for (const policy of POLICIES) {
        const weighted = policy === 'weighted_round_robin';
        const balancer = new Balancer({ endpoints: endpoints(n, weighted), policy, random: seededRandom(7) });
        // What an adapter passes: the time it read anyway, and the latency it measured.
        const ctx: { now: number } = { now: 0 };
        const outcome: { ok: true; latencyMs: number; now: number } = { ok: true, latencyMs: 1, now: 0 };
        const run = () => {
          ctx.now += 0.01;
          const lease = balancer.pick(ctx as PickContext)!;
          outcome.now = ctx.now;
          lease.release(outcome as Outcome);
          return lease;
        };
        b.bench(`pick/${policy}/${n}`, run);
        if (n === 1000) b.allocations(`pick/${policy}/${n}`, run);
      }

      // The Lease-free path an adapter may take: the handle, and the start time the adapter keeps itself.
      for (const policy of POLICIES) {
        const weighted = policy === 'weighted_round_robin';
        const balancer = new Balancer({ endpoints: endpoints(n, weighted), policy, random: seededRandom(7) });
        const ctx: { now: number } = { now: 0 };
        const outcome: { ok: true; latencyMs: number; now: number } = { ok: true, latencyMs: 1, now: 0 };
        const run = () => {
          const startedAt = (ctx.now += 0.01);
          const handle = balancer.acquire(ctx as PickContext)!;
          outcome.now = startedAt;
          balancer.complete(handle, outcome as Outcome, startedAt);
          return handle;
        };
        b.bench(`acquire/${policy}/${n}`, run);
        if (n === 1000) b.allocations(`acquire/${policy}/${n}`, run);
      }
    });
  }
}
