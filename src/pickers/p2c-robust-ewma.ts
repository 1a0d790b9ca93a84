/**
 * `p2c_robust_ewma` (the default): two random candidates, send to the one with the lower
 * `latencyEstimate × (inFlight + 1)`, the slower candidate charged at least the typical in-flight count
 * (load/concurrent-cost.ts, option `cost`) — with the robust estimator of load/robust-ewma.ts: a latency spike
 * raises the estimate only when further, independent samples confirm it.
 *
 * Against classic Peak-EWMA: isolated spikes (GC pauses, client stalls, heavy tails) no longer hold a fast endpoint's
 * estimate at the spike for ~τ, so a steadily slow endpoint keeps looking as slow as it is; a real slowdown still
 * shows after three slow answers that came back apart. An idle slow endpoint no longer undercuts loaded fast ones
 * when many requests are in flight. τ is 1 s rather than 10 s, which bounds how long an endpoint that answered
 * slowly is left unpicked before it is measured again. See docs/choosing-a-policy.md for the measurements.
 *
 * Options: `decayMs` τ (1,000 ms), `defaultRttMs` (30 ms, Linkerd) — the estimate before the first response —
 * `spikeFactor` (2): a sample above `spikeFactor × estimate` needs confirming before it counts, and
 * `confirmations` (2): how many independent high samples after the first confirm it.
 */

import type { Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { readEnum, readNumber, readObject } from '../config/validate.js';
import { defaultRobustEwmaOptions, robustEwmaEstimator } from '../load/robust-ewma.js';
import { buildLatencyP2cPicker, type LatencyCostModel } from './p2c-peak-ewma.js';

export const P2C_ROBUST_EWMA = 'p2c_robust_ewma';

const COST_MODELS = ['concurrent', 'queue'] as const;

export interface P2cRobustEwmaOptions {
  /** τ of the latency EWMA and of the idle decay, in ms. From 1 to 600,000. Default 1,000 (see load/robust-ewma.ts). */
  readonly decayMs: number;
  /** Estimate before the first observed latency, in ms. From 0 to 60,000 (0 excluded). Default 30 (Linkerd). */
  readonly defaultRttMs: number;
  /**
   * A sample above `spikeFactor × estimate` is a spike and needs a second, independent one to count. From 1 to
   * 1,000. Default 2 (a lognormal service time with σ 0.5 exceeds 2× its mean in ~4 % of requests).
   */
  readonly spikeFactor: number;
  /**
   * Independent high samples needed after the first before a spike counts. Integer from 1 to 10. Default 2: one
   * confirmation lets two unrelated 1 % spikes in a row (1 in 10⁴ samples) hold an endpoint out for ~τ·ln(ratio).
   */
  readonly confirmations: number;
  /**
   * How the in-flight count enters the pick cost. `'concurrent'` (default): `estimate × (inFlight + 1)`, but the
   * slower candidate is charged at least the typical in-flight count, so an idle, known-slow endpoint cannot
   * undercut loaded fast ones on servers that serve requests concurrently (load/concurrent-cost.ts). `'queue'`:
   * Finagle's and Linkerd's `estimate × (inFlight + 1)` as is.
   */
  readonly cost: LatencyCostModel;
}

export const defaultP2cRobustEwmaOptions: P2cRobustEwmaOptions = {
  decayMs: defaultRobustEwmaOptions.decayMs,
  defaultRttMs: 30,
  spikeFactor: defaultRobustEwmaOptions.spikeFactor,
  confirmations: defaultRobustEwmaOptions.confirmations,
  cost: 'concurrent',
};

export const p2cRobustEwma: PolicyDefinition<P2cRobustEwmaOptions> = {
  name: P2C_ROBUST_EWMA,
  description:
    'Two random candidates; lower latency-estimate × (in-flight + 1) wins, spikes count only when confirmed (default).',
  parse(raw, path) {
    const obj = readObject(raw, path, ['decayMs', 'defaultRttMs', 'spikeFactor', 'confirmations', 'cost']);
    const d = defaultP2cRobustEwmaOptions;
    return {
      decayMs: readNumber(obj, 'decayMs', path, { min: 1, max: 600_000 }, d.decayMs),
      defaultRttMs: readNumber(
        obj,
        'defaultRttMs',
        path,
        { min: 0, exclusiveMin: true, max: 60_000 },
        d.defaultRttMs,
      ),
      spikeFactor: readNumber(obj, 'spikeFactor', path, { min: 1, max: 1000 }, d.spikeFactor),
      confirmations: readNumber(
        obj,
        'confirmations',
        path,
        { integer: true, min: 1, max: 10 },
        d.confirmations,
      ),
      cost: readEnum(obj, 'cost', path, COST_MODELS, d.cost),
    };
  },
  create(options, env): Policy {
    return {
      name: P2C_ROBUST_EWMA,
      latency: {
        decayMs: options.decayMs,
        defaultRttMs: options.defaultRttMs,
        estimator: robustEwmaEstimator(options.decayMs, options.spikeFactor, options.confirmations),
      },
      build: (endpoints) => buildLatencyP2cPicker(endpoints, env, options.decayMs, options.cost),
    };
  },
};
