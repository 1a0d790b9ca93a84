/**
 * Pick cost of the hashing policies as ratios to the key-hash floor, robust to a busy machine: every candidate
 * runs in interleaved rounds and keeps its best round (the least disturbed one), so the ratios hold even when
 * mitata's medians swing with other jobs. Complements `npm run bench -- --suite hashing`.
 *
 *   npx tsx scripts/hash-pick-ratios.ts [endpoints=100] [rounds=20]
 */
import { addresses, makeKeys, ourPicker } from '../benchmarks/suites/hashing.js';
import type { PickContext } from '../src/balancer/policy/picker.js';
import { xxh32String } from '../src/hash/xxh32.js';
import { xxh64StringInto } from '../src/hash/xxh64.js';
import { maglev } from '../src/pickers/maglev.js';
import { multiprobe } from '../src/pickers/multiprobe.js';
import { ringHash } from '../src/pickers/ring-hash.js';

const endpoints = Number(process.argv[2] ?? 100);
const rounds = Number(process.argv[3] ?? 20);
const PER_ROUND = 100_000;
const keys = makeKeys(4096, 20);
const contexts: PickContext[] = keys.map((hashKey) => ({ hashKey }));
const addrs = addresses(endpoints);
const out = new Uint32Array(2);
let sink = 0;

const candidates: Record<string, (ctx: PickContext) => number> = {
  'floor xxh32': (ctx) => xxh32String(ctx.hashKey!) | 0,
  'floor xxh64': (ctx) => {
    xxh64StringInto(out, ctx.hashKey!);
    return out[1]! | 0;
  },
  maglev: (
    (p) => (ctx: PickContext) =>
      p.pick(ctx, 0)!.address.length
  )(ourPicker(maglev, {}, addrs)),
  ring_hash: (
    (p) => (ctx: PickContext) =>
      p.pick(ctx, 0)!.address.length
  )(ourPicker(ringHash, {}, addrs)),
  multiprobe: (
    (p) => (ctx: PickContext) =>
      p.pick(ctx, 0)!.address.length
  )(ourPicker(multiprobe, {}, addrs)),
};

const best: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(candidates)) {
    const start = performance.now();
    for (let i = 0; i < PER_ROUND; i++) sink ^= fn(contexts[i & 4095]!);
    const ns = ((performance.now() - start) * 1e6) / PER_ROUND;
    best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ns);
  }
}
const floor = best['floor xxh32']!;
console.log(`${endpoints} endpoints, best of ${rounds} rounds of ${PER_ROUND} picks (20-char keys):`);
for (const [name, ns] of Object.entries(best)) {
  console.log(
    `  ${name.padEnd(12)} ${ns.toFixed(1).padStart(7)} ns  ${(ns / floor).toFixed(2)}× the XXH32 floor`,
  );
}
if (sink === 0.5) console.log(sink); // keeps the results alive
