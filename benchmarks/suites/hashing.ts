/**
 * Consistent hashing: cost and quality of `maglev`, `ring_hash` (gRFC A42) and `multiprobe` against the same-run key-hash floor and the npm
 * packages `hashring` (ketama, MD5, 160 points per server, LRU cache of 5000 keys) and `consistent-hash` (PJW
 * hash, 40 points per node).
 *
 * - `hash/<fn>/<n>ch`: hashing one n-character key alone — the floor a hashing pick cannot beat — for XXH32 (ours)
 *   and the alternatives we measured before choosing it (murmur3_32, FNV-1a, the `xxhash-wasm` package), and
 *   XXH64 (ours, without BigInt; what `ring_hash` needs to agree with Envoy/gRPC) against xxhash-wasm's BigInt h64.
 * - `pick/key-hash-floor/<endpoints>`: hashing the key of the PickContext alone, the baseline of the pick rows;
 * - `pick/<policy>/<endpoints>`: one pick with a 20-character key from a pool of 100,000 distinct keys (large
 *   enough to defeat hashring's 5000-entry cache, as real key populations do).
 * - `build/<policy>/<endpoints>`: building the table/ring (what an endpoint change costs).
 * - metrics `alloc/pick/<policy>/100`: bytes allocated per pick (the hot path should allocate nothing);
 * - metrics `quality/<policy>/max-mean` (1M keys over 100 endpoints: busiest endpoint's keys / mean) and
 *   `quality/<policy>/moved-pct` (percent of the 1M keys that change endpoint when 1 of the 100 is removed);
 * - metrics `memory/<policy>/1000`: bytes of the built ring/table for 1000 equal endpoints (typed arrays).
 */
import ConsistentHash from 'consistent-hash';
import HashRing from 'hashring';
import xxhashWasm from 'xxhash-wasm';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import type { PickContext, Picker, Policy, PolicyDefinition } from '../../src/balancer/policy/picker.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { xxh32String } from '../../src/hash/xxh32.js';
import { xxh64StringInto } from '../../src/hash/xxh64.js';
import { buildMaglevTable, maglev } from '../../src/pickers/maglev.js';
import { multiprobe } from '../../src/pickers/multiprobe.js';
import { buildProbeRing } from '../../src/pickers/probe-ring.js';
import { buildRing, ringHash } from '../../src/pickers/ring-hash.js';
import { seededRandom } from '../../src/random.js';
import type { Bench } from '../harness.js';

const SIZES = [10, 100, 1000];
const KEY_POOL = 100_000;
const QUALITY_KEYS = 1_000_000;
const QUALITY_ENDPOINTS = 100;
/** A42 ring size for the quality run that aims at max/mean ≤ 1.10: 2622 entries per endpoint at 100 endpoints. */
const BALANCED_RING = 262_144;
/** A42 sizes without gRPC's 4096 cap (Envoy's defaults), for the large-ring rows. */
const UNCAPPED = { maxRingSize: 8_388_608, ringSizeCap: 8_388_608 };

/** `n` distinct keys of exactly `length` characters, as flat strings (what a parsed header value is). */
export function makeKeys(n: number, length: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    let key = '';
    for (let c = 0; c < length; c++) key += alphabet[(random() * alphabet.length) | 0];
    keys.push(key.split('').join(''));
  }
  return keys;
}

