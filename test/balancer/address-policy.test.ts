import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressPolicy, DEFAULT_RESOLVER_DENY } from '../../src/balancer/address-policy.js';
import { Balancer } from '../../src/balancer/balancer.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { channelNames } from '../../src/observability/channels.js';
import { manualResolver } from '../helpers/manual-resolver.js';
import { checkProperty } from '../helpers/properties.js';

const ep = (input: string) => parseEndpoint(input, 'e');

const rejections: object[] = [];
const onRejected = (message: unknown) => rejections.push(message as object);
diagnosticsChannel.subscribe(channelNames.endpointRejected, onRejected);
afterEach(() => {
  rejections.length = 0;
});

describe('AddressPolicy defaults', () => {
  const policy = new AddressPolicy();
  it('denies link-local, unspecified and multicast addresses from resolvers', () => {
    for (const address of [
      '169.254.169.254:80',
      '169.254.0.1:80',
      '[fe80::1]:80',
      '[fe80::1%eth0]:80',
      '[febf::1]:80',
      '0.0.0.0:80',
      '[::]:80',
      '[::ffff:169.254.169.254]:80',
      '224.0.0.1:80',
      '255.255.255.255:80',
      '[ff02::1]:80',
    ]) {
      expect(policy.check(ep(address), 'resolver'), address).toMatch(/^default /);
    }
    expect(policy.check(ep('169.254.169.254:80'), 'resolver')).toBe('default link-local');
  });

  it('allows ordinary, private and loopback addresses and names from resolvers; never filters static lists', () => {
    for (const address of [
      '10.0.0.7:80',
      '127.0.0.1:80',
      '[::1]:80',
      '8.8.8.8:53',
      '[fec0::1]:80',
      'orders:80',
    ]) {
      expect(policy.check(ep(address), 'resolver'), address).toBeUndefined();
    }
    expect(policy.check(ep('169.254.169.254:80'), 'static')).toBeUndefined();
    expect(DEFAULT_RESOLVER_DENY).toEqual(['link-local', 'unspecified', 'multicast']);
  });
});

describe('AddressPolicy rules', () => {
  it('deny beats allow, allow beats the defaults, an allow list excludes everything else', () => {
    const policy = new AddressPolicy({
      allow: ['10.0.0.0/8', '169.254.10.0/24', '*.svc.cluster.local'],
      deny: ['10.9.0.0/16', 'bad.svc.cluster.local'],
    });
    expect(policy.check(ep('10.1.2.3:80'), 'resolver')).toBeUndefined();
    expect(policy.check(ep('10.9.1.1:80'), 'static')).toBe('deny 10.9.0.0/16');
    expect(policy.check(ep('169.254.10.5:80'), 'resolver')).toBeUndefined();
    expect(policy.check(ep('169.254.169.254:80'), 'resolver')).toBe('allow');
    expect(policy.check(ep('orders.svc.cluster.local:80'), 'resolver')).toBeUndefined();
    expect(policy.check(ep('ORDERS.svc.cluster.local:80'), 'resolver')).toBeUndefined();
    expect(policy.check(ep('svc.cluster.local:80'), 'resolver')).toBe('allow');
    expect(policy.check(ep('bad.svc.cluster.local:80'), 'resolver')).toBe('deny bad.svc.cluster.local');
    expect(policy.check(ep('192.168.1.1:80'), 'static')).toBe('allow');
  });

  it('named ranges and IPv4-mapped IPv6', () => {
    const policy = new AddressPolicy({ deny: ['loopback', 'private'], resolverDefaults: false });
    expect(policy.check(ep('127.0.0.1:80'), 'static')).toBe('deny loopback');
    expect(policy.check(ep('[::ffff:127.0.0.1]:80'), 'static')).toBe('deny loopback');
    expect(policy.check(ep('[::1]:80'), 'static')).toBe('deny loopback');
    expect(policy.check(ep('172.20.0.1:80'), 'resolver')).toBe('deny private');
    expect(policy.check(ep('169.254.169.254:80'), 'resolver')).toBeUndefined();
  });

  it('rejects malformed entries with ConfigError naming the field', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      'fe80::/129',
      '::/x',
      '',
      'a b',
      'foo/bar',
      '*.*.x',
      'http://x',
    ]) {
      expect(() => new AddressPolicy({ deny: [bad] }), bad).toThrow(ConfigError);
    }
    expect(() => new AddressPolicy({ deny: ['bad/1'] })).toThrow(/addressPolicy\.deny\[0\]/);
    expect(() => new AddressPolicy({ allow: 'x' as never })).toThrow(/addressPolicy\.allow/);
    expect(() => new AddressPolicy({ nope: 1 } as never)).toThrow(/addressPolicy\.nope/);
    expect(() => new Balancer({ endpoints: [], addressPolicy: { deny: ['10.0.0.0/40'] } })).toThrow(
      ConfigError,
    );
  });
});

