/**
 * Retry budgets: how many retries a client may send, as a share of the requests it sends.
 *
 * # Why budgets, not max retries
 *
 * A per-request limit ("retry up to 3 times") multiplies load exactly when the backends can least afford it: when
 * every request fails, three retries turn 1× traffic into 4×, and a partial outage becomes a total one (the
 * "retry storm"). A budget bounds retries *across* requests instead: every request deposits a fraction of a token,
 * every retry withdraws a whole one, so retries can never add more than `percentCanRetry` (20 %) to the load, plus
 * a small floor (`minRetriesPerSec`) so a client with little traffic can still retry at all. Under no failures the
 * budget is never touched; under total failure load stays ≤ (1 + percentCanRetry) × requests + minRetriesPerSec.
 *
 * Semantics are Finagle's `RetryBudget` (also Linkerd's): tokens expire after `ttlMs`, the floor is a reserve of
 * `minRetriesPerSec × ttl` tokens that always refills. The implementation is tower's `TpsBudget` design: a
 * sliding window of 10 buckets of net tokens, rotated by the clock — O(1), no allocation per call.
 *
 * A budget is per Balancer by default (each policy keeps one per balancer it drives) and can be shared across
 * balancers by passing the same {@link RetryBudget} instance to several policies.
 */
import { type Clock, systemClock } from '../clock.js';
import { type RawOptions, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { SlidingWindow } from './sliding-window.js';

/** Options of {@link RetryBudget}. Plain JSON. */
export interface RetryBudgetOptions {
  /** How long a deposit stays usable, in ms, from 1,000 to 60,000. Default 10,000 (Finagle, Linkerd). */
  readonly ttlMs?: number;
  /**
   * Retries always allowed per second regardless of traffic, so a quiet client can still retry; from 0 to
   * 1,000,000. Default 10 (Finagle, Linkerd).
   */
  readonly minRetriesPerSec?: number;
  /**
   * Retries allowed per request sent, on top of the floor; from 0 to 1,000 (0.2 = at most 20 % extra load).
   * Default 0.2 (Finagle, Linkerd).
   */
  readonly percentCanRetry?: number;
}

/** Defaults of {@link RetryBudgetOptions} (Finagle `RetryBudget()`, Linkerd `retry_budget`). */
export const defaultRetryBudgetOptions = {
  ttlMs: 10_000,
  minRetriesPerSec: 10,
  percentCanRetry: 0.2,
} as const;

/** A snapshot of a budget's lifetime counters. */
export interface RetryBudgetStats {
  /** Requests deposited. */
  readonly deposits: number;
  /** Retries (and hedges) allowed. */
  readonly withdrawals: number;
  /** Retries (and hedges) refused because the budget was empty. */
  readonly refused: number;
  /** Retries allowed right now. */
  readonly balance: number;
}

/** Buckets per ttl window: 10, as tower's TpsBudget. A token expires between ttl and 1.1 × ttl after it was added. */
export const BUCKETS = 10;
/** Token units per retry: integers avoid float drift over millions of deposits. */
const UNIT = 1000;
const KEYS = ['ttlMs', 'minRetriesPerSec', 'percentCanRetry'];

/**
 * A retry budget: {@link RetryBudget.deposit} once per request, {@link RetryBudget.withdraw} before each retry
 * (or hedge), which answers `false` when the budget is spent.
 *
 * ```ts
 * const budget = new RetryBudget({ percentCanRetry: 0.1 });
 * budget.deposit();                 // a request went out
 * if (budget.withdraw()) retry();   // may we retry it?
 * ```
 */
export class RetryBudget {
  /** The validated options, with defaults applied. */
  readonly options: Required<RetryBudgetOptions>;
  readonly #reserve: number;
  readonly #depositAmount: number;
  /** One lane: net tokens (deposits − withdrawals), in thousandths of a retry. */
  readonly #window: SlidingWindow;
  #deposits = 0;
  #withdrawals = 0;
  #refused = 0;

  /**
   * @param options plain-JSON options; {@link ConfigError} on anything out of range.
   * @param clock time source; override for deterministic tests. Default: the system clock.
   */
  constructor(options: RetryBudgetOptions = {}, clock: Clock = systemClock) {
    this.options = parseRetryBudgetOptions(options, 'budget');
    this.#reserve = Math.round(this.options.minRetriesPerSec * (this.options.ttlMs / 1000) * UNIT);
    this.#depositAmount = Math.round(this.options.percentCanRetry * UNIT);
    this.#window = new SlidingWindow(clock, this.options.ttlMs, BUCKETS, 1);
  }

  /**
   * Records one request sent (original attempts only, never retries). `now` (on the budget's clock) saves a
   * clock read when the caller has it.
   */
  deposit(now?: number): void {
    this.#window.rotate(now);
    this.#deposits++;
    this.#window.add(0, this.#depositAmount);
  }

  /** Takes one retry from the budget. Returns `false`, taking nothing, when less than one retry is left. */
  withdraw(now?: number): boolean {
    this.#window.rotate(now);
    if (this.#reserve + this.#window.sum(0) < UNIT) {
      this.#refused++;
      return false;
    }
    this.#withdrawals++;
    this.#window.add(0, -UNIT);
    return true;
  }

  /** Whole retries allowed right now. */
  get balance(): number {
    this.#window.rotate();
    return Math.max(0, Math.floor((this.#reserve + this.#window.sum(0)) / UNIT));
  }

  /** The clock the budget's window runs on. */
  get clock(): Clock {
    return this.#window.clock;
  }

  /** Lifetime counters and the current balance. Allocates; not for the hot path. */
  stats(): RetryBudgetStats {
    return {
      deposits: this.#deposits,
      withdrawals: this.#withdrawals,
      refused: this.#refused,
      balance: this.balance,
    };
  }
}

/** Validates {@link RetryBudgetOptions}; `path` prefixes field names in errors. */
export function parseRetryBudgetOptions(raw: unknown, path: string): Required<RetryBudgetOptions> {
  const obj = readObject(raw, path, KEYS);
  return {
    ttlMs: readNumber(obj, 'ttlMs', path, { min: 1000, max: 60_000 }, defaultRetryBudgetOptions.ttlMs),
    minRetriesPerSec: readNumber(
      obj,
      'minRetriesPerSec',
      path,
      { min: 0, max: 1_000_000 },
      defaultRetryBudgetOptions.minRetriesPerSec,
    ),
    percentCanRetry: readNumber(
      obj,
      'percentCanRetry',
      path,
      { min: 0, max: 1000 },
      defaultRetryBudgetOptions.percentCanRetry,
    ),
  };
}

/** What a policy's `budget` option accepts: a shared instance, options for one budget per balancer, or off. */
export type RetryBudgetConfig = RetryBudget | RetryBudgetOptions | false;

/**
 * @internal Resolves a policy's `budget` option to the budget for one balancer: the shared instance when one was
 * given, else one budget per balancer (created on first use with the balancer's clock, or `clock` when the policy
 * has its own), or none when `false`.
 */
export class BudgetSelector {
  readonly #shared: RetryBudget | undefined;
  readonly #options: Required<RetryBudgetOptions> | undefined;
  readonly #clock: Clock | undefined;
  readonly #perBalancer = new WeakMap<object, RetryBudget>();

  constructor(config: unknown, path: string, clock: Clock | undefined) {
    this.#clock = clock;
    if (config === false) return;
    if (config instanceof RetryBudget) {
      this.#shared = config;
      return;
    }
    if (config !== undefined && (typeof config !== 'object' || config === null)) {
      throw new ConfigError({
        field: path,
        allowed: 'a RetryBudget, retry budget options, or false',
        received: config,
      });
    }
    this.#options = parseRetryBudgetOptions(config as RawOptions | undefined, path);
  }

  /** The budget for `owner` (a Balancer), or `undefined` when budgets are off. */
  for(owner: { readonly clock: Clock }): RetryBudget | undefined {
    if (this.#shared !== undefined || this.#options === undefined) return this.#shared;
    let budget = this.#perBalancer.get(owner);
    if (budget === undefined) {
      budget = new RetryBudget(this.#options, this.#clock ?? owner.clock);
      this.#perBalancer.set(owner, budget);
    }
    return budget;
  }
}
