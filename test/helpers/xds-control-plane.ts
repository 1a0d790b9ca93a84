/**
 * A real state-of-the-world ADS control plane for tests: a grpc-js server that encodes with the FULL envoy v3
 * protos (vendored by @grpc/grpc-js-xds in deps/), loaded with @grpc/proto-loader (keepCase). Switchyard's
 * xDS-lite decoder never sees these protos, so what it decodes here proves wire compatibility.
 *
 * Serves LDS → RDS → CDS → EDS (LDS/RDS only matter for @grpc/grpc-js-xds in the differential test), records
 * every request (with the node id of its stream) for assertions, and can push raw `Any` resources (garbage) too.
 * Loading the protos takes ~1.4 s: it happens once per test file (module-level cache).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

export const TYPE = {
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  HCM: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ROUTER: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
} as const;
const SHORT: Record<string, string> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));

// biome-ignore lint/suspicious/noExplicitAny: proto-loader objects are untyped JSON-ish values.
type Json = any;

interface AdsService {
  service: grpc.ServiceDefinition;
}
let loaded: { ads: AdsService } | undefined;

/** Loads the full envoy protos once per process (every type used inside an Any must be in the same root). */
export function envoyProtos(): { ads: AdsService } {
  if (loaded !== undefined) return loaded;
  const definition = protoLoader.loadSync(
    [
      'envoy/service/discovery/v3/ads.proto',
      'envoy/config/listener/v3/listener.proto',
      'envoy/config/route/v3/route.proto',
      'envoy/config/cluster/v3/cluster.proto',
      'envoy/config/endpoint/v3/endpoint.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/extensions/filters/http/router/v3/router.proto',
      'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
      'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
    ],
    {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(DEPS, d)),
    },
  );
  const pkg = grpc.loadPackageDefinition(definition) as Json;
  loaded = { ads: pkg.envoy.service.discovery.v3.AggregatedDiscoveryService as AdsService };
  return loaded;
}

/**
 * Encodes a DiscoveryResponse with the full envoy protos, the way the control plane puts it on the wire.
 * `resources` are `{ '@type': typeUrl, ...fields }` objects or raw `{ type_url, value }` Anys.
 */
export function encodeResponse(
  typeUrl: string,
  resources: readonly Json[],
  version = '1',
  nonce = '1',
): Buffer {
  const method = envoyProtos().ads.service.StreamAggregatedResources!;
  return method.responseSerialize({ version_info: version, type_url: typeUrl, nonce, resources });
}

/** A backend address in a ClusterLoadAssignment. */
export interface CpEndpoint {
  readonly host?: string;
  readonly port: number;
  readonly weight?: number;
  readonly health?: string;
}

/** A locality group of endpoints. */
export interface CpLocality {
  readonly locality?: { region?: string; zone?: string; sub_zone?: string };
  readonly weight?: number;
  readonly priority?: number;
  readonly endpoints: readonly CpEndpoint[];
}

/** Builds a ClusterLoadAssignment (envoy JSON, snake_case). */
export function clusterLoadAssignment(name: string, groups: readonly CpLocality[], extra: Json = {}): Json {
  return {
    cluster_name: name,
    endpoints: groups.map((g) => ({
      locality: g.locality ?? { zone: 'a' },
      // grpc-js-xds silently drops a locality without a weight.
      ...(g.weight === undefined
        ? { load_balancing_weight: { value: 1 } }
        : { load_balancing_weight: { value: g.weight } }),
      priority: g.priority ?? 0,
      lb_endpoints: g.endpoints.map((e) => ({
        endpoint: { address: { socket_address: { address: e.host ?? '127.0.0.1', port_value: e.port } } },
        health_status: e.health ?? 'HEALTHY',
        ...(e.weight === undefined ? {} : { load_balancing_weight: { value: e.weight } }),
      })),
    })),
    ...extra,
  };
}

