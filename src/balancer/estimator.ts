/**
 * The latency-estimator contract: the load metric, kept apart from the picking algorithm (Finagle composes a
 * balancer as algorithm × load metric the same way). The Balancer feeds every released request's latency to its
 * policy's estimator; latency-aware pickers compare endpoints on the estimator's cost.
 *
 * Both built-in estimators share one read rule — the estimate decays toward 0 with τ since its last update, and
 * the pick cost is `estimate × (inFlight + 1)` — so they share one picker (see pickers/p2c-peak-ewma.ts) and one
 * pick cost; they differ only in how a sample moves the estimate:
 * - `peak` (load/peak-ewma.ts): Finagle/Linkerd Peak-EWMA, every sample above the estimate becomes the estimate.
 * - `robust` (load/robust-ewma.ts): a spike moves the estimate only once a second, independent sample confirms it.
 */
import type { EndpointState } from './endpoint-state.js';

export interface LatencyEstimator {
  /** `'peak'` or `'robust'`, for stats and docs. */
  readonly kind: string;
  /** τ in ms: the time constant of the EWMA and of the decay toward 0 while no sample arrives. */
  readonly decayMs: number;
  /** Records one observed latency `rttMs` (ms) that ended at `now` (ms, the Balancer's clock). */
  observe(state: EndpointState, rttMs: number, now: number): void;
  /** The estimate as of `now`, in ms. Does not modify the state. */
  estimate(state: EndpointState, now: number): number;
}
