/**
 * EDS: decode an envoy `ClusterLoadAssignment`, validate it, and map it onto switchyard endpoints.
 *
 * Mapping (envoy → switchyard `EndpointInput`):
 * - `lb_endpoints[].endpoint.address.socket_address` {address, port_value} → `host`, `port`. IP literals only
 *   (a hostname would need DNS, which EDS does not imply), IPv6 in canonical form; TCP only;
 *   `named_port`/`resolver_name` unsupported.
 * - `lb_endpoints[].load_balancing_weight` → `weight` (default 1; envoy requires >= 1; switchyard caps at
 *   {@link MAX_WEIGHT}).
 * - `lb_endpoints[].health_status` → `health`: UNKNOWN → unknown, HEALTHY → healthy, UNHEALTHY and TIMEOUT →
 *   unhealthy (envoy treats TIMEOUT as unhealthy), DRAINING → draining, DEGRADED → degraded. Unhealthy endpoints
 *   are passed on, not dropped: the Balancer decides routability (and may use them in panic mode, as envoy does).
 * - the enclosing locality {region, zone, sub_zone} → `locality` {region, zone, subZone}; its `priority` →
 *   `priority` (contiguous from 0, at most {@link MAX_PRIORITY}).
 * - the locality's `load_balancing_weight` is **not folded into endpoint weights**: it rides along as endpoint
 *   metadata `localityWeight` (decimal string), identical on every endpoint of the locality, so that
 *   locality-weighted choice (pick a locality by its weight, then an endpoint within it by endpoint weight, as
 *   envoy does) can be built on the Balancer side. Absent when the control plane set no locality weight.
 * - `endpoint.hostname` → metadata `hostname` (e.g. for TLS server names).
 * - `policy.overprovisioning_factor` (percent, envoy default 140) → `overprovisioningFactor` = value / 100.
 *
 * NACKed: duplicate addresses, duplicate (locality, priority) pairs, zero or oversized weights, unknown enum
 * values, LEDS, named endpoints, pipes, drop_overloads (switchyard does not drop), non-contiguous priorities.
 * These checks cover everything the Balancer's `parseEndpoint` checks, so an ACKed assignment is one the Balancer
 * accepts (a fuzz property in test/resolvers/xds-fuzz.test.ts holds us to that).
 */
import { isIP } from 'node:net';
import {
  type EndpointInput,
  formatAddress,
  MAX_PRIORITY,
  MAX_WEIGHT,
  type ReportedHealth,
} from '../../endpoint.js';
import { decodeClusterLoadAssignmentMessage, TYPE_URL } from './proto/codec.js';
import { Issues, type UInt32Message, wrapped } from './proto/fields.js';

/** A validated EDS resource. */
export interface XdsAssignment {
  readonly clusterName: string;
  readonly endpoints: readonly EndpointInput[];
  /** `policy.overprovisioning_factor / 100` when set (envoy's default 1.4 applies otherwise). */
  readonly overprovisioningFactor?: number;
  /** Number of (locality, priority) groups, for notes. */
  readonly localities: number;
}

interface LocalityMessage {
  readonly region?: string;
  readonly zone?: string;
  readonly sub_zone?: string;
}
interface LbEndpointMessage {
  readonly endpoint?: {
    readonly address?: {
      readonly socket_address?: {
        readonly protocol?: string | number;
        readonly address?: string;
        readonly port_value?: number;
        readonly named_port?: string;
        readonly resolver_name?: string;
      };
      readonly pipe?: object;
      readonly envoy_internal_address?: object;
    };
    readonly hostname?: string;
  };
  readonly endpoint_name?: string;
  readonly health_status?: string | number;
  readonly load_balancing_weight?: UInt32Message;
}
interface LocalityLbEndpointsMessage {
  readonly locality?: LocalityMessage;
  readonly lb_endpoints: readonly LbEndpointMessage[];
  readonly load_balancing_weight?: UInt32Message;
  readonly priority?: number;
  readonly load_balancer_endpoints?: object;
  readonly leds_cluster_locality_config?: object;
}
interface ClusterLoadAssignmentMessage {
  readonly cluster_name?: string;
  readonly endpoints: readonly LocalityLbEndpointsMessage[];
  readonly policy?: {
    readonly drop_overloads: readonly object[];
    readonly overprovisioning_factor?: UInt32Message;
  };
}

