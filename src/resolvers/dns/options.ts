/**
 * Options of the DNS resolver: what they mean, their defaults and where the defaults come from, and their strict
 * validation (a {@link ConfigError} naming the field and the allowed range; never a silent fallback).
 */
import { isIP } from 'node:net';
import type { Clock } from '../../clock.js';
import { checkClock, checkRandom } from '../../config/injectables.js';
import { join, type RawOptions, readEnum, readNumber, readObject } from '../../config/validate.js';
import { ConfigError } from '../../errors/config-error.js';
import type { RandomSource } from '../../random.js';

/** Which address records to query. */
export type DnsFamily = 'ipv4' | 'ipv6' | 'dual';
/** With `family: 'dual'`: which family takes traffic first (the other becomes the next priority level). */
export type DnsFamilyPreference = 'none' | 'ipv4' | 'ipv6';
/** What an authoritative "no such records" answer (NXDOMAIN/NODATA) does to the endpoint set. */
export type DnsNotFoundPolicy = 'empty' | 'keep';

/** Exponential backoff after failed resolutions. */
export interface DnsBackoffOptions {
  /** First retry delay, ms, from 10 to 3,600,000. Default 1,000 (gRPC connection-backoff spec INITIAL_BACKOFF). */
  readonly initialMs?: number;
  /** Growth per consecutive failure, from 1 to 10. Default 1.6 (gRPC connection-backoff spec MULTIPLIER). */
  readonly multiplier?: number;
  /** Longest retry delay, ms, from 10 to 3,600,000. Default 120,000 (gRPC connection-backoff spec MAX_BACKOFF). */
  readonly maxMs?: number;
}

/** Options of {@link DnsResolver}. Give exactly one of `name` (A/AAAA) or `srv`. */
export interface DnsResolverOptions {
  /** A host name whose A/AAAA records are the endpoints, e.g. `orders.internal` (a Kubernetes headless service). */
  readonly name?: string;
  /** An SRV name, e.g. `_http._tcp.orders.internal`: targets, ports, priorities and weights come from the records. */
  readonly srv?: string;
  /** The endpoints' port, 1 to 65535. Required with `name`; not allowed with `srv` (SRV records carry the port). */
  readonly port?: number;
  /**
   * Address records to query: `'ipv4'` (A), `'ipv6'` (AAAA) or `'dual'` (both). Default `'ipv4'`: predictable, and
   * it never hands out IPv6 addresses to a host without an IPv6 route (Envoy's advice for the same choice is
   * `V4_ONLY` unless IPv6 is known to work).
   */
  readonly family?: DnsFamily;
  /**
   * Only with `family: 'dual'`: `'ipv4'` or `'ipv6'` puts the other family's addresses one priority level lower,
   * so they take traffic only on priority failover; `'none'` puts both families in the same level. Default `'none'`.
   */
  readonly prefer?: DnsFamilyPreference;
  /**
   * Name servers to ask instead of the system's (`/etc/resolv.conf`): `'ip'`, `'ip:port'` or `'[ipv6]:port'`.
   * Default: the system's.
   */
  readonly servers?: readonly string[];
  /**
   * Shortest wait between scheduled resolutions, ms, from 100 to 3,600,000. A record TTL below this (Consul answers
   * with TTL 0 by default) is raised to it; also the re-check interval after an empty answer, which has no TTL.
   * Default 5,000 (Envoy `dns_min_refresh_rate`).
   */
  readonly minRefreshMs?: number;
  /**
   * Longest wait between scheduled resolutions, ms, from 100 to 86,400,000, at least `minRefreshMs`. Caps long TTLs
   * so a record cached for a day is still re-checked. Default 60,000 (one query a minute per resolver is
   * negligible; the same order as the 60 s TTL of cloud load-balancer names).
   */
  readonly maxRefreshMs?: number;
  /**
   * Random spread, fraction from 0 to 1. A scheduled refresh waits `max(minRefreshMs, base × (1 − jitter × r))`
   * (jitter only ever shortens it, so an answer is never used past its TTL or `maxRefreshMs`); a backoff waits
   * `delay × (1 ± jitter)`. Spreads the queries of many clients that started together. Default 0.2 (gRPC
   * connection-backoff spec JITTER).
   */
  readonly jitter?: number;
  /** Backoff after failures (see {@link DnsBackoffOptions}). */
  readonly backoff?: DnsBackoffOptions;
  /**
   * Shortest time between the start of two resolutions triggered by `refresh()`, ms, from 100 to 3,600,000.
   * Default 5,000: quick enough to follow a rolling restart, slow enough that a burst of dropped connections costs
   * one query. (grpc-js uses 30,000, `grpc.dns_min_time_between_resolutions_ms`.)
   */
  readonly refreshCooldownMs?: number;
  /**
   * Timeout of a query's first try, ms, from 10 to 60,000; c-ares grows it on later tries. Default 2,000 (c-ares'
   * own `DEFAULT_TIMEOUT`).
   */
  readonly timeoutMs?: number;
  /**
   * Tries per name server before a query fails, 1 to 10. Default 2 (c-ares' own is 3): a failed refresh keeps the
   * last good set and is retried with backoff anyway, so failing after ~6 s rather than ~14 s costs nothing and
   * reports trouble sooner.
   */
  readonly tries?: number;
  /**
   * What an authoritative "no such records" answer (NXDOMAIN or NODATA, or SRV records whose targets all have no
   * addresses) does. `'empty'` (default): once confirmed by a second query one backoff step later, the set is
   * emptied: the name says nothing is there (a Kubernetes headless service scaled to zero, a deregistered Consul
   * service), and pod IPs get reused, so sending traffic to the old addresses may reach an unrelated service.
   * `'keep'`: treat it like any failure (reported through `onError`, last-known-good kept): for names whose server
   * is known to answer NXDOMAIN while misconfigured.
   */
  readonly notFound?: DnsNotFoundPolicy;
  /** Largest accepted answer (addresses, or SRV records), 1 to 65,535. Larger answers are rejected. Default 1,000. */
  readonly maxEndpoints?: number;
  /** Time source for refresh timers. Override with `ManualClock` for deterministic tests. Default: system clock. */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for jitter. Override with `seededRandom(n)` for deterministic tests. */
  readonly random?: RandomSource;
}

