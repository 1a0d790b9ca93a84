import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { parseEndpoint, parseEndpoints } from '../../src/endpoint.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { checkProperty } from '../helpers/properties.js';

describe('endpoint host validation (defect 6)', () => {
  const bad = [
    '[::1',
    '::1]',
    '[[::1]]',
    'orders.internal@127.0.0.1',
    'user:pw@host',
    'a/b',
    'host name',
    'host\r\nx-injected: 1',
    'host\n',
    '',
    'a..b',
    '-leading.dash',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
    'host%zone',
    'exa mple.com',
    'http://host',
    '[fe80::1%eth 0]',
  ];
  for (const host of bad) {
    it(`rejects host ${JSON.stringify(host)} with ConfigError naming the field`, () => {
      expect(() => parseEndpoint({ host, port: 80 }, 'endpoints[0]')).toThrow(ConfigError);
      expect(() => parseEndpoint({ host, port: 80 }, 'endpoints[0]')).toThrow(/endpoints\[0\]\.host/);
    });
  }

  it('rejects malformed strings', () => {
    for (const input of ['[::1:8080', 'a@b:80', 'a/b:80', 'a b:80', 'host:80\r\n']) {
      expect(() => parseEndpoint(input, 'e')).toThrow(ConfigError);
    }
  });

  it('canonicalises: IPv6 compressed lower-case form, lower-case names', () => {
    expect(parseEndpoint({ host: '[0:0:0:0:0:0:0:1]', port: 8080 }, 'e').address).toBe('[::1]:8080');
    expect(parseEndpoint('[0:0:0:0:0:0:0:1]:8080', 'e').address).toBe('[::1]:8080');
    expect(parseEndpoint({ host: '2001:DB8:0:0:0:0:0:1', port: 1 }, 'e').host).toBe('2001:db8::1');
    expect(parseEndpoint('LOCALHOST:80', 'e').address).toBe('localhost:80');
    expect(parseEndpoint('Orders.Internal:80', 'e').host).toBe('orders.internal');
    expect(parseEndpoint('10.0.0.7:80', 'e').address).toBe('10.0.0.7:80');
    expect(parseEndpoint({ host: 'fe80::1%eth0', port: 80 }, 'e').address).toBe('[fe80::1%eth0]:80');
    expect(parseEndpoint('_grpc._tcp.svc:80', 'e').host).toBe('_grpc._tcp.svc');
  });

  it('treats differently written forms of one address as one endpoint', () => {
    expect(() => parseEndpoints(['[::1]:80', '[0:0:0:0:0:0:0:1]:80'], 'endpoints')).toThrow(
      /an address not already listed/,
    );
    expect(() => parseEndpoints(['localhost:80', 'LOCALHOST:80'], 'endpoints')).toThrow(
      /an address not already listed/,
    );
    const balancer = new Balancer({ endpoints: ['[0:0:0:0:0:0:0:1]:80'] });
    balancer.setEndpoints(['[::1]:80']);
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['[::1]:80']);
    void balancer.close();
  });
});

describe('endpoint parsing properties', () => {
  const ipv6 = fc.ipV6();
  it('an IPv6 endpoint and its canonical form are the same endpoint; canonical forms are fixed points', () => {
    checkProperty(
      fc.property(ipv6, fc.integer({ min: 1, max: 65535 }), fc.boolean(), (host, port, upper) => {
        const written = upper ? host.toUpperCase() : host;
        const a = parseEndpoint({ host: written, port }, 'e');
        const b = parseEndpoint(a.address, 'e');
        expect(b.address).toBe(a.address);
        expect(b.host).toBe(a.host);
        expect(a.host).toBe(a.host.toLowerCase());
        expect(a.host).not.toMatch(/(^|:)0+[0-9a-f]/); // no leading zeros in groups
      }),
      { seed: 1401, numRuns: 300 },
    );
  });

  it('every host either parses to a canonical, injection-free address or is a ConfigError', () => {
    checkProperty(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        let endpoint: ReturnType<typeof parseEndpoint>;
        try {
          endpoint = parseEndpoint({ host, port }, 'e');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return;
        }
        expect(endpoint.address).not.toMatch(/[\s@/\\?#]/);
        expect(parseEndpoint(endpoint.address, 'e').address).toBe(endpoint.address);
      }),
      { seed: 1402, numRuns: 500 },
    );
  });

  it('domain names parse, lower-cased, and round-trip through their address', () => {
    checkProperty(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        const e = parseEndpoint({ host: host.toUpperCase(), port }, 'e');
        expect(e.host).toBe(host.toLowerCase());
        expect(parseEndpoint(e.address, 'e')).toEqual(e);
      }),
      { seed: 1403, numRuns: 300 },
    );
  });
});

