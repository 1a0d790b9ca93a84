/**
 * Per-endpoint counters of passive outlier detection, and how an {@link Outcome} is classified.
 *
 * The record lives on `EndpointState.outlier` so the release path updates it with field writes only: no Map
 * lookup, no allocation. Interval counters are read and reset by the sweep every `intervalMs` (Envoy evaluates the
 * success rate of the last interval the same way).
 */
import type { Outcome } from '../balancer/outcome.js';
import { isGatewayStatus } from '../semantics/status.js';

export class OutlierRecord {
  /** Failures in a row (externally originated only, in split mode). Any success resets it. */
  consecutive5xx = 0;
  /** Gateway failures in a row; a non-gateway failure or a success resets it. */
  consecutiveGateway = 0;
  /** Locally originated failures in a row (split mode only); an answer from the endpoint resets it. */
  consecutiveLocal = 0;

  /** This interval: answers judged on the endpoint's own behaviour (all outcomes when not split). */
  externalSuccesses = 0;
  externalFailures = 0;
  /** This interval, split mode only: did the request reach the endpoint (connect/reset/timeout are failures)? */
  localSuccesses = 0;
  localFailures = 0;

  /** Clock time of the current ejection, or -1 when not ejected. */
  ejectedAt = -1;
  /** Envoy's `ejectTimeBackoff`: grows on each ejection, shrinks by one per healthy interval. */
  multiplier = 0;
  /** Extra ejection time drawn for the current ejection, in ms. */
  jitterMs = 0;
  /** Lifetime number of ejections, for events. */
  timesEjected = 0;

  resetInterval(): void {
    this.externalSuccesses = 0;
    this.externalFailures = 0;
    this.localSuccesses = 0;
    this.localFailures = 0;
  }

  resetConsecutive(): void {
    this.consecutive5xx = 0;
    this.consecutiveGateway = 0;
    this.consecutiveLocal = 0;
  }
}

/**
 * Gateway failures in Envoy's sense: HTTP 502/503/504 (and Envoy's mapping of gRPC UNAVAILABLE (14) → 503 and
 * DEADLINE_EXCEEDED (4) → 504; see {@link isGatewayStatus}), plus `overloaded` answers.
 * Locally originated failures count as gateway failures too, unless split (Envoy maps them to 503/504).
 */
export function isGatewayFailure(outcome: Outcome & { ok: false }): boolean {
  if (outcome.failure === 'overloaded') return true;
  if (outcome.failure !== 'status') return false;
  return isGatewayStatus(outcome.status);
}