/** Defaults of {@link DnsResolverOptions} (see each option for its source). */
export const defaultDnsResolverOptions = {
  family: 'ipv4',
  prefer: 'none',
  minRefreshMs: 5_000,
  maxRefreshMs: 60_000,
  jitter: 0.2,
  backoff: { initialMs: 1_000, multiplier: 1.6, maxMs: 120_000 },
  refreshCooldownMs: 5_000,
  timeoutMs: 2_000,
  tries: 2,
  notFound: 'empty',
  maxEndpoints: 1_000,
} as const;

/** Validated options, every default filled in. */
export interface DnsResolverConfig {
  readonly query:
    | { readonly type: 'address'; readonly name: string; readonly port: number }
    | {
        readonly type: 'srv';
        readonly name: string;
      };
  readonly family: DnsFamily;
  readonly prefer: DnsFamilyPreference;
  readonly servers: readonly string[] | undefined;
  readonly minRefreshMs: number;
  readonly maxRefreshMs: number;
  readonly jitter: number;
  readonly backoff: Required<DnsBackoffOptions>;
  readonly refreshCooldownMs: number;
  readonly timeoutMs: number;
  readonly tries: number;
  readonly notFound: DnsNotFoundPolicy;
  readonly maxEndpoints: number;
  readonly clock: Clock;
  readonly random: RandomSource;
}

const KEYS = [
  'name',
  'srv',
  'port',
  'family',
  'prefer',
  'servers',
  'minRefreshMs',
  'maxRefreshMs',
  'jitter',
  'backoff',
  'refreshCooldownMs',
  'timeoutMs',
  'tries',
  'notFound',
  'maxEndpoints',
  'clock',
  'random',
];

/** A DNS name: dot-separated labels of letters, digits, `-` and `_` (SRV service labels), at most 253 characters. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** True when `name` is a syntactically valid DNS name (a trailing dot allowed). */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((label) => LABEL.test(label));
}