const HEALTH: Readonly<Record<string, ReportedHealth>> = {
  UNKNOWN: 'unknown',
  HEALTHY: 'healthy',
  UNHEALTHY: 'unhealthy',
  TIMEOUT: 'unhealthy',
  DRAINING: 'draining',
  DEGRADED: 'degraded',
};

const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

/** Envoy's bound on the sum of locality weights in one priority. */
const MAX_TOTAL_LOCALITY_WEIGHT = 0xffff_ffff;

/** Decodes and validates one EDS resource. Throws {@link XdsResourceError} (`malformed` or `invalid`). */
export function decodeAssignment(bytes: Uint8Array): XdsAssignment {
  return validateAssignment(
    decodeClusterLoadAssignmentMessage(bytes) as unknown as ClusterLoadAssignmentMessage,
  );
}

/** Validates a decoded `ClusterLoadAssignment` and maps it. Exported for tests. */
export function validateAssignment(message: ClusterLoadAssignmentMessage): XdsAssignment {
  const clusterName = message.cluster_name ?? '';
  const issues = new Issues();
  if (clusterName === '') issues.add('cluster_name', 'must be a non-empty string');
  const endpoints: EndpointInput[] = [];
  // address → ordinal of its first occurrence; `groupStarts` turns an ordinal back into a field path, so the
  // hot loop builds no path strings unless something is wrong (10,000 endpoints is a normal assignment).
  const seen: Seen = { addresses: new Map(), groupStarts: [], count: 0 };
  const seenLocalities = new Set<string>();
  const priorityWeights = new Map<number, number>();
  message.endpoints.forEach((group, g) => {
    const priority = group.priority ?? 0;
    if (priority > MAX_PRIORITY)
      issues.add(`endpoints[${g}].priority`, `must be at most ${MAX_PRIORITY}, got ${priority}`);
    const locality = mapLocality(group.locality);
    const localityKey = `${priority}|${locality.region ?? ''}|${locality.zone ?? ''}|${locality.subZone ?? ''}`;
    if (seenLocalities.has(localityKey))
      issues.add(`endpoints[${g}].locality`, 'duplicates another locality of the same priority');
    seenLocalities.add(localityKey);
    if (group.load_balancer_endpoints !== undefined || group.leds_cluster_locality_config !== undefined)
      issues.add(
        `endpoints[${g}]`,
        'LEDS (load_balancer_endpoints, leds_cluster_locality_config) is not supported',
      );
    const localityWeight = wrapped(group.load_balancing_weight);
    if (localityWeight !== undefined && localityWeight < 1)
      issues.add(`endpoints[${g}].load_balancing_weight`, `must be >= 1, got ${localityWeight}`);
    priorityWeights.set(priority, (priorityWeights.get(priority) ?? 0) + (localityWeight ?? 0));
    const metadata: Readonly<Record<string, string>> =
      localityWeight === undefined ? NO_METADATA : Object.freeze({ localityWeight: String(localityWeight) });
    seen.groupStarts.push(seen.count);
    group.lb_endpoints.forEach((lb, e) => {
      const endpoint = mapEndpoint(lb, g, e, issues, seen);
      if (endpoint === undefined) return;
      const hostname = lb.endpoint?.hostname;
      endpoints.push({
        ...endpoint,
        locality,
        priority,
        metadata: hostname ? { ...metadata, hostname } : metadata,
      });
    });
  });
  checkPriorities(priorityWeights, issues);
  const policy = message.policy;
  if (policy !== undefined && policy.drop_overloads.length > 0)
    issues.add('policy.drop_overloads', 'is not supported (switchyard does not drop requests)');
  const factor = wrapped(policy?.overprovisioning_factor);
  if (factor !== undefined && factor < 1)
    issues.add('policy.overprovisioning_factor', `must be > 0, got ${factor}`);
  issues.throwIfAny(TYPE_URL.endpoint, clusterName);
  return {
    clusterName,
    endpoints,
    localities: seenLocalities.size,
    ...(factor === undefined ? {} : { overprovisioningFactor: factor / 100 }),
  };
}

interface Seen {
  /** Address → ordinal (position among all lb_endpoints) of its first occurrence. */
  readonly addresses: Map<string, number>;
  /** Ordinal of the first lb_endpoint of each group. */
  readonly groupStarts: number[];
  /** lb_endpoints visited so far. */
  count: number;
}

