/**
 * The answer → endpoints conversion, without a server: exact mappings first, then fast-check properties that feed
 * it garbage (malformed, oversized, duplicate, zero-weight records) and check it never crashes, never produces an
 * endpoint the Balancer would reject, and never turns garbage into an empty set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PRIORITY, parseEndpoints } from '../../src/endpoint.js';
import { DnsAnswerError, isDnsAnswerError } from '../../src/errors/dns-answer-error.js';
import {
  addressAnswerToEndpoints,
  checkSrvRecords,
  type DnsAnswerOptions,
  type DnsEndpointSet,
  endpointsFingerprint,
  type FamilyRecords,
  SRV_ZERO_WEIGHT,
  type SrvRecord,
  srvAnswerToEndpoints,
} from '../../src/resolvers/dns/answer.js';
import { checkProperty } from '../helpers/properties.js';

const options: DnsAnswerOptions = { hostname: 'orders.test', prefer: 'none', maxEndpoints: 1_000 };
const srvOptions: DnsAnswerOptions = { ...options, hostname: '_http._tcp.orders.test' };
const a = (address: string, ttl = 30) => ({ address, ttl });

describe('A/AAAA answers', () => {
  it('maps addresses to endpoints sorted by address, weight 1, priority 0, ttl the smallest', () => {
    const set = addressAnswerToEndpoints(8080, { ipv4: [a('10.0.0.2', 30), a('10.0.0.1', 10)] }, options);
    expect(set.ttlSeconds).toBe(10);
    expect(set.endpoints).toEqual([
      { host: '10.0.0.1', port: 8080, weight: 1, priority: 0, metadata: { dnsName: 'orders.test' } },
      { host: '10.0.0.2', port: 8080, weight: 1, priority: 0, metadata: { dnsName: 'orders.test' } },
    ]);
  });

  it('finds duplicates on the canonical IPv6 form (`0:0::1` and `::1` are one endpoint)', () => {
    const set = addressAnswerToEndpoints(80, { ipv6: [a('0:0::1'), a('::1'), a('FD00::A')] }, options);
    expect(set.endpoints.map((e) => e.host)).toEqual(['::1', 'fd00::a']);
    expect(() => parseEndpoints(set.endpoints, 'endpoints')).not.toThrow();
  });

  it('puts both families in one level by default and the non-preferred one level lower with `prefer`', () => {
    const records: FamilyRecords = { ipv4: [a('10.0.0.1')], ipv6: [a('fd00::1')] };
    const level = (set: DnsEndpointSet) => Object.fromEntries(set.endpoints.map((e) => [e.host, e.priority]));
    expect(level(addressAnswerToEndpoints(80, records, options))).toEqual({ '10.0.0.1': 0, 'fd00::1': 0 });
    expect(level(addressAnswerToEndpoints(80, records, { ...options, prefer: 'ipv6' }))).toEqual({
      'fd00::1': 0,
      '10.0.0.1': 1,
    });
    // Only the non-preferred family present: it is level 0 (levels are contiguous).
    expect(
      level(
        addressAnswerToEndpoints(80, { ipv4: [a('10.0.0.1')], ipv6: [] }, { ...options, prefer: 'ipv6' }),
      ),
    ).toEqual({ '10.0.0.1': 0 });
  });

  it('merges duplicate addresses and reads a TTL with the top bit set as 0 (RFC 2181)', () => {
    const set = addressAnswerToEndpoints(80, { ipv4: [a('10.0.0.1', 2 ** 31), a('10.0.0.1', 5)] }, options);
    expect(set.endpoints).toHaveLength(1);
    expect(set.ttlSeconds).toBe(0);
  });

  it('rejects a record of the wrong family, a bad TTL, or more records than maxEndpoints', () => {
    expect(() => addressAnswerToEndpoints(80, { ipv4: [a('fd00::1')] }, options)).toThrow(/A\[0\]\.address/);
    expect(() => addressAnswerToEndpoints(80, { ipv6: [a('10.0.0.1')] }, options)).toThrow(
      /AAAA\[0\]\.address/,
    );
    expect(() => addressAnswerToEndpoints(80, { ipv4: [a('10.0.0.1', -1)] }, options)).toThrow(
      DnsAnswerError,
    );
    expect(() => addressAnswerToEndpoints(80, { ipv4: [a('10.0.0.1', 1.5)] }, options)).toThrow(/ttl/);
    const many = Array.from({ length: 3 }, (_, i) => a(`10.0.0.${i + 1}`));
    expect(() => addressAnswerToEndpoints(80, { ipv4: many }, { ...options, maxEndpoints: 2 })).toThrow(
      /at most 2 records \(maxEndpoints\)/,
    );
  });
});

describe('SRV answers', () => {
  const targets = new Map<string, FamilyRecords>([
    ['a.test', { ipv4: [a('10.0.0.1', 20)] }],
    ['b.test', { ipv4: [a('10.0.0.2', 7), a('10.0.0.3', 9)] }],
    ['c.test', { ipv4: [a('10.0.0.4')] }],
    ['d.test', { ipv4: [a('10.0.0.5')] }],
  ]);

  it('numbers SRV priorities into contiguous levels and splits a target weight over its addresses', () => {
    const records = checkSrvRecords(
      [
        { name: 'a.test', port: 8081, priority: 10, weight: 30 },
        { name: 'b.test', port: 8082, priority: 10, weight: 60 },
        { name: 'c.test', port: 8083, priority: 500, weight: 5 },
      ],
      srvOptions,
    );
    const set = srvAnswerToEndpoints(records, targets, srvOptions);
    expect(set.endpoints.map((e) => [`${e.host}:${e.port}`, e.priority, e.weight])).toEqual([
      ['10.0.0.1:8081', 0, 30],
      ['10.0.0.2:8082', 0, 30],
      ['10.0.0.3:8082', 0, 30],
      ['10.0.0.4:8083', 1, 5],
    ]);
    expect(set.ttlSeconds).toBe(7);
    expect(set.endpoints[0]!.metadata).toEqual({
      dnsName: '_http._tcp.orders.test',
      srvTarget: 'a.test',
      srvPriority: '10',
      srvWeight: '30',
    });
  });

  it('gives weight 0 a very small share among positive weights, and an equal share when all are 0', () => {
    const mixed = checkSrvRecords(
      [
        { name: 'a.test', port: 80, priority: 0, weight: 1 },
        { name: 'c.test', port: 80, priority: 0, weight: 0 },
        { name: 'd.test', port: 80, priority: 1, weight: 0 },
      ],
      srvOptions,
    );
    const weights = srvAnswerToEndpoints(mixed, targets, srvOptions).endpoints.map((e) => [e.host, e.weight]);
    expect(weights).toEqual([
      ['10.0.0.1', 1],
      ['10.0.0.4', SRV_ZERO_WEIGHT],
      ['10.0.0.5', 1],
    ]);
  });

  it('merges records that land on the same address: best level, summed weights', () => {
    const records = checkSrvRecords(
      [
        { name: 'a.test', port: 80, priority: 0, weight: 10 },
        { name: 'a.test', port: 80, priority: 0, weight: 20 },
        { name: 'a.test', port: 80, priority: 5, weight: 99 },
        { name: 'c.test', port: 80, priority: 0, weight: 30 },
      ],
      srvOptions,
    );
    const set = srvAnswerToEndpoints(records, targets, srvOptions);
    expect(set.endpoints.map((e) => [e.host, e.priority, e.weight])).toEqual([
      ['10.0.0.1', 0, 30],
      ['10.0.0.4', 0, 30],
    ]);
  });

  it('drops "." targets (not available) and targets without addresses', () => {
    expect(checkSrvRecords([{ name: '', port: 1, priority: 0, weight: 0 }], srvOptions)).toEqual([]);
    expect(checkSrvRecords([{ name: '.', port: 0, priority: 0, weight: 0 }], srvOptions)).toEqual([]);
    const records = checkSrvRecords([{ name: 'gone.test', port: 80, priority: 0, weight: 1 }], srvOptions);
    expect(srvAnswerToEndpoints(records, targets, srvOptions)).toEqual({
      endpoints: [],
      ttlSeconds: undefined,
    });
  });

  it('rejects malformed records with a DnsAnswerError naming the record', () => {
    const bad = [
      [{ name: 'a.test', port: 0, priority: 0, weight: 1 }, /SRV\[0\]\.port/],
      [{ name: 'a.test', port: 80, priority: -1, weight: 1 }, /SRV\[0\]\.priority/],
      [{ name: 'a.test', port: 80, priority: 0, weight: 70_000 }, /SRV\[0\]\.weight/],
      [{ name: 'a..test', port: 80, priority: 0, weight: 1 }, /SRV\[0\]\.name/],
      [{ name: '10.0.0.1', port: 80, priority: 0, weight: 1 }, /SRV\[0\]\.name/],
      [null, /SRV\[0\]/],
    ] as const;
    for (const [record, message] of bad) {
      expect(() => checkSrvRecords([record], srvOptions)).toThrow(message);
    }
    expect(() => checkSrvRecords('nope', srvOptions)).toThrow(DnsAnswerError);
  });

  it('rejects more than 128 priority levels rather than merging them silently', () => {
    const records: SrvRecord[] = Array.from({ length: MAX_PRIORITY + 2 }, (_, i) => ({
      name: `t${i}.test`,
      port: 80,
      priority: i,
      weight: 1,
    }));
    const many = new Map(records.map((r, i) => [r.name, { ipv4: [a(`10.1.${i >> 8}.${i & 255}`)] }]));
    expect(() => srvAnswerToEndpoints(records, many, srvOptions)).toThrow(/distinct priority levels/);
  });
});

describe('fingerprint', () => {
  it('is the same for the same set whatever the TTL, and differs when a weight changes', () => {
    const one = addressAnswerToEndpoints(80, { ipv4: [a('10.0.0.1', 5), a('10.0.0.2', 5)] }, options);
    const two = addressAnswerToEndpoints(80, { ipv4: [a('10.0.0.2', 60), a('10.0.0.1', 60)] }, options);
    expect(endpointsFingerprint(one.endpoints)).toBe(endpointsFingerprint(two.endpoints));
    const records = (weight: number) =>
      checkSrvRecords([{ name: 'x.test', port: 80, priority: 0, weight }], srvOptions);
    const targets = new Map([['x.test', { ipv4: [a('10.0.0.1')] }]]);
    expect(endpointsFingerprint(srvAnswerToEndpoints(records(1), targets, srvOptions).endpoints)).not.toBe(
      endpointsFingerprint(srvAnswerToEndpoints(records(2), targets, srvOptions).endpoints),
    );
  });
});

// ---- properties -------------------------------------------------------------------------------------------

/** Either a valid value or garbage of every JSON-ish kind. */
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.string({ maxLength: 300 }),
  fc.object({ maxDepth: 1 }),
);
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();
const hostname = fc.constantFrom('a.test', 'b.test', 'c.test', 'd.test', 'e.test');
const ttl = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), junk);
const addressRecord = (address: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 40, arbitrary: fc.record({ address, ttl: fc.integer({ min: 0, max: 86_400 }) }) },
    { weight: 1, arbitrary: fc.record({ address: fc.oneof(address, ipv4, ipv6, junk), ttl }) },
    { weight: 1, arbitrary: junk },
  );