/** Options of {@link buildResources}. */
export interface ResourceOptions {
  readonly service?: string;
  readonly endpoints?: readonly CpEndpoint[];
  readonly inlineRoute?: boolean;
  /** Extra Cluster fields (lb_policy, outlier_detection, …). */
  readonly cluster?: Json;
  /** Extra RouteAction fields of the one route (hash_policy, …). */
  readonly routeAction?: Json;
}

/** The four resource maps (typeUrl → name → object) for one service `svc`: cluster `svc-cluster`, EDS `svc-eds`. */
export function buildResources(options: ResourceOptions = {}): Record<string, Record<string, Json>> {
  const service = options.service ?? 'svc';
  const routeName = `${service}-route`;
  const clusterName = `${service}-cluster`;
  const edsName = `${service}-eds`;
  const routeConfig = {
    name: routeName,
    virtual_hosts: [
      {
        name: `${service}-vh`,
        domains: ['*'],
        routes: [{ match: { prefix: '' }, route: { cluster: clusterName, ...options.routeAction } }],
      },
    ],
  };
  const hcm = {
    '@type': TYPE.HCM,
    ...(options.inlineRoute
      ? { route_config: routeConfig }
      : { rds: { route_config_name: routeName, config_source: { ads: {} } } }),
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': TYPE.ROUTER } }],
  };
  return {
    [TYPE.LDS]: { [service]: { name: service, api_listener: { api_listener: hcm } } },
    [TYPE.RDS]: options.inlineRoute ? {} : { [routeName]: routeConfig },
    [TYPE.CDS]: {
      [clusterName]: {
        name: clusterName,
        type: 'EDS',
        eds_cluster_config: { eds_config: { ads: {} }, service_name: edsName },
        lb_policy: 'ROUND_ROBIN',
        ...options.cluster,
      },
    },
    [TYPE.EDS]: {
      [edsName]: clusterLoadAssignment(edsName, [{ endpoints: options.endpoints ?? [] }]),
    },
  };
}

/** One thing the control plane saw or did. */
export interface CpEvent {
  readonly kind: 'STREAM' | 'REQ' | 'ACK' | 'NACK' | 'STALE' | 'SEND' | 'END';
  readonly type: string;
  /** Node id of the stream (from its first request). */
  readonly node: string;
  readonly version?: string;
  readonly nonce?: string;
  readonly names?: readonly string[];
  readonly error?: string;
  /** The full request, for REQ/ACK/NACK. */
  readonly request?: Json;
}

