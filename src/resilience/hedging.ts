/**
 * Hedged requests (Dean & Barroso, "The Tail at Scale", CACM 2013): when an attempt has not answered after a
 * delay — fixed, or a latency percentile observed on the same balancer — send the same request to another endpoint
 * and take whichever answers first; the loser is cancelled. It trades a few percent more load for a much shorter
 * tail. Opt-in, for idempotent requests only, and paid from the same retry budget as retries, so hedging can never
 * add more load than the budget allows (Finagle's `BackupRequestFilter` does the same).
 */
import type { Clock } from '../clock.js';
import { readNumber, readObject, readOptionalNumber } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { LatencyWindow } from './latency-window.js';
import { BudgetSelector, type RetryBudget, type RetryBudgetConfig } from './retry-budget.js';

/** Options of {@link HedgingPolicy}. Plain JSON, except `budget` may be a shared {@link RetryBudget}. */
export interface HedgingOptions {
  /**
   * Fixed hedge delay, in ms, from 0 to 3,600,000. With `percentile` too, this is the delay used until enough
   * latencies were observed (32). Give this, `percentile`, or both. No default.
   */
  readonly delayMs?: number;
  /**
   * Hedge after this percentile of the latencies observed on the balancer (time to response headers of successful
   * attempts, last 256), from 1 to 99.9, e.g. 95 (The Tail at Scale hedges at p95). No default.
   */
  readonly percentile?: number;
  /** Most hedges per request, from 1 to 4. Default 1 (Finagle's BackupRequestFilter sends one backup). */
  readonly maxHedges?: number;
  /**
   * The budget hedges are paid from when no retry policy is given (with one, its budget pays). Same forms as
   * the retry policy's `budget`. Default: one budget per balancer with the default options.
   */
  readonly budget?: RetryBudgetConfig;
}

/** Defaults of {@link HedgingOptions}. */
export const defaultHedgingOptions = { maxHedges: 1 } as const;

/** Lifetime counters of a {@link HedgingPolicy}. */
export interface HedgingStats {
  /** Hedges sent. */
  readonly hedges: number;
  /** Requests a hedge answered first. */
  readonly won: number;
  /** Hedges not sent because the budget was empty. */
  readonly budgetExhausted: number;
}

const KEYS = ['delayMs', 'percentile', 'maxHedges', 'budget'];

/**
 * A hedging policy. One instance can serve many balancers; it keeps a latency window per balancer.
 *
 * ```ts
 * const hedging = new HedgingPolicy({ percentile: 95, delayMs: 50 });
 * ```
 */
export class HedgingPolicy {
  readonly delayMs: number | undefined;
  readonly percentile: number | undefined;
  readonly maxHedges: number;
  readonly #budgets: BudgetSelector;
  readonly #windows = new WeakMap<object, LatencyWindow>();
  /** @internal Counters the executor bumps. */
  readonly counters = { hedges: 0, won: 0, budgetExhausted: 0 };

  /**
   * @param options plain-JSON options; {@link ConfigError} on anything invalid.
   * @param env `clock` for per-policy budgets; default: the balancer's clock.
   */
  constructor(options: HedgingOptions, env: { readonly clock?: Clock } = {}) {
    const obj = readObject(options, 'hedging', KEYS);
    this.delayMs = readOptionalNumber(obj, 'delayMs', 'hedging', { min: 0, max: 3_600_000 });
    this.percentile = readOptionalNumber(obj, 'percentile', 'hedging', { min: 1, max: 99.9 });
    if (this.delayMs === undefined && this.percentile === undefined) {
      throw new ConfigError({
        field: 'hedging',
        allowed: 'an object with `delayMs`, `percentile` or both',
        received: options,
      });
    }
    this.maxHedges = readNumber(
      obj,
      'maxHedges',
      'hedging',
      { min: 1, max: 4, integer: true },
      defaultHedgingOptions.maxHedges,
    );
    this.#budgets = new BudgetSelector(obj.budget, 'hedging.budget', env.clock);
  }

  /** The budget hedges are paid from for `balancer` when no retry policy provides one. */
  budgetFor(balancer: { readonly clock: Clock }): RetryBudget | undefined {
    return this.#budgets.for(balancer);
  }

  /** Records the latency of a successful attempt on `balancer`, in ms (only when a percentile is configured). */
  observe(balancer: object, latencyMs: number): void {
    if (this.percentile === undefined) return;
    let window = this.#windows.get(balancer);
    if (window === undefined) {
      window = new LatencyWindow(this.percentile);
      this.#windows.set(balancer, window);
    }
    window.observe(latencyMs);
  }

  /**
   * The hedge delay for `balancer` now, in ms: the observed percentile once known, else `delayMs`; `undefined`
   * (do not hedge) while a percentile-only policy is still warming up.
   */
  delayFor(balancer: object): number | undefined {
    if (this.percentile !== undefined) {
      const observed = this.#windows.get(balancer)?.value;
      if (observed !== undefined && !Number.isNaN(observed)) return observed;
    }
    return this.delayMs;
  }

  /** Lifetime counters. */
  stats(): HedgingStats {
    return { ...this.counters };
  }
}
