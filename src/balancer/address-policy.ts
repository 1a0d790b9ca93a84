/**
 * The address policy: which endpoint addresses a Balancer may send requests to, whoever supplied them.
 *
 * A DNS answer or a control-plane update is data from outside the process. Pointed at `169.254.169.254` (the cloud
 * metadata service) or another internal address, it would have requests — Authorization headers included — sent
 * there. The policy checks every endpoint of every source before the Balancer takes it:
 *
 *   endpoint ─▶ user `deny` match? ──yes──▶ rejected (rule `deny <entry>`)
 *                 │ no
 *                 ▼
 *             user `allow` match? ──yes──▶ accepted (an explicit allow overrides the defaults)
 *                 │ no
 *                 ▼
 *             `allow` given? ──yes──▶ rejected (rule `allow`: not in the allow list)
 *                 │ no
 *                 ▼
 *             source is a resolver and its address is in a default-denied range? ──yes──▶ rejected (`default <range>`)
 *                 │ no
 *                 ▼
 *             accepted
 *
 * Entries are CIDRs (`10.0.0.0/8`, `fd00::/8`), single addresses, named ranges (`loopback`, `private`,
 * `link-local`, `unspecified`, `multicast`), or host-name patterns (`orders.internal`, `*.svc.cluster.local`). CIDRs
 * match IP endpoints (IPv4-mapped IPv6 addresses match IPv4 rules); patterns match name endpoints. Names are checked
 * as names: what a name resolves to when undici connects is not checked here (docs/security.md).
 */
import { BlockList, isIP } from 'node:net';
import { join } from '../config/validate.js';
import type { Endpoint } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';

/** Where an endpoint came from: given by the application (`static`) or by a resolver or control plane. */
export type EndpointSource = 'static' | 'resolver';

/** Options of the address policy (`BalancerOptions.addressPolicy`). */
export interface AddressPolicyOptions {
  /**
   * When non-empty, only endpoints matching an entry are accepted (from every source). An entry here also lifts the
   * resolver defaults for what it matches (e.g. `allow: ['169.254.10.0/24']` for a link-local service). Default: none.
   */
  readonly allow?: readonly string[];
  /** Endpoints matching an entry are rejected, from every source, whatever `allow` says. Default: none. */
  readonly deny?: readonly string[];
  /**
   * Apply {@link DEFAULT_RESOLVER_DENY} to resolver-provided endpoints. Default `true`. Static endpoints (the
   * application's own list) are never subject to the defaults.
   */
  readonly resolverDefaults?: boolean;
}

/** Named ranges usable as entries. */
export const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  /** RFC 1122 / RFC 4291 loopback. */
  loopback: ['127.0.0.0/8', '::1/128'],
  /** RFC 1918 private networks, RFC 6598 shared address space, RFC 4193 unique local IPv6. */
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
  /** RFC 3927 / RFC 4291 link-local: 169.254.169.254 is the cloud metadata service. */
  'link-local': ['169.254.0.0/16', 'fe80::/10'],
  /** "This host"/unspecified addresses: connecting to them reaches the local machine on many systems. */
  unspecified: ['0.0.0.0/8', '::/128'],
  /** Multicast and limited broadcast: never a unicast HTTP/gRPC server. */
  multicast: ['224.0.0.0/4', '255.255.255.255/32', 'ff00::/8'],
});

/**
 * What resolver-provided endpoints may not be, by default: link-local (the metadata service), unspecified, and
 * multicast/broadcast addresses. Loopback and private ranges stay allowed — service discovery legitimately returns
 * them (sidecars, cluster networks) — deny them with `deny: ['loopback', 'private']` where they should not appear.
 */
export const DEFAULT_RESOLVER_DENY: readonly string[] = Object.freeze([
  'link-local',
  'unspecified',
  'multicast',
]);

/** One entry, compiled. */
interface Rule {
  /** The entry as the user wrote it (named in rejection events). */
  readonly entry: string;
  matches(endpoint: Endpoint): boolean;
}

/** A rejected endpoint and why. */
export interface Rejection {
  readonly address: string;
  /** The rule that rejected it: `deny <entry>`, `allow` (matched no allow entry) or `default <range>`. */
  readonly rule: string;
}

/** A compiled address policy. Immutable; checks run on endpoint updates, never on the request path. */
export class AddressPolicy {
  readonly #allow: readonly Rule[];
  readonly #deny: readonly Rule[];
  readonly #defaults: readonly Rule[];

