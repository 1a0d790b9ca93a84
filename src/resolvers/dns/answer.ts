/**
 * DNS answers → endpoints. Pure functions, no I/O: the resolver feeds them what node:dns returned, the fuzz tests
 * feed them garbage.
 *
 * Every record is validated; one bad record rejects the whole answer with a {@link DnsAnswerError} (the resolver
 * then keeps its last good set), so garbage never becomes a crash, a half-applied set or an empty set. An answer
 * can still be legitimately empty (an SRV "." target: "service decidedly not available", RFC 2782); the resolver
 * handles that like NXDOMAIN.
 *
 * SRV mapping (RFC 2782):
 * - priority → endpoint priority: the distinct SRV priorities in use, lowest first, become levels 0, 1, 2, …
 *   (contiguous: a gap in SRV priorities means nothing). With a dual-stack preference the non-preferred family
 *   of each SRV level sorts right after it: (SRV priority, family rank) pairs are numbered in order.
 * - weight → endpoint weight: a target's weight is its share within its priority level, so it is split evenly
 *   over the addresses the target resolves to (weight 10, three A records → 10/3 each).
 * - weight 0: "a very small chance of being selected" when other records of the level have weight > 0. Mapped to
 *   the constant {@link SRV_ZERO_WEIGHT} (0.01, whatever the other weights are); the Balancer needs weights > 0.
 *   weighted_round_robin's one-slot minimum can give such a target more than its weight share (docs/resolvers.md). When every record of a level has weight 0, they share the level equally (weight 1 each).
 * - duplicates (the same address from two records or two targets): one endpoint, at the best level, with the
 *   weights of that level summed (each record is a share of the same host), capped at 65,535 (the SRV maximum).
 */
import { isIP } from 'node:net';
import { canonicalHost, formatAddress, MAX_PRIORITY } from '../../endpoint.js';
import { DnsAnswerError } from '../../errors/dns-answer-error.js';
import type { DnsFamilyPreference } from './options.js';
import { isDnsName } from './options.js';

/** One A or AAAA record as node:dns returns it with `{ ttl: true }`. */
export interface AddressRecord {
  readonly address: string;
  /** Seconds. */
  readonly ttl: number;
}

/** The address records of one name: `undefined` for a family that was not queried, `[]` for "no records". */
export interface FamilyRecords {
  readonly ipv4?: readonly AddressRecord[];
  readonly ipv6?: readonly AddressRecord[];
}

/** One SRV record (node:dns `resolveSrv`). An empty or `.` target means "not available here". */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** Endpoints from one answer. */
export interface DnsEndpointSet {
  /** Sorted by priority, then address: the same records always give the same list. */
  readonly endpoints: readonly DnsEndpoint[];
  /** Smallest TTL among the records used, seconds; `undefined` when there were none. */
  readonly ttlSeconds: number | undefined;
}

