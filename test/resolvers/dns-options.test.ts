/** DnsResolver option validation: every bad option is a ConfigError naming the field and the allowed range. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { DnsResolver } from '../../src/resolvers/dns/dns-resolver.js';
import {
  type DnsResolverOptions,
  defaultDnsResolverOptions,
  isDnsName,
  parseDnsResolverOptions,
} from '../../src/resolvers/dns/options.js';

const make = (options: unknown) => () => new DnsResolver(options as DnsResolverOptions);

describe('DnsResolver options', () => {
  it('fills in the documented defaults', () => {
    const config = parseDnsResolverOptions({ name: 'orders.internal', port: 8080 });
    expect(config.query).toEqual({ type: 'address', name: 'orders.internal', port: 8080 });
    expect(config).toMatchObject({
      family: defaultDnsResolverOptions.family,
      prefer: 'none',
      servers: undefined,
      minRefreshMs: 5_000,
      maxRefreshMs: 60_000,
      jitter: 0.2,
      backoff: { initialMs: 1_000, multiplier: 1.6, maxMs: 120_000 },
      refreshCooldownMs: 5_000,
      timeoutMs: 2_000,
      tries: 2,
      notFound: 'empty',
      maxEndpoints: 1_000,
    });
    expect(parseDnsResolverOptions({ srv: '_http._tcp.orders.internal' }).query).toEqual({
      type: 'srv',
      name: '_http._tcp.orders.internal',
    });
  });

  it.each([
    [{}, 'name: expected exactly one of `name` or `srv`'],
    [{ name: 'a.test', srv: '_x._tcp.a.test', port: 1 }, 'name: expected exactly one of `name` or `srv`'],
    [{ name: 'a.test' }, 'port: expected an integer from 1 to 65535 (required with `name`), got undefined'],
    [{ name: 'a.test', port: 0 }, 'port: expected an integer from 1 to 65535, got 0'],
    [{ name: 'a.test', port: 80.5 }, 'port: expected an integer from 1 to 65535, got 80.5'],
    [{ srv: '_x._tcp.a.test', port: 80 }, 'port: expected no port with `srv` (the records carry it), got 80'],
    [{ name: '10.0.0.1', port: 80 }, 'name: expected a DNS name'],
    [{ name: 'bad name.test', port: 80 }, 'name: expected a DNS name'],
    [{ name: `${'a'.repeat(64)}.test`, port: 80 }, 'name: expected a DNS name'],
    [{ srv: '', port: undefined }, 'srv: expected a DNS name'],
    [
      { name: 'a.test', port: 80, family: 'ipv5' },
      'family: expected one of "ipv4", "ipv6", "dual", got "ipv5"',
    ],
    [
      { name: 'a.test', port: 80, prefer: 'ipv6' },
      'prefer: expected "none" unless family is "dual", got "ipv6"',
    ],
    [
      { name: 'a.test', port: 80, family: 'dual', prefer: 'v6' },
      'prefer: expected one of "none", "ipv4", "ipv6"',
    ],
    [{ name: 'a.test', port: 80, servers: [] }, 'servers: expected a non-empty array of "ip" or "ip:port"'],
    [
      { name: 'a.test', port: 80, servers: ['dns.google'] },
      'servers[0]: expected "ip", "ip:port" or "[ipv6]:port"',
    ],
    [{ name: 'a.test', port: 80, servers: ['1.1.1.1:0'] }, 'servers[0]: expected'],
    [{ name: 'a.test', port: 80, servers: ['1.1.1.1', '[1.1.1.1]:53'] }, 'servers[1]: expected'],
    [
      { name: 'a.test', port: 80, minRefreshMs: 50 },
      'minRefreshMs: expected a number from 100 to 3600000, got 50',
    ],
    [
      { name: 'a.test', port: 80, minRefreshMs: 10_000, maxRefreshMs: 9_000 },
      'maxRefreshMs: expected a number >= minRefreshMs (10000), got 9000',
    ],
    [{ name: 'a.test', port: 80, jitter: 1.5 }, 'jitter: expected a number from 0 to 1, got 1.5'],
    [{ name: 'a.test', port: 80, jitter: Number.NaN }, 'jitter: expected a number from 0 to 1, got NaN'],
    [
      { name: 'a.test', port: 80, backoff: { initialMs: 5 } },
      'backoff.initialMs: expected a number from 10 to 3600000, got 5',
    ],
    [
      { name: 'a.test', port: 80, backoff: { multiplier: 0.5 } },
      'backoff.multiplier: expected a number from 1 to 10, got 0.5',
    ],
    [
      { name: 'a.test', port: 80, backoff: { initialMs: 500, maxMs: 100 } },
      'backoff.maxMs: expected a number >= backoff.initialMs (500), got 100',
    ],
    [
      { name: 'a.test', port: 80, backoff: { factor: 2 } },
      'backoff.factor: expected one of the known options',
    ],
    [
      { name: 'a.test', port: 80, refreshCooldownMs: 0 },
      'refreshCooldownMs: expected a number from 100 to 3600000, got 0',
    ],
    [{ name: 'a.test', port: 80, timeoutMs: 5 }, 'timeoutMs: expected an integer from 10 to 60000, got 5'],
    [{ name: 'a.test', port: 80, tries: 0 }, 'tries: expected an integer from 1 to 10, got 0'],
    [
      { name: 'a.test', port: 80, notFound: 'ignore' },
      'notFound: expected one of "empty", "keep", got "ignore"',
    ],
    [
      { name: 'a.test', port: 80, maxEndpoints: 0 },
      'maxEndpoints: expected an integer from 1 to 65535, got 0',
    ],
    [{ name: 'a.test', port: 80, clock: Date }, 'clock: expected an object with now() and setTimer(fn, ms)'],
    [{ name: 'a.test', port: 80, random: 4 }, 'random: expected a function returning [0, 1), got 4'],
    [{ name: 'a.test', port: 80, ttl: 5 }, 'ttl: expected one of the known options'],
  ])('rejects %j', (options, message) => {
    expect(make(options)).toThrow(ConfigError);
    expect(make(options)).toThrow(message);
  });

  it('accepts IPv4/IPv6 servers with and without ports, and a trailing-dot name', () => {
    const resolver = new DnsResolver({
      name: 'orders.internal.',
      port: 80,
      servers: ['127.0.0.1', '127.0.0.1:5353', '::1', '[::1]:5353'],
      clock: new ManualClock(),
    });
    resolver.close();
    expect(isDnsName('_http._tcp.orders.internal')).toBe(true);
    expect(isDnsName('-bad.test')).toBe(false);
    expect(isDnsName(`${'a.'.repeat(127)}a`)).toBe(false);
  });
});
