/**
 * `p2c_peak_ewma` (classic Finagle/Linkerd; the default is `p2c_robust_ewma`): two random candidates, send to the one with the lower
 * `latencyEstimate × (inFlight + 1)` — Finagle's and Linkerd's default balancer. With unequal weights the two
 * candidates are drawn in proportion to weight.
 *
 * Least-request sees only queue length, so a slow endpoint with one request in flight looks as good as a fast one
 * with one. Peak-EWMA multiplies by how long each request takes there, and its "peak" rule makes a sudden slowdown
 * count at once (see load/peak-ewma.ts for the estimator). Linkerd measured the effect: with one of 11 backends
 * slowed to 2 s, round robin held success to p95, least-loaded to p99, Peak-EWMA to p99.9.
 *
 * Options: `decayMs` τ (10 s: Finagle, Linkerd, Envoy), `defaultRttMs` (30 ms: Linkerd) — the estimate an
 * endpoint starts with before its first response. An endpoint added after the balancer has seen traffic starts at
 * the mean estimate of its observed peers instead (see Balancer), so it is neither starved by a pessimistic default
 * nor flooded by an optimistic one; its first response then sets its own estimate.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { Picker, Policy, PolicyDefinition, PolicyEnvironment } from '../balancer/policy/picker.js';
import { AliasTable, uniformWeights } from '../balancer/routing/weights.js';
import { readNumber, readObject } from '../config/validate.js';
import { cheaperConcurrent, TypicalLoad } from '../load/concurrent-cost.js';
import { cheaperThan, peakEwmaEstimator } from '../load/peak-ewma.js';
import { Xorshift32 } from './fast-random.js';

export const P2C_PEAK_EWMA = 'p2c_peak_ewma';

export interface P2cPeakEwmaOptions {
  /** τ of the latency EWMA, in ms. From 1 to 600,000. Default 10,000 (Finagle, Linkerd, Envoy). */
  readonly decayMs: number;
  /** Estimate before the first observed latency, in ms. From 0 to 60,000 (0 excluded). Default 30 (Linkerd). */
  readonly defaultRttMs: number;
}

export const defaultP2cPeakEwmaOptions: P2cPeakEwmaOptions = { decayMs: 10_000, defaultRttMs: 30 };

class PeakEwmaPicker implements Picker {
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
    private readonly decayMs: number,
  ) {}

  pick(_ctx: unknown, now: number): EndpointState | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 1) return eps[0];
    const i = this.rng.below(n);
    let j = this.rng.below(n - 1);
    if (j >= i) j++;
    const a = eps[i]!;
    const b = eps[j]!;
    return cheaperThan(b, a, this.decayMs, now) ? b : a;
  }
}

/** Unequal weights: both candidates drawn in proportion to weight (with replacement), then compared on cost. */
class WeightedPeakEwmaPicker implements Picker {
  readonly #table: AliasTable;
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
    private readonly decayMs: number,
  ) {
    this.#table = new AliasTable(endpoints.map((e) => e.effectiveWeight));
  }

  pick(_ctx: unknown, now: number): EndpointState | undefined {
    const a = this.endpoints[this.#table.sample(this.rng.uniform())]!;
    const b = this.endpoints[this.#table.sample(this.rng.uniform())]!;
    return cheaperThan(b, a, this.decayMs, now) ? b : a;
  }
}

/**
 * The default policy's picker: the same two-choice draw, compared on the concurrent-server cost of
 * load/concurrent-cost.ts (the slower candidate is charged at least the typical in-flight count).
 */
class ConcurrentP2cPicker implements Picker {
  readonly #typical: TypicalLoad;
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
    private readonly decayMs: number,
    typical: TypicalLoad,
  ) {
    this.#typical = typical;
  }

  pick(): EndpointState | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 1) return eps[0];
    const i = this.rng.below(n);
    let j = this.rng.below(n - 1);
    if (j >= i) j++;
    const a = eps[i]!;
    const b = eps[j]!;
    const typical = this.#typical;
    const chosen = cheaperConcurrent(b, a, this.decayMs, typical) ? b : a;
    typical.record(chosen.inFlight);
    return chosen;
  }
}

/** {@link ConcurrentP2cPicker} with unequal weights: both candidates drawn in proportion to weight. */
class WeightedConcurrentP2cPicker implements Picker {
  readonly #table: AliasTable;
  readonly #typical: TypicalLoad;
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
    private readonly decayMs: number,
    typical: TypicalLoad,
  ) {
    this.#table = new AliasTable(endpoints.map((e) => e.effectiveWeight));
    this.#typical = typical;
  }

  pick(): EndpointState | undefined {
    const a = this.endpoints[this.#table.sample(this.rng.uniform())]!;
    const b = this.endpoints[this.#table.sample(this.rng.uniform())]!;
    const typical = this.#typical;
    const chosen = cheaperConcurrent(b, a, this.decayMs, typical) ? b : a;
    typical.record(chosen.inFlight);
    return chosen;
  }
}

/**
 * How the in-flight count enters the cost: `'queue'` is Finagle/Linkerd's `estimate × (inFlight + 1)`;
 * `'concurrent'` charges the slower candidate at least the typical in-flight count (load/concurrent-cost.ts).
 */
export type LatencyCostModel = 'queue' | 'concurrent';

/**
 * The two-choice picker shared by the latency-aware policies (`p2c_peak_ewma`, `p2c_robust_ewma`): their
 * estimators differ only in how samples move the estimate, not in how it is read. `cost` picks the comparison.
 */
export function buildLatencyP2cPicker(
  endpoints: readonly EndpointState[],
  env: PolicyEnvironment,
  decayMs: number,
  cost: LatencyCostModel = 'queue',
): Picker {
  const uniform = uniformWeights(endpoints);
  const rng = new Xorshift32(env.random);
  if (cost === 'queue') {
    return uniform
      ? new PeakEwmaPicker(endpoints, rng, decayMs)
      : new WeightedPeakEwmaPicker(endpoints, rng, decayMs);
  }
  // A rebuilt picker starts from the balancer's current mean load rather than from 0 (idle).
  const typical = new TypicalLoad(env.load.totalInFlight / endpoints.length);
  return uniform
    ? new ConcurrentP2cPicker(endpoints, rng, decayMs, typical)
    : new WeightedConcurrentP2cPicker(endpoints, rng, decayMs, typical);
}

export const p2cPeakEwma: PolicyDefinition<P2cPeakEwmaOptions> = {
  name: P2C_PEAK_EWMA,
  description:
    'Two random candidates; lower latency-estimate × (in-flight + 1) wins (Finagle/Linkerd default).',
  parse(raw, path) {
    const obj = readObject(raw, path, ['decayMs', 'defaultRttMs']);
    return {
      decayMs: readNumber(obj, 'decayMs', path, { min: 1, max: 600_000 }, defaultP2cPeakEwmaOptions.decayMs),
      defaultRttMs: readNumber(
        obj,
        'defaultRttMs',
        path,
        { min: 0, exclusiveMin: true, max: 60_000 },
        defaultP2cPeakEwmaOptions.defaultRttMs,
      ),
    };
  },
  create(options, env): Policy {
    return {
      name: P2C_PEAK_EWMA,
      latency: {
        decayMs: options.decayMs,
        defaultRttMs: options.defaultRttMs,
        estimator: peakEwmaEstimator(options.decayMs),
      },
      build: (endpoints) => buildLatencyP2cPicker(endpoints, env, options.decayMs),
    };
  },
};