const familyRecords = fc.record(
  {
    ipv4: fc.oneof(
      { weight: 6, arbitrary: fc.array(addressRecord(ipv4), { maxLength: 6 }) },
      { weight: 1, arbitrary: junk },
    ),
    ipv6: fc.oneof(
      { weight: 6, arbitrary: fc.array(addressRecord(ipv6), { maxLength: 6 }) },
      { weight: 1, arbitrary: junk },
    ),
  },
  { requiredKeys: [] },
);
const srvRecord = fc.oneof(
  {
    weight: 60,
    arbitrary: fc.record({
      name: fc.oneof({ weight: 8, arbitrary: hostname }, { weight: 1, arbitrary: fc.constantFrom('', '.') }),
      port: fc.integer({ min: 1, max: 65_535 }),
      priority: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 65_535 })),
      weight: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65_535 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      name: fc.oneof(hostname, fc.string({ maxLength: 300 }), junk),
      port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), junk),
      priority: fc.oneof(fc.integer({ min: -1, max: 70_000 }), junk),
      weight: fc.oneof(fc.integer({ min: -1, max: 70_000 }), junk),
    }),
  },
  { weight: 1, arbitrary: junk },
);
const prefer = fc.constantFrom('none' as const, 'ipv4' as const, 'ipv6' as const);

