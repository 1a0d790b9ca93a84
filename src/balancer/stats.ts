/**
 * Snapshots for `balancer.stats()`.
 */
import type { Locality } from '../endpoint.js';
import type { EndpointState } from './endpoint-state.js';
import type { LatencyEstimator } from './estimator.js';

/** Why an endpoint is or is not taking new requests. */
export type EndpointCondition = 'routable' | 'ejected' | 'unhealthy' | 'draining' | 'standby';

export interface EndpointStats {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** Weight the pickers use now (after slow start). */
  readonly effectiveWeight: number;
  readonly priority: number;
  readonly locality: Locality;
  readonly condition: EndpointCondition;
  readonly inFlight: number;
  /** Peak-EWMA latency estimate now, in ms. */
  readonly latencyEstimateMs: number;
  readonly picks: number;
  readonly successes: number;
  readonly failures: number;
}

export interface BalancerStats {
  readonly name: string;
  readonly policy: string;
  readonly panic: boolean;
  /** Endpoints in the current picker. */
  readonly routable: number;
  readonly totalInFlight: number;
  readonly closed: boolean;
  readonly endpoints: readonly EndpointStats[];
}

export function endpointStats(state: EndpointState, latencyEstimateMs: number): EndpointStats {
  const e = state.endpoint;
  return {
    address: state.address,
    host: e.host,
    port: e.port,
    weight: e.weight,
    effectiveWeight: state.effectiveWeight,
    priority: e.priority,
    locality: e.locality,
    condition: condition(state),
    inFlight: state.inFlight,
    latencyEstimateMs,
    picks: state.picks,
    successes: state.successes,
    failures: state.failures,
  };
}

function condition(state: EndpointState): EndpointCondition {
  if (state.removed) return 'draining';
  if (state.routable) return 'routable';
  if (state.ejected) return 'ejected';
  if (!state.healthy) return 'unhealthy';
  return 'standby';
}

/** `balancer.stats()`: the balancer's totals and every endpoint's state, with its latency estimate as of `now`. */
export function balancerStats(
  summary: Omit<BalancerStats, 'endpoints'>,
  states: Iterable<EndpointState>,
  estimator: LatencyEstimator,
  now: number,
): BalancerStats {
  const endpoints = [...states].map((s) => endpointStats(s, estimator.estimate(s, now)));
  return { ...summary, endpoints };
}
