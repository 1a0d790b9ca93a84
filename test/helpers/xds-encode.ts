/**
 * Encode envoy resources with the FULL envoy protos (via the test control plane's serializer) and hand back the
 * bytes of the `Any.value`, which is exactly what switchyard's decoders get on the wire.
 */
import { decodeDiscoveryResponse } from '../../src/resolvers/xds/proto/codec.js';
import { encodeResponse, TYPE } from './xds-control-plane.js';

// biome-ignore lint/suspicious/noExplicitAny: envoy JSON objects.
type Json = any;

function resourceBytes(typeUrl: string, resource: Json): Uint8Array {
  const response = decodeDiscoveryResponse(encodeResponse(typeUrl, [{ '@type': typeUrl, ...resource }]));
  return response.resources[0]!.value;
}

/** An envoy `Cluster` (JSON, snake_case) as wire bytes. */
export const clusterBytes = (cluster: Json): Uint8Array => resourceBytes(TYPE.CDS, cluster);
/** An envoy `ClusterLoadAssignment` (JSON, snake_case) as wire bytes. */
export const assignmentBytes = (cla: Json): Uint8Array => resourceBytes(TYPE.EDS, cla);

/** A minimal valid EDS cluster, plus `extra` fields. */
export function edsCluster(extra: Json = {}): Json {
  return {
    name: 'c',
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {} }, service_name: 'e' },
    ...extra,
  };
}