interface TypeState {
  names: Set<string>;
  sentNonce: string;
  sentVersion: string;
  sentNames: string | null;
}
interface Stream {
  readonly call: grpc.ServerDuplexStream<Json, Json>;
  readonly types: Map<string, TypeState>;
  node: string;
  nonce: number;
}

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions extends ResourceOptions {
  readonly port?: number;
  /** PEM key and certificate: serve TLS instead of plaintext. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
  readonly log?: (line: string) => void;
}

export interface ControlPlane {
  readonly port: number;
  readonly events: CpEvent[];
  readonly resources: Record<string, Record<string, Json>>;
  /** Replaces every resource of one type and pushes to subscribed streams. Raw Anys allowed. */
  update(type: string, byName: Record<string, Json>): void;
  /** From now on, adds `extra` to every response of `type` (resources other clients asked for). */
  sendUnrequested(type: string, extra: readonly Json[]): void;
  /** Replaces the EDS assignment `svc-eds` (or `edsName`). */
  setEndpoints(groups: readonly CpLocality[], edsName?: string): void;
  /** Open streams. */
  readonly streamCount: number;
  /** Waits until `predicate(events)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (events: readonly CpEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  forceClose(): void;
}

/** Starts a control plane on 127.0.0.1 (random port unless given). */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const { ads } = envoyProtos();
  const resources = buildResources(options);
  const versions: Record<string, number> = Object.fromEntries(Object.values(TYPE).map((t) => [t, 1]));
  const streams = new Set<Stream>();
  const events: CpEvent[] = [];
  /** Resources sent with every response of a type although nobody asked for them (other clients' resources). */
  const unrequested: Record<string, Json[]> = {};
  const log = options.log ?? (() => {});
  const record = (e: CpEvent) => {
    events.push(e);
    log(
      `[cp] ${e.node} ${e.kind} ${SHORT[e.type] ?? e.type} v=${e.version ?? ''} nonce=${e.nonce ?? ''} ${e.error ?? ''}`,
    );
  };

  function send(stream: Stream, type: string): void {
    const st = stream.types.get(type)!;
    const all = resources[type] ?? {};
    const names = [...st.names];
    const found = names.filter((n) => n in all);
    const nonce = String(++stream.nonce);
    const version = String(versions[type]);
    st.sentNonce = nonce;
    st.sentVersion = version;
    st.sentNames = names.join('\0');
    const payload = [...found.map((n) => all[n]), ...(unrequested[type] ?? [])].map((r) =>
      r.type_url !== undefined && r.value !== undefined ? r : { '@type': type, ...r },
    );
    stream.call.write({ version_info: version, type_url: type, nonce, resources: payload });
    record({ kind: 'SEND', type, node: stream.node, version, nonce, names: found });
  }

  function handleRequest(stream: Stream, req: Json): void {
    const type: string = req.type_url;
    if (req.node) stream.node = req.node.id;
    let st = stream.types.get(type);
    if (!st) {
      st = { names: new Set(), sentNonce: '', sentVersion: '', sentNames: null };
      stream.types.set(type, st);
    }
    const base = {
      type,
      node: stream.node,
      version: req.version_info,
      nonce: req.response_nonce,
      request: req,
    };
    if (req.response_nonce && req.response_nonce !== st.sentNonce) {
      record({ kind: 'STALE', ...base });
      return;
    }
    if (req.error_detail) record({ kind: 'NACK', ...base, error: req.error_detail.message });
    else record({ kind: req.response_nonce ? 'ACK' : 'REQ', ...base, names: req.resource_names });
    st.names = new Set(req.resource_names);
    if (st.names.size === 0) return;
    // Answer a changed subscription, a newer version, and the first request of a stream (versions may match
    // after a reconnect, and the client must still hear from us). A NACK of the current version gets no reply.
    const first = req.response_nonce === '' && st.sentNonce === '';
    if (first || st.sentNames !== [...st.names].join('\0') || st.sentVersion !== String(versions[type]))
      send(stream, type);
  }

  const server = new grpc.Server();
  server.addService(ads.service, {
    StreamAggregatedResources(call: grpc.ServerDuplexStream<Json, Json>) {
      const stream: Stream = { call, types: new Map(), node: '?', nonce: 0 };
      streams.add(stream);
      record({ kind: 'STREAM', type: '', node: '?' });
      const drop = () => {
        if (streams.delete(stream)) record({ kind: 'END', type: '', node: stream.node });
      };
      call.on('data', (req: Json) => handleRequest(stream, req));
      call.on('end', () => {
        drop();
        call.end();
      });
      call.on('error', drop);
      call.on('cancelled', drop);
    },
    DeltaAggregatedResources(call: grpc.ServerDuplexStream<Json, Json>) {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'delta xDS not supported' });
    },
  });
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }])
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (e, p) => (e ? reject(e) : resolve(p))),
  );

  function update(type: string, byName: Record<string, Json>): void {
    resources[type] = byName;
    versions[type] = (versions[type] ?? 0) + 1;
    for (const stream of streams) {
      const st = stream.types.get(type);
      if (st && st.names.size > 0) send(stream, type);
    }
  }

  return {
    port,
    events,
    resources,
    update,
    sendUnrequested(type, extra) {
      unrequested[type] = [...extra];
    },
    setEndpoints(groups, edsName = Object.keys(resources[TYPE.EDS] ?? {})[0] ?? 'svc-eds') {
      update(TYPE.EDS, { [edsName]: clusterLoadAssignment(edsName, groups) });
    },
    get streamCount() {
      return streams.size;
    },
    async waitFor(predicate, timeoutMs = 5_000) {
      const end = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > end) throw new Error(`control plane: condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close() {
      for (const s of streams) s.call.end();
      return new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
    forceClose() {
      server.forceShutdown();
    },
  };
}