/** Addresses of `n` endpoints, `10.0.x.y:8080`. */
export function addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}:8080`);
}

/** Endpoint states for `addrs`, as the Balancer would hold them. */
export function states(addrs: readonly string[]): EndpointState[] {
  return addrs.map((a, i) => new EndpointState(parseEndpoint(a, `endpoints[${i}]`), 0, 30));
}

/** A policy instance of ours (the same one a Balancer would keep across rebuilds). */
export function ourPolicy<O>(definition: PolicyDefinition<O>, raw: Record<string, unknown>): Policy {
  return definition.create(definition.parse(raw, 'policy'), {
    random: seededRandom(3),
    clock: { now: () => 0, setTimer: () => ({ cancel() {} }) },
    load: { totalInFlight: 0 },
  });
}

/** A picker of one of our policies over `addrs`, built the way the Balancer builds it. */
export function ourPicker<O>(
  definition: PolicyDefinition<O>,
  raw: Record<string, unknown>,
  addrs: readonly string[],
): Picker {
  return ourPolicy(definition, raw).build(states(addrs));
}

/** A key → address mapping that can lose an endpoint the way its library handles removal. */
interface Lookup {
  get(key: string): string;
  remove(address: string): void;
}

function ours<O>(definition: PolicyDefinition<O>, raw: Record<string, unknown>) {
  return (addrs: readonly string[]): Lookup => {
    const policy = ourPolicy(definition, raw);
    let all = states(addrs);
    let picker = policy.build(all);
    const ctx: { hashKey: string } = { hashKey: '' };
    return {
      get(key) {
        ctx.hashKey = key;
        return picker.pick(ctx, 0)!.address;
      },
      remove(address) {
        all = all.filter((s) => s.address !== address);
        picker = policy.build(all);
      },
    };
  };
}

export const lookups = {
  maglev: ours(maglev, {}),
  ring_hash: ours(ringHash, {}),
  [`ring_hash-${BALANCED_RING}`]: ours(ringHash, { minRingSize: BALANCED_RING, ...UNCAPPED }),
  multiprobe: ours(multiprobe, {}),
  hashring: (addrs: readonly string[]): Lookup => {
    const ring = new HashRing([...addrs]);
    return { get: (key) => ring.get(key), remove: (address) => ring.remove(address) };
  },
  'consistent-hash': (addrs: readonly string[]): Lookup => {
    const ring = new ConsistentHash();
    for (const a of addrs) ring.add(a);
    return { get: (key) => ring.get(key) as string, remove: (address) => ring.remove(address) };
  },
} satisfies Record<string, (addrs: readonly string[]) => Lookup>;

/** Quality over `keys` and `endpoints`: max/mean keys per endpoint, and % of keys moved when one is removed. */
export function quality(
  make: (addrs: readonly string[]) => Lookup,
  keys: readonly string[],
  endpoints: number,
): { maxMean: number; movedPct: number } {
  const all = addresses(endpoints);
  const lookup = make(all);
  const counts = new Map<string, number>();
  const owner: string[] = new Array(keys.length);
  for (let k = 0; k < keys.length; k++) {
    const a = lookup.get(keys[k]!);
    owner[k] = a;
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  let max = 0;
  for (const c of counts.values()) max = Math.max(max, c);
  const maxMean = max / (keys.length / endpoints);
  lookup.remove(all[Math.floor(endpoints / 3)]!);
  let moved = 0;
  for (let k = 0; k < keys.length; k++) if (lookup.get(keys[k]!) !== owner[k]) moved++;
  return { maxMean: round(maxMean, 4), movedPct: round((moved / keys.length) * 100, 3) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// Hashes we measured against XXH32 (not used by switchyard; kept here so the choice can be re-checked).
export function murmur3(key: string, seed = 0): number {
  const len = key.length;
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    let k =
      key.charCodeAt(i) |
      (key.charCodeAt(i + 1) << 8) |
      (key.charCodeAt(i + 2) << 16) |
      (key.charCodeAt(i + 3) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const rest = len & 3;
  if (rest === 3) k ^= key.charCodeAt(i + 2) << 16;
  if (rest >= 2) k ^= key.charCodeAt(i + 1) << 8;
  if (rest >= 1) {
    k ^= key.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  }
  h ^= len;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export default async function suite(b: Bench): Promise<void> {
  const wasm = await xxhashWasm();
  const mask = 4095;
  const out64 = new Uint32Array(2);

  b.group('hash one key (the floor of a hashing pick)', () => {
    for (const length of [10, 20, 40]) {
      const keys = makeKeys(mask + 1, length, length);
      let i = 0;
      b.bench(`hash/xxh32/${length}ch`, () => xxh32String(keys[i++ & mask]!));
      // XXH64 without BigInt (what ring_hash needs to agree with Envoy/gRPC), and the BigInt path of xxhash-wasm.
      b.bench(`hash/xxh64/${length}ch`, () => {
        xxh64StringInto(out64, keys[i++ & mask]!);
        return out64[1]! | 0;
      });
      if (length !== 20) continue;
      b.bench(`hash/murmur3_32/${length}ch`, () => murmur3(keys[i++ & mask]!));
      b.bench(`hash/fnv1a_32/${length}ch`, () => fnv1a(keys[i++ & mask]!));
      b.bench(`hash/xxhash-wasm-h32/${length}ch`, () => wasm.h32(keys[i++ & mask]!));
      b.bench(`hash/xxhash-wasm-h64-bigint/${length}ch`, () => wasm.h64(keys[i++ & mask]!, 0n));
    }
  });

  const keys = makeKeys(KEY_POOL, 20);
  const contexts: PickContext[] = keys.map((hashKey) => ({ hashKey }));
  for (const n of SIZES) {
    b.group(`pick with a 20-char key, ${n} endpoints`, () => {
      const addrs = addresses(n);
      let i = 0;
      const next = () => (i = i + 1 === KEY_POOL ? 0 : i + 1);
      // The floor: hashing the key of the same PickContext a pick gets (`| 0`: returning the unsigned hash from
      // the closure would box half the results as heap numbers, which a pick does not do).
      b.bench(`pick/key-hash-floor/${n}`, () => xxh32String(contexts[next()]!.hashKey!) | 0);
      const out64 = new Uint32Array(2);
      b.bench(`pick/key-hash-floor-xxh64/${n}`, () => {
        xxh64StringInto(out64, contexts[next()]!.hashKey!);
        return out64[1]! | 0;
      });
      const mag = ourPicker(maglev, {}, addrs);
      b.bench(`pick/maglev/${n}`, () => mag.pick(contexts[next()]!, 0));
      const ring = ourPicker(ringHash, {}, addrs);
      b.bench(`pick/ring_hash/${n}`, () => ring.pick(contexts[next()]!, 0));
      const probe = ourPicker(multiprobe, {}, addrs);
      b.bench(`pick/multiprobe/${n}`, () => probe.pick(contexts[next()]!, 0));
      const bounded = ourPicker(maglev, { balanceFactor: 1.25 }, addrs);
      b.bench(`pick/maglev-bounded-1.25/${n}`, () => bounded.pick(contexts[next()]!, 0));
      const hashring = new HashRing(addrs);
      b.bench(`pick/hashring/${n}`, () => hashring.get(keys[next()]!));
      const consistent = new ConsistentHash();
      for (const a of addrs) consistent.add(a);
      b.bench(`pick/consistent-hash/${n}`, () => consistent.get(keys[next()]!));
      if (n === 100) {
        // Hot-path allocation check: bytes per pick, 0 expected once optimised. Warm up first: unoptimised code
        // boxes every hash ≥ 2³¹, and on a loaded machine the optimising compiler can lag the harness's warm-up.
        for (let k = 0; k < 300_000; k++) {
          mag.pick(contexts[next()]!, 0);
          ring.pick(contexts[next()]!, 0);
          probe.pick(contexts[next()]!, 0);
          bounded.pick(contexts[next()]!, 0);
        }
        b.allocations(`pick/maglev/${n}`, () => mag.pick(contexts[next()]!, 0), 1_000_000);
        b.allocations(`pick/ring_hash/${n}`, () => ring.pick(contexts[next()]!, 0), 1_000_000);
        b.allocations(`pick/multiprobe/${n}`, () => probe.pick(contexts[next()]!, 0), 1_000_000);
        b.allocations(`pick/maglev-bounded-1.25/${n}`, () => bounded.pick(contexts[next()]!, 0), 1_000_000);
      }
    });
  }

  b.group('build a table or ring', () => {
    for (const n of [100, 1000]) {
      const addrs = addresses(n);
      const weights = new Float64Array(n).fill(1);
      b.bench(`build/maglev-65537/${n}`, () => buildMaglevTable(addrs, weights, 65537));
      b.bench(`build/ring_hash/${n}`, () =>
        buildRing(addrs, weights, { minRingSize: 1024, maxRingSize: 8_388_608, ringSizeCap: 4096 }),
      );
      b.bench(`build/ring_hash-${BALANCED_RING}/${n}`, () =>
        buildRing(addrs, weights, { minRingSize: BALANCED_RING, ...UNCAPPED }),
      );
      b.bench(`build/multiprobe/${n}`, () => buildProbeRing(addrs, weights, 16));
    }
  });

  const addrs1000 = addresses(1000);
  const ones = new Float64Array(1000).fill(1);
  const bytes = (...arrays: ArrayBufferView[]) => arrays.reduce((sum, a) => sum + a.byteLength, 0);
  const a42 = buildRing(addrs1000, ones, { minRingSize: 1024, maxRingSize: 8_388_608, ringSizeCap: 4096 });
  b.metric('memory/ring_hash/1000', bytes(a42.high, a42.low, a42.owners, a42.starts));
  const mp = buildProbeRing(addrs1000, ones, 16);
  b.metric('memory/multiprobe/1000', bytes(mp.positions, mp.owners, mp.starts));
  b.metric('memory/maglev/1000', bytes(buildMaglevTable(addrs1000, ones, 65537)));

  // The quality runs take ~30 s (hashring hashes 2M keys with MD5); BENCH_SKIP_QUALITY=1 skips them.
  if (process.env.BENCH_SKIP_QUALITY === '1') return;
  const qualityKeys = makeKeys(QUALITY_KEYS, 20, 99);
  for (const [name, make] of Object.entries(lookups)) {
    const q = quality(make, qualityKeys, QUALITY_ENDPOINTS);
    b.metric(`quality/${name}/max-mean`, q.maxMean);
    b.metric(`quality/${name}/moved-pct`, q.movedPct);
    b.log(`quality ${name}: max/mean ${q.maxMean}, moved ${q.movedPct} %`);
  }
}
