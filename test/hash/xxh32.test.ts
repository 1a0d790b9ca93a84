import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import xxhashWasm from 'xxhash-wasm';
import { xxh32, xxh32Pair, xxh32String } from '../../src/hash/xxh32.js';
import { checkProperty } from '../helpers/properties.js';

const PRIME = 0x9e3779b1;

/** xxHash's sanity buffer: 101 bytes from byteGen = PRIME32; byte = byteGen >> 24; byteGen *= byteGen (mod 2³²). */
function sanityBuffer(): Uint8Array {
  const buffer = new Uint8Array(101);
  let byteGen = PRIME;
  for (let i = 0; i < buffer.length; i++) {
    buffer[i] = byteGen >>> 24;
    byteGen = Math.imul(byteGen, byteGen) >>> 0;
  }
  return buffer;
}

describe('xxh32', () => {
  it('matches the reference vectors of xxHash (xxhsum sanity check)', () => {
    const buf = sanityBuffer();
    expect(xxh32(new Uint8Array(0), 0)).toBe(0x02cc5d05);
    expect(xxh32(new Uint8Array(0), PRIME)).toBe(0x36b78ae7);
    expect(xxh32(buf, 0, 0, 1)).toBe(0xb85cbee5);
    expect(xxh32(buf, PRIME, 0, 1)).toBe(0xd5845d64);
    expect(xxh32(buf, 0, 0, 14)).toBe(0xe5aa0ab4);
    expect(xxh32(buf, PRIME, 0, 14)).toBe(0x4481951d);
    expect(xxh32(buf, 0)).toBe(0x1f1aa412);
    expect(xxh32(buf, PRIME)).toBe(0x498ec8e2);
  });

  it('matches published string digests (python-xxhash, xxhsum)', () => {
    expect(xxh32String('')).toBe(0x02cc5d05);
    expect(xxh32String('a')).toBe(0x550d7456);
    expect(xxh32String('abc')).toBe(0x32d153ff);
    expect(xxh32String('Nobody inspects the spammish repetition')).toBe(0xe2293b2f);
  });

  it('hashes a string as its UTF-8 bytes, ASCII fast path or not (any Unicode, lone surrogates included)', () => {
    checkProperty(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.nat({ max: 0xffffffff }), (s, seed) => {
        expect(xxh32String(s, seed)).toBe(xxh32(new Uint8Array(Buffer.from(s, 'utf8')), seed));
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('agrees with an independent implementation (the xxhash-wasm package) on random keys and seeds', async () => {
    const wasm = await xxhashWasm();
    checkProperty(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), fc.nat({ max: 0xffffffff }), (s, seed) => {
        expect(xxh32String(s, seed)).toBe(wasm.h32(s, seed));
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('hashes byte ranges at any offset the same as a copy of the range', () => {
    checkProperty(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1));
        expect(xxh32(bytes, 7, start, end)).toBe(xxh32(bytes.slice(start, end), 7));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('xxh32Pair equals XXH32 of the two integers as 8 little-endian bytes', () => {
    checkProperty(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        (x, y, seed) => {
          const bytes = new Uint8Array(8);
          const view = new DataView(bytes.buffer);
          view.setUint32(0, x, true);
          view.setUint32(4, y, true);
          expect(xxh32Pair(x, y, seed)).toBe(xxh32(bytes, seed));
        },
      ),
      { seed: 42, numRuns: 1000 },
    );
  });
});