/** Validates {@link DnsResolverOptions}; throws {@link ConfigError} naming the field. */
export function parseDnsResolverOptions(options: unknown): DnsResolverConfig {
  const raw = readObject(options, '', KEYS);
  const query = readQuery(raw);
  const family = readEnum(raw, 'family', '', ['ipv4', 'ipv6', 'dual'], defaultDnsResolverOptions.family);
  const prefer = readEnum(raw, 'prefer', '', ['none', 'ipv4', 'ipv6'], defaultDnsResolverOptions.prefer);
  if (prefer !== 'none' && family !== 'dual') {
    throw new ConfigError({ field: 'prefer', allowed: '"none" unless family is "dual"', received: prefer });
  }
  const ms = (key: string, min: number, max: number, fallback: number) =>
    readNumber(raw, key, '', { min, max }, fallback);
  const minRefreshMs = ms('minRefreshMs', 100, 3_600_000, defaultDnsResolverOptions.minRefreshMs);
  const maxRefreshMs = ms(
    'maxRefreshMs',
    100,
    86_400_000,
    Math.max(minRefreshMs, defaultDnsResolverOptions.maxRefreshMs),
  );
  if (maxRefreshMs < minRefreshMs) {
    throw new ConfigError({
      field: 'maxRefreshMs',
      allowed: `a number >= minRefreshMs (${minRefreshMs})`,
      received: maxRefreshMs,
    });
  }
  return {
    query,
    family,
    prefer,
    servers: readServers(raw.servers),
    minRefreshMs,
    maxRefreshMs,
    jitter: readNumber(raw, 'jitter', '', { min: 0, max: 1 }, defaultDnsResolverOptions.jitter),
    backoff: readBackoff(raw.backoff),
    refreshCooldownMs: ms('refreshCooldownMs', 100, 3_600_000, defaultDnsResolverOptions.refreshCooldownMs),
    timeoutMs: readNumber(
      raw,
      'timeoutMs',
      '',
      { integer: true, min: 10, max: 60_000 },
      defaultDnsResolverOptions.timeoutMs,
    ),
    tries: readNumber(raw, 'tries', '', { integer: true, min: 1, max: 10 }, defaultDnsResolverOptions.tries),
    notFound: readEnum(raw, 'notFound', '', ['empty', 'keep'], defaultDnsResolverOptions.notFound),
    maxEndpoints: readNumber(
      raw,
      'maxEndpoints',
      '',
      { integer: true, min: 1, max: 65_535 },
      defaultDnsResolverOptions.maxEndpoints,
    ),
    clock: checkClock(raw.clock),
    random: checkRandom(raw.random),
  };
}

function readQuery(raw: RawOptions): DnsResolverConfig['query'] {
  if ((raw.name === undefined) === (raw.srv === undefined)) {
    throw new ConfigError({ field: 'name', allowed: 'exactly one of `name` or `srv`', received: raw.name });
  }
  const key = raw.name === undefined ? 'srv' : 'name';
  const name = raw[key];
  if (typeof name !== 'string' || !isDnsName(name) || isIP(name) !== 0) {
    throw new ConfigError({
      field: key,
      allowed: 'a DNS name (labels of letters, digits, "-", "_"; at most 253 characters; not an IP literal)',
      received: name,
    });
  }
  if (key === 'srv') {
    if (raw.port !== undefined) {
      throw new ConfigError({
        field: 'port',
        allowed: 'no port with `srv` (the records carry it)',
        received: raw.port,
      });
    }
    return { type: 'srv', name };
  }
  if (raw.port === undefined) {
    throw new ConfigError({
      field: 'port',
      allowed: 'an integer from 1 to 65535 (required with `name`)',
      received: undefined,
    });
  }
  const port = readNumber(raw, 'port', '', { integer: true, min: 1, max: 65_535 }, 0);
  return { type: 'address', name, port };
}

function readServers(raw: unknown): readonly string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError({
      field: 'servers',
      allowed: 'a non-empty array of "ip" or "ip:port"',
      received: raw,
    });
  }
  return raw.map((server, i) => {
    if (typeof server !== 'string' || !isServerAddress(server)) {
      throw new ConfigError({
        field: `servers[${i}]`,
        allowed: '"ip", "ip:port" or "[ipv6]:port" with a port from 1 to 65535',
        received: server,
      });
    }
    return server;
  });
}

function isServerAddress(server: string): boolean {
  if (isIP(server) !== 0) return true;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(server);
  if (match === null) return false;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  return isIP(host) === (match[1] === undefined ? 4 : 6) && port >= 1 && port <= 65_535;
}

function readBackoff(raw: unknown): Required<DnsBackoffOptions> {
  const obj = readObject(raw, 'backoff', ['initialMs', 'multiplier', 'maxMs']);
  const defaults = defaultDnsResolverOptions.backoff;
  const initialMs = readNumber(obj, 'initialMs', 'backoff', { min: 10, max: 3_600_000 }, defaults.initialMs);
  const multiplier = readNumber(obj, 'multiplier', 'backoff', { min: 1, max: 10 }, defaults.multiplier);
  const maxMs = readNumber(
    obj,
    'maxMs',
    'backoff',
    { min: 10, max: 3_600_000 },
    Math.max(initialMs, defaults.maxMs),
  );
  if (maxMs < initialMs) {
    throw new ConfigError({
      field: join('backoff', 'maxMs'),
      allowed: `a number >= backoff.initialMs (${initialMs})`,
      received: maxMs,
    });
  }
  return { initialMs, multiplier, maxMs };
}
