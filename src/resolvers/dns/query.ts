/**
 * The I/O half of the DNS resolver: queries through a node:dns `Resolver` (c-ares; not `dns.lookup`, which would
 * block a libuv thread and hide TTLs), and classifies failures.
 *
 * Failure classes (see {@link DnsFailureKind}): `ENOTFOUND` (NXDOMAIN) and `ENODATA` (the name exists, no records
 * of this type) are authoritative "nothing here"; everything else (`ESERVFAIL`, `EREFUSED`, `ETIMEOUT`,
 * `ECONNREFUSED`, `EBADRESP`, …) is transient and says nothing about the name.
 */
import type { Resolver as NodeDnsResolver } from 'node:dns/promises';
import { DnsResolutionError } from '../../errors/dns-resolution-error.js';
import type { AddressRecord, FamilyRecords } from './answer.js';
import type { DnsFamily } from './options.js';

const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/** Wraps a node:dns failure in a {@link DnsResolutionError} with its class. */
export function classifyDnsError(
  error: unknown,
  hostname: string,
  rrtype: 'A' | 'AAAA' | 'SRV',
): DnsResolutionError {
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : 'EUNKNOWN';
  return new DnsResolutionError({
    hostname,
    rrtype,
    dnsCode: code,
    kind: NOT_FOUND_CODES.has(code) ? 'not-found' : 'transient',
    cause: error,
  });
}

/**
 * Queries the address records of `hostname` for `family`. A family with no records reads as `[]`; a transient
 * failure of either family fails the whole query (using only the other family would silently drop half the
 * endpoints); when every queried family is not-found, throws the not-found error.
 */
export async function queryAddresses(
  resolver: NodeDnsResolver,
  hostname: string,
  family: DnsFamily,
): Promise<FamilyRecords> {
  const ask = async (rrtype: 'A' | 'AAAA'): Promise<readonly AddressRecord[] | DnsResolutionError> => {
    try {
      return rrtype === 'A'
        ? await resolver.resolve4(hostname, { ttl: true })
        : await resolver.resolve6(hostname, { ttl: true });
    } catch (error) {
      return classifyDnsError(error, hostname, rrtype);
    }
  };
  const [v4, v6] = await Promise.all([
    family === 'ipv6' ? undefined : ask('A'),
    family === 'ipv4' ? undefined : ask('AAAA'),
  ]);
  const failures = [v4, v6].filter((r): r is DnsResolutionError => r instanceof DnsResolutionError);
  const transient = failures.find((f) => f.kind === 'transient');
  if (transient !== undefined) throw transient;
  const asked = (v4 === undefined ? 0 : 1) + (v6 === undefined ? 0 : 1);
  if (failures.length === asked) throw failures[0]!;
  return {
    ...(v4 === undefined ? {} : { ipv4: v4 instanceof DnsResolutionError ? [] : v4 }),
    ...(v6 === undefined ? {} : { ipv6: v6 instanceof DnsResolutionError ? [] : v6 }),
  };
}

/** Queries SRV records; the raw result goes through `checkSrvRecords` before anything trusts it. */
export async function querySrv(resolver: NodeDnsResolver, hostname: string): Promise<unknown> {
  try {
    return await resolver.resolveSrv(hostname);
  } catch (error) {
    throw classifyDnsError(error, hostname, 'SRV');
  }
}

/**
 * Resolves each distinct SRV target, at most `concurrency` queries at a time (an SRV set of a few hundred targets
 * must not become a burst of a few hundred simultaneous queries). A target that is not found contributes nothing;
 * a transient failure fails the whole resolution, so the last good set is kept rather than shrunk.
 */
export async function queryTargets(
  resolver: NodeDnsResolver,
  names: readonly string[],
  family: DnsFamily,
  concurrency: number,
): Promise<{ targets: Map<string, FamilyRecords>; missing: string[] }> {
  const distinct = [...new Set(names)];
  const targets = new Map<string, FamilyRecords>();
  const missing: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < distinct.length) {
      const name = distinct[next++]!;
      try {
        targets.set(name, await queryAddresses(resolver, name, family));
      } catch (error) {
        if (error instanceof DnsResolutionError && error.kind === 'not-found') missing.push(name);
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, distinct.length) }, worker));
  return { targets, missing };
}
