import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { parsePolicyConfig } from '../../src/balancer/policy/registry.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { buildMaglevTable, defaultMaglevOptions, isPrime, maglev, slotOf } from '../../src/pickers/maglev.js';
import { seededRandom } from '../../src/random.js';
import { checkProperty } from '../helpers/properties.js';
import { address, makeKeys, makePolicy, makeStates, range, route, tally } from './ring-hash-fixtures.js';

describe('maglev options', () => {
  it('defaults to a 65537-slot table with bounded load off (Envoy)', () => {
    expect(maglev.parse({}, 'policy')).toEqual(defaultMaglevOptions);
    expect(defaultMaglevOptions).toEqual({ tableSize: 65537, balanceFactor: undefined });
  });

  it('rejects a table size that is not prime with a ConfigError naming the field', () => {
    expect(() => maglev.parse({ tableSize: 65536 }, 'policy')).toThrow(ConfigError);
    expect(() => maglev.parse({ tableSize: 65536 }, 'policy')).toThrow(
      'policy.tableSize: expected a prime number (e.g. 65537, 131071, 655373), got 65536',
    );
  });

  it('rejects sizes out of range, non-integers, bad balance factors and unknown keys', () => {
    expect(() => maglev.parse({ tableSize: 5_000_017 }, 'policy')).toThrow(
      'policy.tableSize: expected an integer from 2 to 5000011, got 5000017',
    );
    expect(() => maglev.parse({ tableSize: 1 }, 'policy')).toThrow(ConfigError);
    expect(() => maglev.parse({ tableSize: 65537.5 }, 'policy')).toThrow(ConfigError);
    expect(() => maglev.parse({ balanceFactor: 0.9 }, 'policy')).toThrow(
      'policy.balanceFactor: expected a number >= 1, got 0.9',
    );
    expect(() => maglev.parse({ balanceFactor: '1.25' }, 'policy')).toThrow(ConfigError);
    expect(() => maglev.parse({ table_size: 7 }, 'policy')).toThrow(/policy\.table_size/);
    expect(maglev.parse({ tableSize: 5_000_011, balanceFactor: 1.25 }, 'policy')).toEqual({
      tableSize: 5_000_011,
      balanceFactor: 1.25,
    });
  });

  it('is registered, so the Balancer validates it by name', () => {
    expect(() => parsePolicyConfig({ name: 'maglev', tableSize: 100 })).toThrow(ConfigError);
    expect(
      () => new Balancer({ endpoints: ['10.0.0.1:80'], policy: { name: 'maglev', tableSize: 4 } }),
    ).toThrow('policy.tableSize');
  });

  it('isPrime agrees with trial division by every smaller number', () => {
    checkProperty(
      fc.property(fc.integer({ min: -5, max: 20_000 }), (n) => {
        let prime = n >= 2;
        for (let d = 2; d < n && prime; d++) if (n % d === 0) prime = false;
        expect(isPrime(n)).toBe(prime);
      }),
      { seed: 42, numRuns: 500 },
    );
    expect([65537, 131071, 655373, 5_000_011].every(isPrime)).toBe(true);
  });
});

describe('maglev table', () => {
  it('fills every slot and gives each endpoint M/N slots, give or take one (equal weights)', () => {
    checkProperty(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.constantFrom(251, 5003, 65537), (n, size) => {
        fc.pre(size >= n);
        const table = buildMaglevTable(range(n).map(address), new Float64Array(n).fill(1), size);
        const counts = new Array<number>(n).fill(0);
        for (const owner of table) counts[owner]!++;
        expect(counts.reduce((x, y) => x + y, 0)).toBe(size);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
      { seed: 42, numRuns: 40 },
    );
  });

  it('gives slots in proportion to weight: within 1 % of each endpoint share of the table', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 20 }), (weights) => {
        const n = weights.length;
        const size = 65537;
        const table = buildMaglevTable(range(n).map(address), weights, size);
        const counts = new Array<number>(n).fill(0);
        for (const owner of table) counts[owner]!++;
        const total = weights.reduce((x, y) => x + y, 0);
        for (let i = 0; i < n; i++) {
          expect(Math.abs(counts[i]! / size - weights[i]! / total)).toBeLessThan(
            0.01 * (weights[i]! / total) + 2 / size,
          );
        }
      }),
      { seed: 42, numRuns: 30 },
    );
  });

  it('routes keys in proportion to weight (weights 1:2:3:4, 40k keys, within 5 % of each share)', () => {
    const weights = [1, 2, 3, 4];
    const picker = makePolicy(maglev).policy.build(makeStates(range(4), weights));
    const counts = tally(route(picker, makeKeys(40_000)));
    for (let i = 0; i < 4; i++) {
      const share = (counts.get(address(i)) ?? 0) / 40_000;
      expect(Math.abs(share - weights[i]! / 10)).toBeLessThan(0.05 * (weights[i]! / 10));
    }
  });

  it('slotOf maps every 32-bit hash into [0, size)', () => {
    checkProperty(
      fc.property(fc.nat({ max: 0xffffffff }), fc.constantFrom(2, 3, 251, 65537, 5_000_011), (hash, size) => {
        const slot = slotOf(hash, size);
        expect(Number.isInteger(slot) && slot >= 0 && slot < size).toBe(true);
      }),
      { seed: 42, numRuns: 1000 },
    );
    expect(slotOf(0xffffffff, 5_000_011)).toBe(5_000_010);
    expect(slotOf(0, 65537)).toBe(0);
  });
});

