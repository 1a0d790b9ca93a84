import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import xxhashWasm from 'xxhash-wasm';
import { xxh64BigInt, xxh64Into, xxh64StringInto } from '../../src/hash/xxh64.js';
import { checkProperty } from '../helpers/properties.js';

const PRIME32 = 0x9e3779b1;
const MASK = 0xffff_ffff_ffff_ffffn;

/** xxHash's sanity buffer: 101 bytes from byteGen = PRIME32; byte = byteGen >> 24; byteGen *= byteGen (mod 2³²). */
function sanityBuffer(): Uint8Array {
  const buffer = new Uint8Array(101);
  let byteGen = PRIME32;
  for (let i = 0; i < buffer.length; i++) {
    buffer[i] = byteGen >>> 24;
    byteGen = Math.imul(byteGen, byteGen) >>> 0;
  }
  return buffer;
}

/**
 * A second, deliberately naive XXH64 written straight from the spec with BigInt (mask after every operation): the
 * reference the 32-bit-halves implementation is checked against.
 */
function referenceXxh64(bytes: Uint8Array, seed: bigint): bigint {
  const P1 = 0x9e3779b185ebca87n;
  const P2 = 0xc2b2ae3d27d4eb4fn;
  const P3 = 0x165667b19e3779f9n;
  const P4 = 0x85ebca77c2b2ae63n;
  const P5 = 0x27d4eb2f165667c5n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & MASK;
  const round = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & MASK, 31n) * P1) & MASK;
  const merge = (acc: bigint, v: bigint) => ((acc ^ round(0n, v)) * P1 + P4) & MASK;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & MASK;
    let v2 = (seed + P2) & MASK;
    let v3 = seed;
    let v4 = (seed - P1) & MASK;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = (seed + P5) & MASK;
  }
  h = (h + BigInt(len)) & MASK;
  for (; p + 8 <= len; p += 8) h = (rotl(h ^ round(0n, view.getBigUint64(p, true)), 27n) * P1 + P4) & MASK;
  if (p + 4 <= len) {
    h = (rotl(h ^ ((BigInt(view.getUint32(p, true)) * P1) & MASK), 23n) * P2 + P3) & MASK;
    p += 4;
  }
  for (; p < len; p++) h = (rotl(h ^ ((BigInt(bytes[p]!) * P5) & MASK), 11n) * P1) & MASK;
  h = ((h ^ (h >> 33n)) * P2) & MASK;
  h = ((h ^ (h >> 29n)) * P3) & MASK;
  return h ^ (h >> 32n);
}

describe('xxh64', () => {
  it('matches the reference vectors of xxHash (xxhsum sanity check, 101-byte buffer)', () => {
    const buf = sanityBuffer();
    expect(xxh64BigInt(new Uint8Array(0))).toBe(0xef46db3751d8e999n);
    expect(xxh64BigInt(new Uint8Array(0), BigInt(PRIME32))).toBe(0xac75fda2929b17efn);
    expect(xxh64BigInt(buf)).toBe(0x0eab543384f878adn);
    expect(xxh64BigInt(buf, BigInt(PRIME32))).toBe(0xcaa65939306f1e21n);
  });

  it('matches the ring-hash vectors of gRPC/Envoy (hashing-compat.md §6)', () => {
    expect(xxh64BigInt('a')).toBe(0xd24ec4f1a98c6e5bn);
    expect(xxh64BigInt('abc')).toBe(0x44bc2cf5ad770999n);
    expect(xxh64BigInt('abc', 1n)).toBe(0xbea9ca8199328908n);
    expect(xxh64BigInt('xxhash')).toBe(0x32dd38952c4bc720n);
    expect(xxh64BigInt('10.0.0.1:8080_0')).toBe(0x23a29ae775dfd4a3n);
    expect(xxh64BigInt('10.0.0.1:8080_1')).toBe(0xe6acd2238f8f5a9cn);
    expect(xxh64BigInt('[::1]:50051_0')).toBe(0x1d53eb4cd5d9421an);
    expect(xxh64BigInt('user-42')).toBe(0x397e9d3a76af7c81n);
    expect(xxh64BigInt('v1,v2')).toBe(0xe09795ff5c2a52fbn);
  });

  it('every length through the 32-byte stripes and the 8/4/1-byte tails agrees with the BigInt reference', () => {
    const buf = sanityBuffer();
    for (let n = 0; n <= buf.length; n++) {
      expect(xxh64BigInt(buf.subarray(0, n))).toBe(referenceXxh64(buf.subarray(0, n), 0n));
      expect(xxh64BigInt(buf.subarray(0, n), 0xffff_ffff_ffff_fffen)).toBe(
        referenceXxh64(buf.subarray(0, n), 0xffff_ffff_ffff_fffen),
      );
    }
  });

  const property = (seed: number, runs: number) =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 140 }), fc.bigInt({ min: 0n, max: MASK }), (bytes, s) => {
        expect(xxh64BigInt(bytes, s)).toBe(referenceXxh64(bytes, s));
      }),
      { seed, numRuns: runs },
    );

  it('agrees with the BigInt reference on random bytes and 64-bit seeds (fixed seed)', () => {
    property(42, 1500);
  });

  const fresh = (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  it(`agrees with the BigInt reference on random bytes and seeds (fresh fast-check seed ${fresh})`, () => {
    property(fresh, 500);
  });

  it('short ASCII strings (read in place, without a byte buffer) hash like their bytes, for any 64-bit seed', () => {
    checkProperty(
      fc.property(
        fc.string({ unit: 'binary-ascii', maxLength: 40 }),
        fc.bigInt({ min: 0n, max: MASK }),
        (s, seed) => {
          expect(xxh64BigInt(s, seed)).toBe(referenceXxh64(new Uint8Array(Buffer.from(s, 'latin1')), seed));
        },
      ),
      { seed: 42, numRuns: 3000 },
    );
  });

  it('hashes strings as their UTF-8 bytes and agrees with xxhash-wasm (what grpc-js-xds uses)', async () => {
    const wasm = await xxhashWasm();
    checkProperty(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 70 }), (s) => {
        const expected = wasm.h64(s, 0n);
        expect(xxh64BigInt(s)).toBe(expected);
        expect(xxh64BigInt(new Uint8Array(Buffer.from(s, 'utf8')))).toBe(expected);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('writes [high, low] halves and honours byte ranges at any offset', () => {
    const out = new Uint32Array(2);
    xxh64StringInto(out, 'user-42');
    expect([out[0], out[1]]).toEqual([0x397e9d3a, 0x76af7c81]);
    checkProperty(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === start ? 0 : b % (bytes.length - start + 1));
        xxh64Into(out, bytes, start, end);
        const copy = xxh64BigInt(bytes.slice(start, end));
        expect((BigInt(out[0]!) << 32n) | BigInt(out[1]!)).toBe(copy);
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});