/** An endpoint as the DNS resolver hands it to the Balancer. */
export interface DnsEndpoint {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly priority: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What the conversion needs besides the records. */
export interface DnsAnswerOptions {
  /** The queried name, for error messages and metadata. */
  readonly hostname: string;
  readonly prefer: DnsFamilyPreference;
  /** Largest accepted number of records and of endpoints. */
  readonly maxEndpoints: number;
}

/** Endpoint weight of an SRV record with weight 0 among positive-weight peers (RFC 2782 "very small chance"). */
export const SRV_ZERO_WEIGHT = 0.01;
/** Cap on a merged endpoint weight: the largest SRV weight. */
export const SRV_MAX_WEIGHT = 65_535;
/** RFC 2181 §8: a TTL with the top bit set is read as 0. */
const MAX_TTL = 2_147_483_647;

/** Endpoints of an A/AAAA answer for `name:port`. Throws {@link DnsAnswerError} on a malformed record. */
export function addressAnswerToEndpoints(
  port: number,
  records: FamilyRecords,
  options: DnsAnswerOptions,
): DnsEndpointSet {
  const addresses = checkFamilyRecords(records, options.hostname, '', options);
  const metadata = Object.freeze({ dnsName: options.hostname });
  const candidates = addresses.map((a) => ({
    host: a.address,
    port,
    weight: 1,
    level: [0, familyRank(a.family, options.prefer)] as const,
    metadata,
  }));
  return finish(candidates, addresses, options);
}

/**
 * Validates raw SRV records (whatever `resolveSrv` returned) before their targets are queried. Drops "not available"
 * records (target `""` or `"."`). Throws {@link DnsAnswerError} on a malformed record or more than `maxEndpoints`.
 */
export function checkSrvRecords(raw: unknown, options: DnsAnswerOptions): SrvRecord[] {
  const { hostname } = options;
  if (!Array.isArray(raw))
    throw new DnsAnswerError({ hostname, field: 'SRV', allowed: 'an array', received: raw });
  if (raw.length > options.maxEndpoints) {
    throw new DnsAnswerError({
      hostname,
      field: 'SRV',
      allowed: `at most ${options.maxEndpoints} records (maxEndpoints)`,
      received: raw,
    });
  }
  const out: SrvRecord[] = [];
  raw.forEach((record: unknown, i) => {
    const field = `SRV[${i}]`;
    if (typeof record !== 'object' || record === null) {
      throw new DnsAnswerError({ hostname, field, allowed: 'an SRV record', received: record });
    }
    const r = record as Record<string, unknown>;
    const name = r.name;
    if (typeof name !== 'string' || (name !== '' && name !== '.' && !isDnsName(name)) || isIP(name) !== 0) {
      throw new DnsAnswerError({
        hostname,
        field: `${field}.name`,
        allowed: 'a DNS name or "."',
        received: name,
      });
    }
    const check = (key: string, min: number) => {
      const value = r[key];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65_535) {
        throw new DnsAnswerError({
          hostname,
          field: `${field}.${key}`,
          allowed: `an integer from ${min} to 65535`,
          received: value,
        });
      }
      return value;
    };
    const priority = check('priority', 0);
    const weight = check('weight', 0);
    if (name === '' || name === '.') return; // RFC 2782: "decidedly not available"; its port means nothing.
    out.push({
      name: name.endsWith('.') ? name.slice(0, -1) : name,
      port: check('port', 1),
      priority,
      weight,
    });
  });
  return out;
}

/**
 * Endpoints of an SRV answer: `records` from {@link checkSrvRecords}, `targets` the address records of each target
 * name (a target missing from the map, or with no addresses, contributes nothing). Throws {@link DnsAnswerError}.
 */
export function srvAnswerToEndpoints(
  records: readonly SrvRecord[],
  targets: ReadonlyMap<string, FamilyRecords>,
  options: DnsAnswerOptions,
): DnsEndpointSet {
  const used: CheckedAddress[] = [];
  const candidates: Candidate[] = [];
  const allZero = new Map<number, boolean>();
  for (const record of records)
    allZero.set(record.priority, (allZero.get(record.priority) ?? true) && record.weight === 0);
  records.forEach((record, i) => {
    const found = targets.get(record.name);
    if (found === undefined) return;
    const addresses = checkFamilyRecords(found, record.name, `SRV[${i}] target `, options);
    used.push(...addresses);
    const weight = record.weight > 0 ? record.weight : allZero.get(record.priority) ? 1 : SRV_ZERO_WEIGHT;
    const metadata = Object.freeze({
      dnsName: options.hostname,
      srvTarget: record.name,
      srvPriority: String(record.priority),
      srvWeight: String(record.weight),
    });
    // The target's share is split evenly over its addresses in each level it lands in.
    const perRank = [0, 0];
    for (const a of addresses) perRank[familyRank(a.family, options.prefer)]!++;
    for (const a of addresses) {
      const rank = familyRank(a.family, options.prefer);
      candidates.push({
        host: a.address,
        port: record.port,
        weight: weight / perRank[rank]!,
        level: [record.priority, rank],
        metadata,
      });
    }
  });
  return finish(candidates, used, options);
}

interface CheckedAddress {
  readonly address: string;
  readonly ttl: number;
  readonly family: 4 | 6;
}

interface Candidate {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** (SRV priority, family rank): numbered into contiguous priority levels by {@link finish}. */
  readonly level: readonly [number, number];
  readonly metadata: Readonly<Record<string, string>>;
}

function familyRank(family: 4 | 6, prefer: DnsFamilyPreference): number {
  if (prefer === 'none') return 0;
  return (family === 4) === (prefer === 'ipv4') ? 0 : 1;
}