describe('parseEndpoint checks values before naming fields (issue 17)', () => {
  // Field names (`e[0].port`) are built only to throw, so valid input never pays for them: the rules themselves are
  // checked here against an independent statement of them, on valid, invalid and boundary values.
  const anyValue = fc.oneof(
    fc.integer({ min: -2, max: 70000 }),
    fc.double(),
    fc.constantFrom(
      undefined,
      null,
      '80',
      0,
      1,
      1.5,
      127,
      128,
      65535,
      65536,
      1e6,
      1e6 + 1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ),
  );
  const host = fc.oneof(fc.ipV4(), fc.constantFrom('010.0.0.1', '1.2.3', '256.0.0.1', ''), fc.domain());
  const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
  const isWeight = (v: unknown) =>
    v === undefined || (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 1e6);
  const isPriority = (v: unknown) =>
    v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 127);
  const firstBadField = (h: string, port: unknown, weight: unknown, priority: unknown) => {
    if (h === '') return 'host';
    if (!isPort(port)) return 'port';
    if (!isWeight(weight)) return 'weight';
    if (!isPriority(priority)) return 'priority';
    return undefined;
  };
  it('accepts exactly the valid hosts, ports, weights and priorities, and names the first bad field', () => {
    checkProperty(
      fc.property(
        host,
        anyValue,
        fc.option(anyValue, { nil: undefined }),
        fc.option(anyValue, { nil: undefined }),
        (h, port, weight, priority) => {
          const input = {
            host: h,
            port,
            ...(weight === undefined ? {} : { weight }),
            ...(priority === undefined ? {} : { priority }),
          };
          const bad = firstBadField(h, port, weight, priority);
          let result: unknown;
          try {
            result = parseEndpoint(input, 'e[0]');
          } catch (error) {
            result = error;
          }
          if (bad !== undefined) {
            expect(result).toBeInstanceOf(ConfigError);
            expect((result as ConfigError).message).toContain(`e[0].${bad}`);
            return;
          }
          // The remaining failure: a host that is no IPv4, IPv6 or DNS name ('1.2.3' is a valid DNS name).
          if (result instanceof ConfigError) {
            expect(result.message).toContain('e[0].host');
            return;
          }
          const e = result as ReturnType<typeof parseEndpoint>;
          expect(Object.isFrozen(e)).toBe(true);
          expect(e).toMatchObject({ port, weight: weight ?? 1, priority: priority ?? 0, health: 'unknown' });
          expect(e.address).toBe(`${e.host}:${port}`);
        },
      ),
      { seed: 1701, numRuns: 500 },
    );
  });

  it('still names the field of a bad value in a list', () => {
    expect(() =>
      parseEndpoints(
        [
          { host: '10.0.0.1', port: 80 },
          { host: '10.0.0.2', port: 0 },
        ],
        'endpoints',
      ),
    ).toThrow(/endpoints\[1\]\.port/);
    expect(() => parseEndpoints([{ host: '10.0.0.2', port: 80, weight: 0 }], 'endpoints')).toThrow(
      /endpoints\[0\]\.weight/,
    );
  });
});
