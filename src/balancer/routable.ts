/**
 * Which endpoints a picker may choose from, given what health checking knows.
 *
 * Step 1: candidates are the endpoints the resolver still lists (removed ones are draining).
 * Step 2: the routable set is the healthy candidates.
 * Step 3 (panic, Envoy `healthy_panic_threshold`): when fewer than `panicThreshold` percent of the candidates are
 *   healthy, route across *all* candidates instead. Health checks are themselves fallible; when most of a fleet
 *   looks down at once, piling every request onto the few survivors usually takes them down too (a cascading
 *   failure), while spreading load lets requests to healthy-but-mislabelled endpoints succeed. 0 disables panic:
 *   the routable set may then be empty and picks return `undefined`.
 */
import type { EndpointState } from './endpoint-state.js';

export interface RoutableSet {
  readonly endpoints: EndpointState[];
  /** True when the panic threshold put unhealthy endpoints back in. */
  readonly panic: boolean;
  readonly healthy: number;
  readonly candidates: number;
}

export function selectRoutable(states: Iterable<EndpointState>, panicThreshold: number): RoutableSet {
  const candidates: EndpointState[] = [];
  const healthy: EndpointState[] = [];
  for (const state of states) {
    if (state.removed) continue;
    candidates.push(state);
    if (state.healthy) healthy.push(state);
  }
  const panic = candidates.length > 0 && healthy.length * 100 < panicThreshold * candidates.length;
  return {
    endpoints: panic ? candidates : healthy,
    panic,
    healthy: healthy.length,
    candidates: candidates.length,
  };
}
