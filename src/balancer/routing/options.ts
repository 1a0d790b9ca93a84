/**
 * How the routable set is split over priority levels, localities and zones: the Balancer's routing options, their
 * defaults, and the cluster-level values a control plane may send (xDS CDS/EDS).
 */
import { type RawOptions, readNumber, readString } from '../../config/validate.js';
import type { ResolverUpdate } from '../resolver.js';

const PERCENT = { min: 0, max: 100 };

/** How the routable set is split over priority levels, localities and zones. */
export interface RoutingOptions {
  /** Healthy-panic threshold, percent; 0 disables. Default 50 (Envoy `healthy_panic_threshold`). */
  readonly panicThreshold: number;
  /** Overprovisioning factor for priority and locality spill-over. Default 1.4 (Envoy `overprovisioning_factor` 140). */
  readonly overprovisioningFactor: number;
  /** The caller's own zone: prefer endpoints there while that zone has capacity. Default: none (zone-aware off). */
  readonly localZone: string | undefined;
  /** Fewest endpoints in a priority level for zone-aware routing to apply. Default 6 (Envoy `min_cluster_size`). */
  readonly zoneAwareMinClusterSize: number;
}

export const defaultRoutingOptions: RoutingOptions = Object.freeze({
  panicThreshold: 50,
  overprovisioningFactor: 1.4,
  localZone: undefined,
  zoneAwareMinClusterSize: 6,
});

/** Reads the routing keys from the Balancer's options object (top level, path `''`). */
export function parseRouting(o: RawOptions, path: string): RoutingOptions {
  const d = defaultRoutingOptions;
  return Object.freeze({
    panicThreshold: readNumber(o, 'panicThreshold', path, PERCENT, d.panicThreshold),
    overprovisioningFactor: readNumber(
      o,
      'overprovisioningFactor',
      path,
      { min: 1, max: 100 },
      d.overprovisioningFactor,
    ),
    localZone: readString(o, 'localZone', path),
    zoneAwareMinClusterSize: readNumber(
      o,
      'zoneAwareMinClusterSize',
      path,
      { integer: true, min: 1, max: 1_000_000 },
      d.zoneAwareMinClusterSize,
    ),
  });
}

/** Cluster-level routing settings a resolver sent (xDS CDS/EDS), validated; the old ones when absent. */
export function clusterRouting(current: RoutingOptions, cluster: ResolverUpdate['cluster']): RoutingOptions {
  if (cluster?.panicThreshold === undefined && cluster?.overprovisioningFactor === undefined) return current;
  const path = 'resolver.cluster';
  return {
    ...current,
    panicThreshold: readNumber(cluster, 'panicThreshold', path, { min: 0, max: 100 }, current.panicThreshold),
    overprovisioningFactor: readNumber(
      cluster,
      'overprovisioningFactor',
      path,
      { min: 1, max: 100 },
      current.overprovisioningFactor,
    ),
  };
}