  constructor(options: AddressPolicyOptions = {}, path = 'addressPolicy') {
    if (typeof options !== 'object' || options === null || Array.isArray(options))
      throw new ConfigError({ field: path, allowed: 'an object', received: options });
    for (const key of Object.keys(options)) {
      if (!['allow', 'deny', 'resolverDefaults'].includes(key))
        throw new ConfigError({
          field: join(path, key),
          allowed: 'allow, deny or resolverDefaults',
          received: key,
        });
    }
    this.#allow = compileList(options.allow, join(path, 'allow'));
    this.#deny = compileList(options.deny, join(path, 'deny'));
    const defaults = options.resolverDefaults ?? true;
    if (typeof defaults !== 'boolean')
      throw new ConfigError({
        field: join(path, 'resolverDefaults'),
        allowed: 'a boolean',
        received: defaults,
      });
    this.#defaults = defaults ? compileList(DEFAULT_RESOLVER_DENY, 'defaults') : [];
  }

  /** `undefined` when `endpoint` from `source` is accepted, else the rule that rejects it. */
  check(endpoint: Endpoint, source: EndpointSource): string | undefined {
    const denied = this.#deny.find((rule) => rule.matches(endpoint));
    if (denied !== undefined) return `deny ${denied.entry}`;
    if (this.#allow.some((rule) => rule.matches(endpoint))) return undefined;
    if (this.#allow.length > 0) return 'allow';
    if (source === 'resolver') {
      const rule = this.#defaults.find((r) => r.matches(endpoint));
      if (rule !== undefined) return `default ${rule.entry}`;
    }
    return undefined;
  }

  /** Splits `endpoints` into the accepted ones and the rejections. */
  filter(
    endpoints: readonly Endpoint[],
    source: EndpointSource,
  ): { kept: Endpoint[]; rejected: Rejection[] } {
    const kept: Endpoint[] = [];
    const rejected: Rejection[] = [];
    for (const endpoint of endpoints) {
      const rule = this.check(endpoint, source);
      if (rule === undefined) kept.push(endpoint);
      else rejected.push({ address: endpoint.address, rule });
    }
    return { kept, rejected };
  }
}

function compileList(entries: unknown, path: string): Rule[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries))
    throw new ConfigError({
      field: path,
      allowed: 'an array of CIDRs, range names or host patterns',
      received: entries,
    });
  return entries.map((entry, i) => compileEntry(entry, `${path}[${i}]`));
}

const HOST_PATTERN =
  /^(\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Compiles one entry: a named range, a CIDR or address, or a host-name pattern. */
export function compileEntry(entry: unknown, path: string): Rule {
  const allowed = `a CIDR (10.0.0.0/8), an IP address, one of ${Object.keys(NAMED_RANGES).join(', ')}, or a host pattern (*.example.com)`;
  if (typeof entry !== 'string' || entry === '')
    throw new ConfigError({ field: path, allowed, received: entry });
  const named = NAMED_RANGES[entry];
  if (named !== undefined && Object.hasOwn(NAMED_RANGES, entry)) return ipRule(entry, named, path, allowed);
  if (isIP(entry) !== 0 || entry.includes('/')) return ipRule(entry, [entry], path, allowed);
  const pattern = entry.toLowerCase();
  if (!HOST_PATTERN.test(pattern)) throw new ConfigError({ field: path, allowed, received: entry });
  return { entry, matches: (endpoint) => isIP(endpoint.host) === 0 && hostMatches(pattern, endpoint.host) };
}

function ipRule(entry: string, cidrs: readonly string[], path: string, allowed: string): Rule {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash === -1 ? cidr : cidr.slice(0, slash);
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : Number(cidr.slice(slash + 1));
    if (family === 0 || !/^\d{1,3}$/.test(String(prefix)) || !(prefix >= 0 && prefix <= max))
      throw new ConfigError({ field: path, allowed, received: entry });
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    entry,
    matches: (endpoint) => {
      const family = isIP(endpoint.host);
      if (family === 0) return false;
      // Zone ids (fe80::1%eth0) do not change which range an address is in.
      const percent = endpoint.host.indexOf('%');
      const address = percent === -1 ? endpoint.host : endpoint.host.slice(0, percent);
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** `*.example.com` matches names below example.com (not example.com itself); other patterns match exactly. */
function hostMatches(pattern: string, host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
  return name === pattern;
}
