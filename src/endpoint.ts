/**
 * Endpoints as users describe them and as switchyard hands them back.
 *
 * An {@link Endpoint} is an immutable description: where it is (`host`, `port`, `address`) and what the resolver
 * said about it (weight, locality, priority, health). The balancer keeps the runtime state (in-flight count,
 * latency estimate, health) apart, keyed by `address`, so an update that changes only a weight keeps that state.
 */
import { isIP } from 'node:net';
import { checkNumber, inRange, join, type NumberRange, readObject, readString } from './config/validate.js';
import { ConfigError } from './errors/config-error.js';

/** Where an endpoint runs. Used for zone-aware routing and locality-weighted choice. */
export interface Locality {
  readonly region?: string;
  readonly zone?: string;
  readonly subZone?: string;
}

/**
 * Health as reported by the source of the endpoint (an xDS control plane, a Consul/SRV source), independent of
 * switchyard's own checks. `unknown` counts as healthy (Envoy does the same for EDS `UNKNOWN`).
 */
export type ReportedHealth = 'unknown' | 'healthy' | 'unhealthy' | 'draining' | 'degraded';

/** One upstream endpoint. Immutable; a changed attribute arrives as a new object with the same `address`. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** `host:port`, with IPv6 hosts in brackets (`[::1]:8080`). The endpoint's identity. */
  readonly address: string;
  /** Relative weight, > 0. Default 1. */
  readonly weight: number;
  readonly locality: Locality;
  /** Priority level; 0 is preferred, higher levels take traffic only on failover. Default 0. */
  readonly priority: number;
  /** Health reported by the resolver. Default `unknown`. */
  readonly health: ReportedHealth;
  /** Free-form attributes from the resolver (e.g. the SRV target name, TLS server name). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** What users and resolvers may pass: `'host:port'` or an object. */
export type EndpointInput =
  | string
  | {
      readonly host: string;
      readonly port: number;
      readonly weight?: number;
      readonly locality?: Locality;
      readonly priority?: number;
      readonly health?: ReportedHealth;
      readonly metadata?: Readonly<Record<string, string>>;
    };

/** Upper bound on an endpoint weight; keeps weighted tables and products of weights finite and exact. */
export const MAX_WEIGHT = 1_000_000;
/** Upper bound on priority levels (Envoy allows 0..127 in practice). */
export const MAX_PRIORITY = 127;

const HEALTH_VALUES: readonly ReportedHealth[] = ['unknown', 'healthy', 'unhealthy', 'draining', 'degraded'];
const ENDPOINT_KEYS = ['host', 'port', 'weight', 'locality', 'priority', 'health', 'metadata'] as const;
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});
const NO_LOCALITY: Locality = Object.freeze({});

/** Formats `host:port`, bracketing IPv6 literals. */
export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parses and validates one endpoint. Throws {@link ConfigError} naming `path` (e.g. `endpoints[1].port`).
 */
export function parseEndpoint(input: unknown, path: string): Endpoint {
  return parseEndpointAt(input, path, -1);
}

const PORT: NumberRange = { integer: true, min: 1, max: 65535 };
const WEIGHT: NumberRange = { min: 0, exclusiveMin: true, max: MAX_WEIGHT };
const PRIORITY: NumberRange = { integer: true, min: 0, max: MAX_PRIORITY };

/**
 * Parses one endpoint, entry `index` of the list at `path` (`index` −1: `path` names the endpoint itself). Field
 * names (`endpoints[123].port`) are built only to throw: on a 10,000-endpoint update, building them for every valid
 * entry was half of the update's cost.
 */
function parseEndpointAt(input: unknown, path: string, index: number): Endpoint {
  if (typeof input === 'string') return fromString(input, entry(path, index));
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return parseEndpointAt(readObject(input, entry(path, index), ENDPOINT_KEYS), path, index);
  const raw = input as Record<string, unknown>;
  for (const key in raw) if (!isEndpointKey(key)) readObject(raw, entry(path, index), ENDPOINT_KEYS);
  const host = raw.host;
  const port = raw.port;
  const weight = raw.weight === undefined ? 1 : raw.weight;
  const priority = raw.priority === undefined ? 0 : raw.priority;
  const health = raw.health === undefined ? 'unknown' : raw.health;
  if (typeof host !== 'string' || host === '') {
    throw new ConfigError({
      field: join(entry(path, index), 'host'),
      allowed: 'a non-empty string',
      received: host,
    });
  }
  if (!inRange(port, PORT)) checkNumber(port, join(entry(path, index), 'port'), PORT);
  if (!inRange(weight, WEIGHT)) checkNumber(weight, join(entry(path, index), 'weight'), WEIGHT);
  if (!inRange(priority, PRIORITY)) checkNumber(priority, join(entry(path, index), 'priority'), PRIORITY);
  if (!HEALTH_VALUES.includes(health as ReportedHealth)) {
    throw new ConfigError({
      field: join(entry(path, index), 'health'),
      allowed: `one of ${HEALTH_VALUES.join(', ')}`,
      received: health,
    });
  }
  // Dotted-quad IPv4, the common case, is its own canonical form.
  const ipv4 = isIP(host) === 4;
  const canonical = ipv4 ? host : canonicalHost(host, join(entry(path, index), 'host'));
  const { locality, metadata } = raw;
  return Object.freeze({
    host: canonical,
    port: port as number,
    address: ipv4 ? `${host}:${port}` : formatAddress(canonical, port as number),
    weight: weight as number,
    locality:
      locality === undefined ? NO_LOCALITY : parseLocality(locality, join(entry(path, index), 'locality')),
    priority: priority as number,
    health: health as ReportedHealth,
    metadata:
      metadata === undefined ? NO_METADATA : parseMetadata(metadata, join(entry(path, index), 'metadata')),
  });
}

