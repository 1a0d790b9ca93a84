/**
 * The `switchyard-dns:` scheme: switchyard's {@link DnsResolver} behind grpc-js channels.
 *
 * Targets follow grpc-js's own `dns:` grammar, with SRV added:
 *
 * - `switchyard-dns:///orders.internal:50051` — A records of `orders.internal`, port 50051 (required: a DNS name has
 *   no port of its own, and guessing 443 as gRPC does hides mistakes);
 * - `switchyard-dns:///_grpc._tcp.orders.internal` — SRV records (a name whose first label starts with `_`):
 *   targets, ports, priorities and weights come from the records;
 * - `switchyard-dns://10.0.0.53:53/orders.internal:50051` — ask that name server instead of the system's.
 *
 * Unlike grpc-js's `dns:` (re-resolves at most every 30 s, only when a connection drops), the DnsResolver follows
 * record TTLs within bounds, keeps the last good set on failures, and empties the set only on a confirmed NXDOMAIN;
 * see docs/resolvers.md for its options. {@link dnsResolverFactory} sets them for a scheme you register yourself.
 */
import { ConfigError } from '../errors/config-error.js';
import { DnsResolver } from '../resolvers/dns/dns-resolver.js';
import type { DnsResolverOptions } from '../resolvers/dns/options.js';
import type { ResolverFactory } from './resolver-schemes.js';

/** The scheme `setup()` registers. */
export const DNS_SCHEME = 'switchyard-dns';

/** Options a factory applies to every resolver it builds; the target supplies `name`/`port` or `srv` and `servers`. */
export type DnsSchemeOptions = Omit<DnsResolverOptions, 'name' | 'port' | 'srv'>;

/**
 * A factory for `switchyard-dns:`-style targets with `options` applied (e.g. `{ family: 'dual' }`):
 * `registerResolverScheme('my-dns', dnsResolverFactory({ minRefreshMs: 1_000 }))`.
 */
export function dnsResolverFactory(options: DnsSchemeOptions = {}): ResolverFactory {
  return (target) => {
    const servers = target.authority === '' ? {} : { servers: [target.authority] };
    const path = target.path;
    if (path.startsWith('_')) return new DnsResolver({ ...options, ...servers, srv: path });
    const match = /^(.+):(\d{1,5})$/.exec(path);
    if (match === null) {
      throw new ConfigError({
        field: 'target',
        allowed: '"name:port" (A/AAAA records) or "_service._proto.name" (SRV records)',
        received: path,
      });
    }
    return new DnsResolver({ ...options, ...servers, name: match[1], port: Number(match[2]) });
  };
}