function checkFamilyRecords(
  records: FamilyRecords,
  hostname: string,
  prefix: string,
  options: DnsAnswerOptions,
): CheckedAddress[] {
  if (typeof records !== 'object' || records === null) {
    throw new DnsAnswerError({
      hostname,
      field: `${prefix}records`,
      allowed: 'an object',
      received: records,
    });
  }
  const out: CheckedAddress[] = [];
  const read = (list: unknown, family: 4 | 6) => {
    if (list === undefined) return;
    const type = family === 4 ? 'A' : 'AAAA';
    if (!Array.isArray(list)) {
      throw new DnsAnswerError({ hostname, field: `${prefix}${type}`, allowed: 'an array', received: list });
    }
    if (list.length > options.maxEndpoints) {
      throw new DnsAnswerError({
        hostname,
        field: `${prefix}${type}`,
        allowed: `at most ${options.maxEndpoints} records (maxEndpoints)`,
        received: list,
      });
    }
    list.forEach((record: unknown, i) => {
      const field = `${prefix}${type}[${i}]`;
      const r = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
      if (typeof r.address !== 'string' || isIP(r.address) !== family) {
        throw new DnsAnswerError({
          hostname,
          field: `${field}.address`,
          allowed: `an IPv${family} address`,
          received: typeof record === 'object' && record !== null ? r.address : record,
        });
      }
      const ttl = r.ttl;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 4_294_967_295) {
        throw new DnsAnswerError({
          hostname,
          field: `${field}.ttl`,
          allowed: 'an integer from 0 to 4294967295 (seconds)',
          received: ttl,
        });
      }
      // One address, one identity: `0::1` and `::1` are the same endpoint, so duplicates are found on the canonical
      // form the Balancer keys endpoints by (a set listing both would be rejected as a duplicate).
      const address = family === 6 ? canonicalHost(r.address, `${field}.address`) : r.address;
      out.push({ address, ttl: ttl > MAX_TTL ? 0 : ttl, family });
    });
  };
  read(records.ipv4, 4);
  read(records.ipv6, 6);
  return out;
}

/** Merges duplicates, numbers the priority levels, sorts, and checks the size. */
function finish(
  candidates: readonly Candidate[],
  used: readonly CheckedAddress[],
  options: DnsAnswerOptions,
): DnsEndpointSet {
  const { hostname } = options;
  const byLevel = (a: readonly [number, number], b: readonly [number, number]) => a[0] - b[0] || a[1] - b[1];
  const merged = new Map<string, Candidate>();
  for (const c of candidates) {
    const address = formatAddress(c.host, c.port);
    const seen = merged.get(address);
    const order = seen === undefined ? -1 : byLevel(c.level, seen.level);
    if (seen === undefined || order < 0) merged.set(address, c);
    else if (order === 0)
      merged.set(address, { ...seen, weight: Math.min(SRV_MAX_WEIGHT, seen.weight + c.weight) });
  }
  if (merged.size > options.maxEndpoints) {
    throw new DnsAnswerError({
      hostname,
      field: 'endpoints',
      allowed: `at most ${options.maxEndpoints} endpoints (maxEndpoints)`,
      received: merged.size,
    });
  }
  const levels = [
    ...new Map([...merged.values()].map((c) => [`${c.level[0]}/${c.level[1]}`, c.level])).values(),
  ];
  levels.sort(byLevel);
  if (levels.length > MAX_PRIORITY + 1) {
    throw new DnsAnswerError({
      hostname,
      field: 'SRV priorities',
      allowed: `at most ${MAX_PRIORITY + 1} distinct priority levels`,
      received: levels.length,
    });
  }
  const levelIndex = new Map(levels.map((level, i) => [`${level[0]}/${level[1]}`, i]));
  // Sort on keys computed once (address strings, level numbers), not recomputed inside the comparator.
  const keyed = [...merged].map(([address, c]) => ({
    address,
    endpoint: Object.freeze({
      host: c.host,
      port: c.port,
      weight: c.weight,
      priority: levelIndex.get(`${c.level[0]}/${c.level[1]}`)!,
      metadata: c.metadata,
    }) as DnsEndpoint,
  }));
  keyed.sort((a, b) => a.endpoint.priority - b.endpoint.priority || compareText(a.address, b.address));
  const endpoints = keyed.map((k) => k.endpoint);
  let ttl: number | undefined;
  for (const a of used) ttl = ttl === undefined ? a.ttl : Math.min(ttl, a.ttl);
  return { endpoints, ttlSeconds: endpoints.length === 0 ? undefined : ttl };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A stable fingerprint of an endpoint list: equal fingerprints mean the Balancer would see no change, so the
 * resolver skips the update (and the picker rebuild) when only the TTL or the record order moved.
 */
export function endpointsFingerprint(endpoints: readonly DnsEndpoint[]): string {
  return endpoints
    .map((e) => `${formatAddress(e.host, e.port)}|${e.weight}|${e.priority}|${JSON.stringify(e.metadata)}`)
    .join('\n');
}
