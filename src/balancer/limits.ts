/**
 * Circuit breaking in Envoy's sense: hard concurrency limits that make excess requests fail fast with a typed
 * `OverflowError` instead of queueing behind an overloaded backend (Envoy `circuit_breakers.thresholds`).
 * Not to be confused with Hystrix-style open/half-open breakers, which in switchyard is outlier detection's job.
 *
 * - `maxRequests`: requests in flight across the whole balancer; `tryPick()` answers `'overflow'` at the limit.
 * - `maxRequestsPerEndpoint`: requests in flight on one endpoint; it sets `EndpointState.maxInFlight`, so picks
 *   skip full endpoints and answer `'overflow'` only when every routable endpoint is full.
 * - `maxPending`: requests queued waiting for a connection. The Balancer has no queue — the adapter's connection
 *   pool does — so adapters enforce it with a {@link PendingLimit}.
 *
 * Off unless configured: `new Balancer({ …, circuitBreaker: {} })` turns it on with Envoy's defaults (1024 each).
 */
import { readNumber, readObject } from '../config/validate.js';

/** The `circuitBreaker` option of a Balancer. Plain JSON. */
export interface CircuitBreakerOptions {
  /** Requests in flight across the balancer, an integer from 1 to 1,000,000,000. Default 1024 (Envoy `max_requests`). */
  readonly maxRequests?: number;
  /** Requests in flight per endpoint, an integer from 1 to 1,000,000,000. Default 1024 (Envoy's per-cluster default, applied per host). */
  readonly maxRequestsPerEndpoint?: number;
  /** Requests waiting for a connection in the adapter, an integer from 0 to 1,000,000,000. Default 1024 (Envoy `max_pending_requests`). */
  readonly maxPending?: number;
}

/** Defaults of {@link CircuitBreakerOptions} (Envoy circuit_breakers thresholds). */
export const defaultCircuitBreakerOptions = {
  maxRequests: 1024,
  maxRequestsPerEndpoint: 1024,
  maxPending: 1024,
} as const;

/** Limits in force: every field `Infinity` when circuit breaking is off. */
export type CircuitBreakerLimits = Required<CircuitBreakerOptions>;

/** Limits when no `circuitBreaker` option is given. */
export const NO_LIMITS: CircuitBreakerLimits = Object.freeze({
  maxRequests: Number.POSITIVE_INFINITY,
  maxRequestsPerEndpoint: Number.POSITIVE_INFINITY,
  maxPending: Number.POSITIVE_INFINITY,
});

const KEYS = ['maxRequests', 'maxRequestsPerEndpoint', 'maxPending'];
/** The largest limit accepted (1e9): effectively unlimited for any process. */
export const MAX_CIRCUIT_BREAKER_LIMIT = 1_000_000_000;
const MAX = MAX_CIRCUIT_BREAKER_LIMIT;

/** Validates the `circuitBreaker` option; `undefined` means off. */
export function parseCircuitBreakerOptions(raw: unknown, path: string): CircuitBreakerLimits {
  if (raw === undefined) return NO_LIMITS;
  const obj = readObject(raw, path, KEYS);
  const d = defaultCircuitBreakerOptions;
  return {
    maxRequests: readNumber(obj, 'maxRequests', path, { min: 1, max: MAX, integer: true }, d.maxRequests),
    maxRequestsPerEndpoint: readNumber(
      obj,
      'maxRequestsPerEndpoint',
      path,
      { min: 1, max: MAX, integer: true },
      d.maxRequestsPerEndpoint,
    ),
    maxPending: readNumber(obj, 'maxPending', path, { min: 0, max: MAX, integer: true }, d.maxPending),
  };
}

/**
 * A counter of requests waiting for a connection, for adapters that queue: `tryEnter()` before queueing (answers
 * `false` at `maxPending`: fail with an `OverflowError`), `leave()` once the request got its connection or
 * gave up.
 */
export class PendingLimit {
  readonly #max: number;
  #pending = 0;
  #overflowed = 0;

  /** @param max the balancer's `circuitBreaker.maxPending` (`balancer.limits.maxPending`). */
  constructor(max: number) {
    this.#max = max;
  }

  /** Takes a pending slot; `false` (nothing taken) when all `max` are in use. */
  tryEnter(): boolean {
    if (this.#pending >= this.#max) {
      this.#overflowed++;
      return false;
    }
    this.#pending++;
    return true;
  }

  /** Gives a slot back. */
  leave(): void {
    if (this.#pending > 0) this.#pending--;
  }

  /** Requests pending now. */
  get pending(): number {
    return this.#pending;
  }

  /** Lifetime count of refused `tryEnter()` calls. */
  get overflowed(): number {
    return this.#overflowed;
  }
}
