/**
 * A `switchyard` policy instance's side of retained state (retained-state.ts), as a Balancer extension: it takes the
 * saved state of each endpoint it opens a connection to, applies it when that endpoint joins the Balancer, and on
 * destroy saves every endpoint's state for the next instance.
 *
 * Applying a saved state writes the estimator's fields, the lifetime counters and slow start's start time onto the
 * endpoint's own fresh state, and hands the outlier record, brought up to date, to the new detector
 * (`OutlierDetector.adopt`). Times are kept as they were, on the Balancer's clock (every policy instance's Balancer
 * uses the system clock), so the time in between counts exactly as if the Balancer had lived through it without
 * traffic: estimates decay over it, an ejection ends at its original time, slow start's ramp has moved on. In-flight
 * counts start at zero.
 *
 * Not kept: active health-check verdicts (the new checker probes at once), ORCA weights (rebuilt from the next
 * reports after the blackout period), and the policy's own picker state (round-robin position, hash rings).
 */
import type { Balancer } from '../balancer/balancer.js';
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { BalancerExtension, ExtensionContext } from '../balancer/extension.js';
import type { OutlierDetectionOptions } from '../health/options.js';
import { OutlierRecord } from '../health/outlier-record.js';
import {
  type RetainedEndpoint,
  type RetainedStateStore,
  RTT_FIELDS,
  saveEndpoint,
} from './retained-state.js';

export class StateKeeper implements BalancerExtension {
  readonly #store: RetainedStateStore;
  #key = '';
  #ttlMs = 0;
  /** Saved states taken from the store for endpoints not yet in the Balancer, by address. */
  readonly #taken = new Map<string, RetainedEndpoint>();
  #ctx: ExtensionContext | undefined;
  #balancer: Balancer | undefined;

  constructor(store: RetainedStateStore) {
    this.#store = store;
  }

  /** Sets the channel key and retention time; a new key drops what was taken under the old one. */
  configure(key: string, ttlMs: number): void {
    if (key !== this.#key) this.#taken.clear();
    this.#key = key;
    this.#ttlMs = ttlMs;
  }

  /** The Balancer this extension was given to (created with it in `extensions`): restores go through its detector. */
  use(balancer: Balancer): void {
    this.#balancer = balancer;
  }

  attach(context: ExtensionContext): void {
    this.#ctx = context;
  }

  /** A connection to `address` is being opened: take its saved state, if any, for when it joins the Balancer. */
  take(address: string): void {
    const saved = this.#store.take(this.#key, address);
    if (saved !== undefined) this.#taken.set(address, saved);
  }

  /** The resolver dropped `address` before it joined the Balancer: its saved state goes with it. */
  drop(address: string): void {
    this.#taken.delete(address);
  }

  endpointAdded(state: EndpointState): void {
    const saved = this.#taken.get(state.address);
    if (saved === undefined) return;
    this.#taken.delete(state.address);
    restoreEndpoint(state, saved, this.#balancer);
  }

  /**
   * The policy is being destroyed: saves every endpoint the Balancer holds (draining ones excepted: they lost their
   * connection) and gives back what was taken and never used, then forgets both.
   */
  saveAll(): void {
    const ctx = this.#ctx;
    if (ctx !== undefined && this.#ttlMs > 0) {
      const now = ctx.clock.now();
      for (const state of ctx.states()) {
        if (!state.removed) this.#store.keep(this.#key, state.address, saveEndpoint(state, now), this.#ttlMs);
      }
    }
    for (const [address, saved] of this.#taken) this.#store.keep(this.#key, address, saved, this.#ttlMs);
    this.#taken.clear();
    this.#ctx = undefined;
    this.#balancer = undefined;
  }
}

/** Writes a saved state onto the fresh state of the same endpoint, just added to `balancer`. */
export function restoreEndpoint(
  state: EndpointState,
  saved: RetainedEndpoint,
  balancer: Balancer | undefined,
): void {
  const target = state as unknown as Record<string, unknown>;
  for (const field of RTT_FIELDS) target[field] = saved.rtt[field];
  // Lifetime picks are derived (in flight + successes + failures + cancels): restoring those restores picks.
  state.cancels = saved.cancels;
  state.successes = saved.successes;
  state.failures = saved.failures;
  state.activeSince = saved.activeSince;
  const detector = balancer?.health.outlierDetector;
  if (saved.outlier !== undefined && detector !== undefined && state.outlier !== undefined) {
    const now = balancer!.clock.now();
    detector.adopt(state, carriedOver(saved.outlier, saved.savedAt, now, detector.options));
  }
}

/**
 * A saved outlier record as the detector would have left it had it tracked the endpoint from `savedAt` to `now`
 * without traffic: an ejection still in force stays, ending at its original time; one that would have ended
 * meanwhile is over (consecutive counts reset, as on return); the multiplier is forgiven one step per interval spent
 * un-ejected (the sweep's rule); interval counts start afresh. The ejection length is the detector's own rule
 * (health/outlier-detection.ts `#ejectionMs`), computed here so the core bundle does not carry this grpc-only path.
 */
export function carriedOver(
  saved: OutlierRecord,
  savedAt: number,
  now: number,
  options: OutlierDetectionOptions,
): OutlierRecord {
  const r = new OutlierRecord();
  r.consecutive5xx = saved.consecutive5xx;
  r.consecutiveGateway = saved.consecutiveGateway;
  r.consecutiveLocal = saved.consecutiveLocal;
  r.multiplier = saved.multiplier;
  r.jitterMs = saved.jitterMs;
  r.timesEjected = saved.timesEjected;
  let clearSince = savedAt;
  if (saved.ejectedAt >= 0) {
    const base = options.baseEjectionTimeMs;
    const lengthMs =
      Math.min(base * saved.multiplier, Math.max(base, options.maxEjectionTimeMs)) + saved.jitterMs;
    if (now < saved.ejectedAt + lengthMs) {
      r.ejectedAt = saved.ejectedAt;
      return r;
    }
    clearSince = saved.ejectedAt + lengthMs;
    r.resetConsecutive();
  }
  const intervals = Math.floor(Math.max(0, now - clearSince) / options.intervalMs);
  r.multiplier = Math.max(0, r.multiplier - intervals);
  return r;
}