/** What must hold for every set the conversion returns: the Balancer accepts it, levels are contiguous. */
function checkSet(set: DnsEndpointSet): void {
  const parsed = parseEndpoints(set.endpoints, 'endpoints'); // throws on a bad weight/port/priority/duplicate
  for (const e of parsed) expect(e.weight).toBeGreaterThan(0);
  const levels = [...new Set(parsed.map((e) => e.priority))].sort((x, y) => x - y);
  expect(levels).toEqual(levels.map((_, i) => i));
  if (set.endpoints.length > 0) expect(set.ttlSeconds).toBeGreaterThanOrEqual(0);
}

/** Converts, returning the set or the typed error; any other exception fails the property. */
function attempt(fn: () => DnsEndpointSet): DnsEndpointSet | DnsAnswerError {
  try {
    return fn();
  } catch (error) {
    if (!isDnsAnswerError(error)) throw error;
    return error;
  }
}

describe('properties (fast-check)', () => {
  it('A/AAAA: garbage gives a DnsAnswerError, valid records give a valid, non-empty set', () => {
    const seen = { sets: 0, errors: 0 };
    checkProperty(
      fc.property(familyRecords, prefer, fc.integer({ min: 1, max: 8 }), (records, pref, maxEndpoints) => {
        const result = attempt(() =>
          addressAnswerToEndpoints(443, records as FamilyRecords, { ...options, prefer: pref, maxEndpoints }),
        );
        if (result instanceof DnsAnswerError) {
          seen.errors++;
          return;
        }
        if (result.endpoints.length > 0) seen.sets++;
        checkSet(result);
        const given = [records.ipv4, records.ipv6].filter(Array.isArray).flat().length;
        // Never an empty set from records that were accepted: empty only when there were none.
        expect(result.endpoints.length === 0).toBe(given === 0);
        expect(result.endpoints.length).toBeLessThanOrEqual(maxEndpoints);
      }),
      { seed: 42, numRuns: 2_000 },
    );
    // The generators must exercise both paths, not only reject everything.
    expect(seen.sets).toBeGreaterThan(200);
    expect(seen.errors).toBeGreaterThan(200);
  });

  it('SRV: garbage, duplicates, zero weights and oversized answers never crash or yield an invalid set', () => {
    const seen = { sets: 0, errors: 0 };
    checkProperty(
      fc.property(
        fc.oneof(
          { weight: 9, arbitrary: fc.array(srvRecord, { maxLength: 12 }) },
          { weight: 1, arbitrary: junk },
        ),
        fc.dictionary(hostname, familyRecords, { maxKeys: 5 }),
        prefer,
        fc.oneof(
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }) },
          { weight: 3, arbitrary: fc.constant(1_000) },
        ),
        (raw, targetRecords, pref, maxEndpoints) => {
          const opts = { ...srvOptions, prefer: pref, maxEndpoints };
          let records: SrvRecord[];
          try {
            records = checkSrvRecords(raw, opts);
          } catch (error) {
            expect(isDnsAnswerError(error)).toBe(true);
            seen.errors++;
            return;
          }
          for (const r of records) {
            expect(r.name).not.toBe('');
            expect(r.port).toBeGreaterThanOrEqual(1);
          }
          const targets = new Map(Object.entries(targetRecords) as [string, FamilyRecords][]);
          const result = attempt(() => srvAnswerToEndpoints(records, targets, opts));
          if (result instanceof DnsAnswerError) {
            seen.errors++;
            return;
          }
          if (result.endpoints.length > 0) seen.sets++;
          checkSet(result);
          const anyAddress = records.some((r) => {
            const t = targets.get(r.name);
            return t !== undefined && [t.ipv4, t.ipv6].filter(Array.isArray).flat().length > 0;
          });
          expect(result.endpoints.length === 0).toBe(!anyAddress);
        },
      ),
      { seed: 42, numRuns: 2_000 },
    );
    expect(seen.sets).toBeGreaterThan(200);
    expect(seen.errors).toBeGreaterThan(200);
  });

  it('SRV: within a level, a target with one address gets a share proportional to its SRV weight', () => {
    checkProperty(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 65_535 }), { minLength: 1, maxLength: 8 }),
        (weights) => {
          const records = weights.map((weight, i) => ({ name: `t${i}.test`, port: 80, priority: 7, weight }));
          const targets = new Map(records.map((r, i) => [r.name, { ipv4: [a(`10.2.0.${i + 1}`)] }]));
          const set = srvAnswerToEndpoints(checkSrvRecords(records, srvOptions), targets, srvOptions);
          const byHost = new Map(set.endpoints.map((e) => [e.host, e.weight]));
          const positive = weights.some((w) => w > 0);
          weights.forEach((w, i) => {
            const got = byHost.get(`10.2.0.${i + 1}`)!;
            expect(got).toBe(w > 0 ? w : positive ? SRV_ZERO_WEIGHT : 1);
          });
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });
});
