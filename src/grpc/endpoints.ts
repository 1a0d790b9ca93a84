/**
 * Endpoints between grpc-js and switchyard.
 *
 * grpc-js endpoints are `{ addresses: [{ host, port } | { path }] }`. switchyard's resolver schemes hang the full
 * switchyard {@link Endpoint} (weight, locality, priority, reported health, metadata) on the grpc-js endpoint object
 * under a `Symbol.for` key — grpc-js passes endpoint objects through untouched (grpc-js-xds carries its per-endpoint
 * data the same way), and unlike resolver attributes they do not become subchannel arguments, so they do not split
 * the subchannel pool (pitfall 7).
 */
import type { experimental } from '@grpc/grpc-js';
import { type Endpoint, type EndpointInput, formatAddress } from '../endpoint.js';

/** Key of the switchyard {@link Endpoint} carried on a grpc-js endpoint. */
export const SWITCHYARD_ENDPOINT: unique symbol = Symbol.for('switchyard.grpc.endpoint') as never;

/** A grpc-js endpoint that may carry switchyard attributes. */
export type GrpcEndpoint = experimental.Endpoint & { [SWITCHYARD_ENDPOINT]?: Endpoint };

/** A grpc-js endpoint reduced to what the policy needs: the address it connects to and the Balancer input. */
export interface MappedEndpoint {
  /** `host:port` of the first TCP address, the Balancer's key. */
  readonly address: string;
  /** Every TCP address of the endpoint, in the resolver's order (dual-stack endpoints have several). */
  readonly subchannelAddresses: readonly experimental.SubchannelAddress[];
  readonly input: EndpointObject;
}

/** The object form of an {@link EndpointInput}. */
export type EndpointObject = Exclude<EndpointInput, string>;

/**
 * Maps a grpc-js endpoint: one switchyard endpoint, named by its first TCP address, whose connection tries its TCP
 * addresses in order (a dual-stack endpoint has an IPv6 and an IPv4 one; lb-policy.ts). Returns `undefined` for
 * endpoints with only Unix-socket addresses, which have no `host:port` identity in switchyard.
 */
export function fromGrpcEndpoint(endpoint: GrpcEndpoint): MappedEndpoint | undefined {
  const subchannelAddresses = endpoint.addresses.filter(
    (a): a is { host: string; port: number } => 'host' in a && typeof a.port === 'number',
  );
  const first = subchannelAddresses[0];
  if (first === undefined) return undefined;
  const { host, port } = first;
  const attrs = endpoint[SWITCHYARD_ENDPOINT];
  const input: EndpointObject =
    attrs === undefined
      ? { host, port }
      : {
          host,
          port,
          weight: attrs.weight,
          locality: attrs.locality,
          priority: attrs.priority,
          health: attrs.health,
          metadata: attrs.metadata,
        };
  return { address: formatAddress(host, port), subchannelAddresses, input };
}

/** Maps a switchyard endpoint to a grpc-js endpoint carrying its attributes. */
export function toGrpcEndpoint(endpoint: Endpoint): GrpcEndpoint {
  return { addresses: [{ host: endpoint.host, port: endpoint.port }], [SWITCHYARD_ENDPOINT]: endpoint };
}