describe('maglev bounded load', () => {
  it('falls back to the key endpoint when no endpoint in the table has room (table smaller than the set)', () => {
    // A 2-slot table over 3 endpoints leaves one endpoint out; with both tabled endpoints full the walk gives up.
    const { policy, load } = makePolicy(maglev, { tableSize: 2, balanceFactor: 1 });
    const states = makeStates(range(3));
    const picker = policy.build(states);
    const home = picker.pick({ hashKey: 'k' }, 0)!;
    const tabled = new Set(route(picker, makeKeys(200)));
    expect(tabled.size).toBe(2);
    for (const s of states) if (tabled.has(s.address)) s.inFlight = 5;
    load.totalInFlight = 10; // cap = ⌈1 × 11 / 3⌉ = 4 < 5: both tabled endpoints are over it
    expect(picker.pick({ hashKey: 'k' }, 0)).toBe(home);
  });
});

describe('maglev through the Balancer', () => {
  it('keeps a key on one endpoint, survives an endpoint removal, and picks at random without a key', () => {
    const endpoints = range(10).map((i) => `127.0.0.1:${9000 + i}`);
    const balancer = new Balancer({ endpoints, policy: { name: 'maglev' }, random: seededRandom(11) });
    const keys = makeKeys(500);
    const home = new Map<string, string>();
    for (const hashKey of keys) {
      const lease = balancer.pick({ hashKey })!;
      home.set(hashKey, lease.endpoint.address);
      lease.release();
      const again = balancer.pick({ hashKey })!;
      expect(again.endpoint.address).toBe(home.get(hashKey));
      again.release();
    }
    const removed = endpoints[3]!;
    balancer.setEndpoints(endpoints.filter((e) => e !== removed));
    let kept = 0;
    for (const hashKey of keys) {
      const lease = balancer.pick({ hashKey })!;
      expect(lease.endpoint.address).not.toBe(removed);
      if (lease.endpoint.address === home.get(hashKey)) kept++;
      lease.release();
    }
    const onRemoved = [...home.values()].filter((a) => a === removed).length;
    expect(kept).toBeGreaterThanOrEqual(keys.length - onRemoved - 0.03 * keys.length);
    const seen = new Set<string>();
    for (let k = 0; k < 400; k++) {
      const lease = balancer.pick()!;
      seen.add(lease.endpoint.address);
      lease.release();
    }
    expect(seen.size).toBe(9);
  });

  it('with balanceFactor, spreads one hot key once its endpoint holds more than ⌈c × mean⌉', () => {
    const endpoints = range(4).map((i) => `127.0.0.1:${9100 + i}`);
    const balancer = new Balancer({ endpoints, policy: { name: 'maglev', balanceFactor: 1.5 } });
    const leases = range(40).map(() => balancer.pick({ hashKey: 'hot-tenant' })!);
    const perEndpoint = tally(leases.map((l) => l.endpoint.address));
    // 40 in flight over 4 endpoints: mean 10, cap ⌈1.5 × 10⌉ = 15.
    expect(Math.max(...perEndpoint.values())).toBeLessThanOrEqual(15);
    expect(perEndpoint.size).toBeGreaterThan(1);
    for (const lease of leases) lease.release();
    expect(balancer.stats().totalInFlight).toBe(0);
  });
});
