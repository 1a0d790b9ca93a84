/**
 * Pick + release of ONE policy per process, as a service runs it:
 * `node --expose-gc --max-semi-space-size=64 --import tsx benchmarks/pick-isolated.ts <row> [--step 0.01]`
 * with `<row>` one of `hand` (the hand-written P2C of benchmarks/suites/pickers.ts), `picker:<policy>` (the
 * policy's picker alone) or `pick:<policy>` (`balancer.pick({ now })` + `lease.release({ ok, latencyMs, now })`),
 * 1000 endpoints. Prints ns per call (the fastest of 35 timed rounds of 100,000 calls after 5 warm-up rounds) and
 * bytes allocated per call.
 *
 * Why next to the suite: the `pickers` suite runs every policy in one process, so the Balancer's calls into the
 * picker and the estimator see several targets and V8 inlines less; one policy per process is what a service
 * runs. The fastest round rather than mitata's median because on a machine shared by other jobs the median moves
 * by 2× between runs, while a round that was not interrupted is reproducible. Alternate base and branch runs.
 */
import { parseArgs } from 'node:util';
import { Balancer } from '../src/balancer/balancer.js';
import { EndpointState } from '../src/balancer/endpoint-state.js';
import type { Outcome } from '../src/balancer/outcome.js';
import type { PickContext } from '../src/balancer/policy/picker.js';
import { createPolicy, parsePolicyConfig } from '../src/balancer/policy/registry.js';
import { systemClock } from '../src/clock.js';
import { parseEndpoint } from '../src/endpoint.js';
import { seededRandom } from '../src/random.js';
import { bytesPerCall } from './harness.js';

const N = 1000;
const { positionals, values } = parseArgs({ allowPositionals: true, options: { step: { type: 'string' } } });
const row = positionals[0] ?? 'pick:p2c_robust_ewma';
/** Clock advance per call, ms: 0.01 puts ~10 ms between two updates of one endpoint (x ≈ 0.01 τ at τ = 1 s). */
const step = Number(values.step ?? 0.01);
const endpoints = Array.from({ length: N }, (_, i) => ({ host: '10.0.0.1', port: 1000 + i }));

function handP2c(): () => unknown {
  const objects = Array.from({ length: N }, (_, i) => ({ id: i, inFlight: 0 }));
  let x = 2463534242;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const a = objects[(x >>> 0) % N]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const c = objects[(x >>> 0) % N]!;
    const chosen = c.inFlight < a.inFlight ? c : a;
    chosen.inFlight++;
    chosen.inFlight--;
    return chosen;
  };
}

function pickerAlone(policy: string): () => unknown {
  const states = endpoints.map((e, k) => new EndpointState(parseEndpoint(e, `e${k}`), 0, 1));
  const env = { random: seededRandom(7), clock: systemClock, load: { totalInFlight: 0 } };
  const picker = createPolicy(parsePolicyConfig(policy), env).build(states);
  const ctx = {};
  const clock = { now: 0 };
  return () => {
    const state = picker.pick(ctx, (clock.now += step))!;
    state.inFlight++;
    state.inFlight--;
    return state;
  };
}

function pickRelease(policy: string): () => unknown {
  const balancer = new Balancer({ endpoints, policy, random: seededRandom(7) });
  const ctx: { now: number } = { now: 0 };
  const outcome: { ok: true; latencyMs: number; now: number } = { ok: true, latencyMs: 1, now: 0 };
  return () => {
    ctx.now += step;
    const lease = balancer.pick(ctx as PickContext)!;
    outcome.now = ctx.now;
    lease.release(outcome as Outcome);
    return lease;
  };
}

const fn =
  row === 'hand'
    ? handP2c()
    : row.startsWith('picker:')
      ? pickerAlone(row.slice(7))
      : pickRelease(row.slice(5));
let sink: unknown;
let best = Number.POSITIVE_INFINITY;
for (let round = 0; round < 40; round++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - start) / 100_000;
  if (round >= 5 && ns < best) best = ns;
}
if (sink === undefined) throw new Error(`${row}: nothing picked`);
const bytes = bytesPerCall(fn, 200_000);
console.log(JSON.stringify({ row, ns: Math.round(best * 10) / 10, bytes }));
