/**
 * Encoding and decoding of the xDS-lite subset with protobufjs (light build: JSON descriptors, no parser).
 *
 * The Root is built once per process (~2 ms: 60 small types), unlike loading the full envoy protos (~1.4 s).
 * Decoders turn protobufjs failures (truncated input, bad wire types, out-of-range lengths) into
 * {@link XdsResourceError}s with problem `malformed`, so garbage from the wire is always a typed error and the
 * ADS client can NACK it.
 */
import { createRequire } from 'node:module';
import type * as ProtobufLight from 'protobufjs/light.js';
import { XdsResourceError } from '../../../errors/xds-resource-error.js';
import { xdsLiteDescriptor } from './descriptors.js';

// protobufjs is CommonJS whose exports Node's ESM loader cannot name statically; require it.
const protobuf = createRequire(import.meta.url)('protobufjs/light.js') as typeof ProtobufLight;

/** Type URLs of the resources switchyard subscribes to. */
export const TYPE_URL = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  httpConnectionManager:
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
} as const;

/** The ADS method, as on the wire. */
export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

const root = protobuf.Root.fromJSON(xdsLiteDescriptor as ProtobufLight.INamespace);
const DiscoveryRequest = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
const DiscoveryResponse = root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
const Cluster = root.lookupType('envoy.config.cluster.v3.Cluster');
const ClusterLoadAssignment = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
const Listener = root.lookupType('envoy.config.listener.v3.Listener');
const RouteConfiguration = root.lookupType('envoy.config.route.v3.RouteConfiguration');
const HttpConnectionManager = root.lookupType(
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
);

/** Plain-object options for decoded resources: proto3 presence (absent = undefined), enums by name. */
const TO_OBJECT: ProtobufLight.IConversionOptions = {
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: false,
  arrays: true,
};

/** A JSON value, as sent in `Node.metadata`. */
type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** envoy `DiscoveryRequest`, snake_case as on the wire. */
export interface DiscoveryRequestMessage {
  readonly version_info: string;
  readonly node?: {
    readonly id: string;
    readonly cluster: string;
    readonly locality?: { readonly region?: string; readonly zone?: string; readonly sub_zone?: string };
    readonly metadata?: Readonly<Record<string, unknown>>;
    readonly user_agent_name: string;
    readonly user_agent_version: string;
    readonly client_features: readonly string[];
  };
  readonly resource_names: readonly string[];
  readonly type_url: string;
  readonly response_nonce: string;
  readonly error_detail?: { readonly code: number; readonly message: string };
}

/** One `google.protobuf.Any` of a response. */
export interface AnyMessage {
  readonly type_url: string;
  readonly value: Uint8Array;
}

/** envoy `DiscoveryResponse`. */
export interface DiscoveryResponseMessage {
  readonly version_info: string;
  readonly resources: readonly AnyMessage[];
  readonly type_url: string;
  readonly nonce: string;
  readonly control_plane?: { readonly identifier?: string };
}

/** Serialises a request for the ADS stream. */
export function encodeDiscoveryRequest(request: DiscoveryRequestMessage): Buffer {
  const { node, ...rest } = request;
  const plain =
    node === undefined
      ? rest
      : {
          ...rest,
          node: {
            ...node,
            ...(node.metadata === undefined
              ? {}
              : { metadata: toStruct(node.metadata as Record<string, Json>) }),
          },
        };
  const bytes = DiscoveryRequest.encode(DiscoveryRequest.fromObject(plain)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Parses a response from the ADS stream. Throws on malformed bytes; grpc-js then fails the stream with INTERNAL
 * and the client reconnects, which is all one can do when even the nonce is unreadable.
 */
export function decodeDiscoveryResponse(bytes: Uint8Array): DiscoveryResponseMessage {
  const message = DiscoveryResponse.decode(bytes) as unknown as {
    version_info: string;
    resources: { type_url: string; value: Uint8Array }[];
    type_url: string;
    nonce: string;
    control_plane?: { identifier?: string } | null;
  };
  return {
    version_info: message.version_info,
    resources: message.resources.map((r) => ({ type_url: r.type_url, value: r.value })),
    type_url: message.type_url,
    nonce: message.nonce,
    ...(message.control_plane
      ? { control_plane: { identifier: message.control_plane.identifier ?? '' } }
      : {}),
  };
}

/** Decodes an envoy `Cluster` into a plain object (see `cds.ts` for its shape). */
export function decodeClusterMessage(bytes: Uint8Array): Record<string, unknown> {
  return decodeAs(Cluster, TYPE_URL.cluster, bytes);
}

/** Decodes an envoy `ClusterLoadAssignment` into a plain object (see `eds.ts` for its shape). */
export function decodeClusterLoadAssignmentMessage(bytes: Uint8Array): Record<string, unknown> {
  return decodeAs(ClusterLoadAssignment, TYPE_URL.endpoint, bytes);
}

/** Decodes an envoy `Listener` into a plain object (see `lds-rds.ts`). */
export function decodeListenerMessage(bytes: Uint8Array): Record<string, unknown> {
  return decodeAs(Listener, TYPE_URL.listener, bytes);
}

/** Decodes an `HttpConnectionManager` (the `api_listener` Any of a Listener) into a plain object. */
export function decodeHttpConnectionManagerMessage(bytes: Uint8Array): Record<string, unknown> {
  return decodeAs(HttpConnectionManager, TYPE_URL.httpConnectionManager, bytes);
}

/** Decodes an envoy `RouteConfiguration` into a plain object (see `lds-rds.ts`). */
export function decodeRouteConfigurationMessage(bytes: Uint8Array): Record<string, unknown> {
  return decodeAs(RouteConfiguration, TYPE_URL.route, bytes);
}

function decodeAs(type: ProtobufLight.Type, typeUrl: string, bytes: Uint8Array): Record<string, unknown> {
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT);
  } catch (error) {
    throw new XdsResourceError(
      {
        problem: 'malformed',
        typeUrl,
        detail: `cannot decode ${bytes.byteLength} bytes: ${(error as Error).message}`,
      },
      { cause: error },
    );
  }
}

/** JSON → `google.protobuf.Struct` in protobufjs object form. */
function toStruct(json: Readonly<Record<string, Json>>): { fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) fields[key] = toValue(value);
  return { fields };
}

function toValue(value: Json): Record<string, unknown> {
  if (value === null) return { null_value: 'NULL_VALUE' };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (Array.isArray(value)) return { list_value: { values: value.map(toValue) } };
  return { struct_value: toStruct(value as Readonly<Record<string, Json>>) };
}