/** The field path of the `ordinal`-th address seen. */
function pathOf(seen: Seen, ordinal: number): string {
  let g = seen.groupStarts.length - 1;
  while (g > 0 && seen.groupStarts[g]! > ordinal) g--;
  return `endpoints[${g}].lb_endpoints[${ordinal - seen.groupStarts[g]!}]`;
}

function mapLocality(locality: LocalityMessage | undefined): {
  region?: string;
  zone?: string;
  subZone?: string;
} {
  if (locality === undefined) return {};
  return {
    ...(locality.region ? { region: locality.region } : {}),
    ...(locality.zone ? { zone: locality.zone } : {}),
    ...(locality.sub_zone ? { subZone: locality.sub_zone } : {}),
  };
}

function mapEndpoint(
  lb: LbEndpointMessage,
  g: number,
  e: number,
  issues: Issues,
  seen: Seen,
): { host: string; port: number; weight: number; health: ReportedHealth } | undefined {
  // Paths are built only for the report, never on the clean path.
  const at = (field: string) => `endpoints[${g}].lb_endpoints[${e}]${field}`;
  const sp = '.endpoint.address.socket_address';
  const ordinal = seen.count++;
  const before = issues.count;
  if (lb.endpoint === undefined) {
    issues.add(at('.endpoint'), lb.endpoint_name ? 'named endpoints are not supported' : 'must be set');
    return undefined;
  }
  const socket = lb.endpoint.address?.socket_address;
  if (socket === undefined) {
    const other = lb.endpoint.address;
    const kind = other?.pipe ? 'pipe' : other?.envoy_internal_address ? 'envoy_internal_address' : undefined;
    issues.add(at('.endpoint.address'), kind ? `${kind} is not supported` : 'socket_address must be set');
    return undefined;
  }
  const host = canonicalHost(socket.address ?? '');
  const port = socket.port_value ?? 0;
  if ((socket.protocol ?? 'TCP') !== 'TCP')
    issues.add(at(`${sp}.protocol`), `must be TCP, got ${String(socket.protocol)}`);
  if (socket.named_port) issues.add(at(`${sp}.named_port`), 'is not supported; use port_value');
  if (socket.resolver_name) issues.add(at(`${sp}.resolver_name`), 'is not supported');
  if (isIP(host) === 0)
    issues.add(at(`${sp}.address`), `must be an IPv4 or IPv6 literal, got ${JSON.stringify(host)}`);
  if (!(port >= 1 && port <= 65535))
    issues.add(at(`${sp}.port_value`), `must be from 1 to 65535, got ${port}`);
  const weight = wrapped(lb.load_balancing_weight) ?? 1;
  if (!(weight >= 1 && weight <= MAX_WEIGHT))
    issues.add(at('.load_balancing_weight'), `must be from 1 to ${MAX_WEIGHT}, got ${weight}`);
  const status = lb.health_status ?? 'UNKNOWN';
  const health = typeof status === 'string' ? HEALTH[status] : undefined;
  if (health === undefined) issues.add(at('.health_status'), `unknown value ${String(status)}`);
  // Duplicates are checked even when this entry has other problems, so one NACK names them all.
  const address = formatAddress(host, port);
  const first = seen.addresses.get(address);
  if (first !== undefined) issues.add(at(sp), `${address} duplicates ${pathOf(seen, first)}`);
  else seen.addresses.set(address, ordinal);
  if (issues.count > before || health === undefined) return undefined;
  return { host, port, weight, health };
}

/**
 * IPv6 literals in canonical form (RFC 5952, as WHATWG URL serialises them), so `::1` and `0:0:0:0:0:0:0:1` are
 * one endpoint, not two. Scoped addresses (`fe80::1%eth0`) are left as given.
 */
function canonicalHost(host: string): string {
  if (isIP(host) !== 6 || host.includes('%')) return host;
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host;
  }
}

function checkPriorities(weights: ReadonlyMap<number, number>, issues: Issues): void {
  for (const [priority, total] of weights) {
    if (total > MAX_TOTAL_LOCALITY_WEIGHT)
      issues.add('endpoints', `locality weights of priority ${priority} sum to ${total}, above 2^32-1`);
    if (priority > 0 && !weights.has(priority - 1))
      issues.add('endpoints', `priority ${priority} is used but priority ${priority - 1} is not`);
  }
}
