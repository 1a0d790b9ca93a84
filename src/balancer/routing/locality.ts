/**
 * Within one priority level: locality-weighted choice and zone-aware preference.
 *
 * Locality-weighted (Envoy `locality_weighted_lb_config`): when the resolver gives localities a weight (endpoint
 * metadata `localityWeight`, set by the xDS resolver from EDS `LocalityLbEndpoints.load_balancing_weight`), traffic
 * is divided over localities by weight × availability, availability = min(1, factor × healthy / total) — a
 * locality that lost endpoints sheds traffic to the others instead of crushing its survivors. Endpoints without the
 * key get locality weight 0 (Envoy: a locality without weight gets no traffic) once any endpoint of the level has it.
 *
 * Zone-aware (`localZone`): the caller's own zone is preferred while it has capacity, i.e. it keeps
 * min(1, factor × healthy / total) of the level's traffic, the rest spilling to the other zones — the priority
 * rule applied to "my zone, then the others". Envoy's zone-aware routing also compares the caller fleet's zone
 * spread with the upstream's; a client library does not know its own fleet, so we do not (docs/health.md).
 * Applies only when the level has at least `zoneAwareMinClusterSize` endpoints (Envoy `min_cluster_size`, 6).
 */

import { localityKey } from '../../endpoint.js';
import type { EndpointState } from '../endpoint-state.js';

/** Endpoint metadata key carrying the locality's weight (a positive number as a string). */
export const LOCALITY_WEIGHT_KEY = 'localityWeight';

/** A slice of one level's traffic and the endpoints that take it. */
export interface LevelGroup {
  readonly endpoints: EndpointState[];
  /** Fraction of the level's traffic. */
  readonly share: number;
}

export interface LocalityOptions {
  readonly overprovisioningFactor: number;
  readonly localZone: string | undefined;
  readonly zoneAwareMinClusterSize: number;
}

/**
 * Splits one level. `all` is every endpoint of the level, `healthy` its healthy ones. A level in panic is one group
 * of all its endpoints, without locality or zone preference (Envoy checks panic before localities, too).
 */
export function splitLevel(
  all: readonly EndpointState[],
  healthy: readonly EndpointState[],
  panic: boolean,
  options: LocalityOptions,
): LevelGroup[] {
  if (panic) return [{ endpoints: [...all], share: 1 }];
  if (all.some((s) => s.endpoint.metadata[LOCALITY_WEIGHT_KEY] !== undefined)) {
    return byLocalityWeight(all, healthy, options.overprovisioningFactor);
  }
  const zone = options.localZone;
  if (zone !== undefined && all.length >= options.zoneAwareMinClusterSize) {
    return byLocalZone(all, healthy, zone, options.overprovisioningFactor);
  }
  return healthy.length === 0 ? [] : [{ endpoints: [...healthy], share: 1 }];
}

function availability(healthy: number, total: number, factor: number): number {
  return total === 0 ? 0 : Math.min(1, (factor * healthy) / total);
}

function byLocalityWeight(
  all: readonly EndpointState[],
  healthy: readonly EndpointState[],
  factor: number,
): LevelGroup[] {
  const localities = new Map<string, { weight: number; total: number; routed: EndpointState[] }>();
  for (const s of all) {
    const key = localityKey(s.endpoint.locality);
    let entry = localities.get(key);
    if (entry === undefined) {
      entry = { weight: 0, total: 0, routed: [] };
      localities.set(key, entry);
    }
    const raw = s.endpoint.metadata[LOCALITY_WEIGHT_KEY];
    const weight = raw === undefined ? 0 : Number(raw);
    if (Number.isFinite(weight) && weight > entry.weight) entry.weight = weight;
    entry.total++;
  }
  for (const s of healthy) localities.get(localityKey(s.endpoint.locality))!.routed.push(s);
  const effective = [...localities.values()].map((l) => ({
    endpoints: l.routed,
    weight: l.weight * availability(l.routed.length, l.total, factor),
  }));
  const sum = effective.reduce((a, e) => a + (e.endpoints.length > 0 ? e.weight : 0), 0);
  if (sum === 0) return [];
  return effective
    .filter((e) => e.endpoints.length > 0 && e.weight > 0)
    .map((e) => ({ endpoints: e.endpoints, share: e.weight / sum }));
}

function byLocalZone(
  all: readonly EndpointState[],
  healthy: readonly EndpointState[],
  zone: string,
  factor: number,
): LevelGroup[] {
  const local: EndpointState[] = [];
  const others: EndpointState[] = [];
  for (const s of healthy) (s.endpoint.locality.zone === zone ? local : others).push(s);
  const localTotal = all.reduce((n, s) => n + (s.endpoint.locality.zone === zone ? 1 : 0), 0);
  const localShare = others.length === 0 ? 1 : availability(local.length, localTotal, factor);
  const groups: LevelGroup[] = [];
  if (local.length > 0 && localShare > 0) groups.push({ endpoints: local, share: localShare });
  if (others.length > 0 && localShare < 1) groups.push({ endpoints: others, share: 1 - localShare });
  return groups;
}