describe('AddressPolicy properties', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  it('an IPv4 CIDR matches exactly the addresses sharing its prefix bits, as IPv4 and as IPv4-mapped IPv6', () => {
    checkProperty(
      fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (net, addr, prefix) => {
        const toInt = (o: number[]) => ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const inside = (toInt(net) & mask) === (toInt(addr) & mask);
        const policy = new AddressPolicy({ deny: [`${net.join('.')}/${prefix}`], resolverDefaults: false });
        const host = addr.join('.');
        expect(policy.check(ep(`${host}:80`), 'static') !== undefined).toBe(inside);
        expect(policy.check(ep(`[::ffff:${host}]:80`), 'static') !== undefined).toBe(inside);
      }),
      { seed: 1411, numRuns: 400 },
    );
  });

  it('resolver-provided link-local and unspecified addresses are always rejected, whatever else is allowed', () => {
    const linkLocal = fc.oneof(
      fc.tuple(fc.nat(255), fc.nat(255)).map(([c, d]) => `169.254.${c}.${d}`),
      fc
        .tuple(fc.integer({ min: 0xfe80, max: 0xfebf }), fc.nat(0xffff))
        .map(([a, b]) => `[${a.toString(16)}::${b.toString(16)}]`),
      fc.constantFrom('0.0.0.0', '[::]', '0.1.2.3'),
    );
    checkProperty(
      fc.property(linkLocal, fc.integer({ min: 1, max: 65535 }), (host, port) => {
        expect(
          new AddressPolicy({ deny: ['192.0.2.0/24'] }).check(ep(`${host}:${port}`), 'resolver'),
        ).toMatch(/^default /);
      }),
      { seed: 1412, numRuns: 300 },
    );
  });
});

describe('the address policy in the Balancer', () => {
  it('drops rejected resolver endpoints with an event naming source and rule', () => {
    const resolver = manualResolver();
    const balancer = new Balancer({ resolver, name: 'orders' });
    resolver.listener!.onUpdate({
      endpoints: ['10.0.0.1:80', '169.254.169.254:80'],
      note: 'dns: 2 A records',
    });
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['10.0.0.1:80']);
    expect(rejections).toEqual([
      {
        balancer: 'orders',
        address: '169.254.169.254:80',
        source: 'resolver',
        rule: 'default link-local',
        note: 'dns: 2 A records',
      },
    ]);
    void balancer.close();
  });

  it('keeps the last good set when an update leaves nothing routable; an empty update still applies', () => {
    const resolver = manualResolver();
    const balancer = new Balancer({ resolver });
    const errors: Error[] = [];
    balancer.on('resolver-error', (e) => errors.push(e));
    resolver.listener!.onUpdate({ endpoints: ['10.0.0.1:80'] });
    resolver.listener!.onUpdate({ endpoints: ['169.254.169.254:80', '[fe80::1]:80'] });
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['10.0.0.1:80']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/rejected by the address policy/);
    expect(rejections).toHaveLength(2);
    resolver.listener!.onUpdate({ endpoints: [] });
    expect(balancer.stats().endpoints).toEqual([]);
    void balancer.close();
  });

  it('applies user rules to static lists and setEndpoints, defaults only to resolver sources', () => {
    const balancer = new Balancer({
      endpoints: ['10.0.0.1:80', '10.9.0.1:80', '169.254.169.254:80'],
      addressPolicy: { deny: ['10.9.0.0/16'] },
    });
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['10.0.0.1:80', '169.254.169.254:80']);
    balancer.setEndpoints(['10.0.0.2:80', '169.254.169.254:80'], 'resolver');
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['10.0.0.2:80']);
    expect(rejections.map((r) => (r as { source: string }).source)).toEqual(['static', 'resolver']);
    expect(() => balancer.setEndpoints([], 'dns' as never)).toThrow(ConfigError);
    void balancer.close();
  });
});

describe('property: resolver-provided forbidden addresses are never picked', () => {
  const address = fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(255)).map(([c, d]) => `10.0.${c}.${d}:80`),
    fc.tuple(fc.nat(255), fc.nat(255)).map(([c, d]) => `169.254.${c}.${d}:80`),
    fc.constantFrom('0.0.0.0:80', '[::]:80', '[fe80::1]:80', '[::ffff:169.254.169.254]:80', '224.0.0.9:80'),
  );
  const forbidden = (a: string) =>
    /^(169\.254\.|0\.0\.0\.0|224\.)/.test(a) ||
    a.startsWith('[::]') ||
    a.startsWith('[fe80') ||
    a.includes('ffff');
  it('across any sequence of updates, every pick is allowed and the last good set survives all-bad updates', () => {
    checkProperty(
      fc.property(
        fc.array(fc.uniqueArray(address, { maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        (updates) => {
          const resolver = manualResolver();
          const balancer = new Balancer({ resolver, policy: 'round_robin' });
          let lastGood: string[] = [];
          for (const update of updates) {
            resolver.listener!.onUpdate({ endpoints: update });
            const allowed = update.filter((a) => !forbidden(a));
            if (allowed.length > 0 || update.length === 0 || lastGood.length === 0) lastGood = allowed;
            const listed = balancer.stats().endpoints.filter((e) => e.condition !== 'draining');
            expect(listed.map((e) => e.address).sort()).toEqual(
              lastGood.map((a) => parseEndpoint(a, 'e').address).sort(),
            );
            for (let i = 0; i < 4; i++) {
              const lease = balancer.pick();
              if (lease === undefined) continue;
              expect(forbidden(lease.endpoint.address)).toBe(false);
              lease.release();
            }
          }
          void balancer.close();
        },
      ),
      { seed: 1413, numRuns: 200 },
    );
  });
});