/** The field name of list entry `index` at `path` (`index` −1: `path` itself). Built only to throw. */
function entry(path: string, index: number): string {
  return index < 0 ? path : `${path}[${index}]`;
}

function isEndpointKey(key: string): boolean {
  switch (key) {
    case 'host':
    case 'port':
    case 'weight':
    case 'locality':
    case 'priority':
    case 'health':
    case 'metadata':
      return true;
    default:
      return false;
  }
}

/** Parses a list of endpoints; rejects duplicates (two entries with the same address) by name. */
export function parseEndpoints(inputs: unknown, path: string): Endpoint[] {
  if (!Array.isArray(inputs))
    throw new ConfigError({ field: path, allowed: 'an array of endpoints', received: inputs });
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const endpoint = parseEndpointAt(inputs[i], path, i);
    if (seen.has(endpoint.address)) {
      throw new ConfigError({
        field: `${path}[${i}]`,
        allowed: 'an address not already listed',
        received: endpoint.address,
      });
    }
    seen.add(endpoint.address);
    out.push(endpoint);
  }
  return out;
}

function fromString(input: string, path: string): Endpoint {
  // Accept `host:port` and `[v6]:port`. A bare IPv6 literal without brackets is ambiguous and rejected.
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(input);
  if (match === null)
    throw new ConfigError({ field: path, allowed: '"host:port" or "[ipv6]:port"', received: input });
  return parseEndpoint({ host: match[1] ?? match[2], port: Number(match[3]) }, path);
}

/** One DNS label: letters, digits, `-` inside, `_` allowed (SRV and container names); 1–63 characters. */
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
/** An IPv6 zone id (`fe80::1%eth0`): interface names and numbers only. */
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Validates a host and returns its canonical form, so that one address has one identity: IPv6 literals in their
 * compressed lower-case form (RFC 5952; `[0:0:0:0:0:0:0:1]` → `::1`), brackets removed; IPv4 dotted quads as they
 * are; names lower-cased (DNS is case-insensitive). Anything that is not a host — userinfo (`a@b`), paths, spaces,
 * control characters (CR LF would inject headers), unbalanced brackets — is a {@link ConfigError}.
 */
export function canonicalHost(host: string, field: string): string {
  const fail = (): never => {
    throw new ConfigError({
      field,
      allowed: 'an IPv4 address, an IPv6 address or a DNS name',
      received: host,
    });
  };
  let bare = host;
  if (host.startsWith('[') || host.endsWith(']')) {
    if (!(host.startsWith('[') && host.endsWith(']'))) fail();
    bare = host.slice(1, -1);
    if (isIP(bare) !== 6) fail();
  }
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family === 6) return canonicalIpv6(bare) ?? fail();
  const name = bare.toLowerCase();
  if (name.length === 0 || name.length > 253) fail();
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  for (const label of labels) if (!LABEL.test(label)) fail();
  return name;
}

/** RFC 5952 form of an IPv6 literal (zone id kept as written), or `undefined` when the zone id is not one. */
function canonicalIpv6(address: string): string | undefined {
  const percent = address.indexOf('%');
  const zone = percent === -1 ? '' : address.slice(percent + 1);
  if (percent !== -1 && !ZONE.test(zone)) return undefined;
  // WHATWG URL serialises IPv6 hosts in RFC 5952 compressed lower-case form.
  const bare = percent === -1 ? address : address.slice(0, percent);
  const compressed = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return percent === -1 ? compressed : `${compressed}%${zone}`;
}

function parseLocality(raw: unknown, path: string): Locality {
  if (raw === undefined) return NO_LOCALITY;
  const obj = readObject(raw, path, ['region', 'zone', 'subZone']);
  const region = readString(obj, 'region', path);
  const zone = readString(obj, 'zone', path);
  const subZone = readString(obj, 'subZone', path);
  return Object.freeze({
    ...(region === undefined ? {} : { region }),
    ...(zone === undefined ? {} : { zone }),
    ...(subZone === undefined ? {} : { subZone }),
  });
}

function parseMetadata(raw: unknown, path: string): Readonly<Record<string, string>> {
  if (raw === undefined) return NO_METADATA;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError({ field: path, allowed: 'an object of string values', received: raw });
  }
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string')
      throw new ConfigError({ field: join(path, key), allowed: 'a string', received: value });
  }
  return Object.freeze({ ...(raw as Record<string, string>) });
}

/** A stable key for a locality, used to group endpoints (`region/zone/subZone`). */
export function localityKey(locality: Locality): string {
  return `${locality.region ?? ''}/${locality.zone ?? ''}/${locality.subZone ?? ''}`;
}
