/**
 * XXH32 (Yann Collet's xxHash, 32-bit variant), in plain TypeScript, for affinity keys and ring/table positions.
 *
 * Why this hash: the keys switchyard hashes are short (session ids, user ids, cache keys: 10–40 characters), so
 * what matters is the fixed cost per call, not bytes per second. XXH32 is a well-known, well-tested hash (it passes
 * SMHasher) with published reference vectors, and every step is a 32-bit `Math.imul`/rotate, which V8 compiles to
 * plain integer instructions. XXH64 — what Envoy and gRPC use — needs 64-bit multiplies, which JavaScript can only
 * emulate with BigInt (≈ 1 µs) or four 16-bit half products per multiply; murmur3_32 and FNV-1a cost about the same
 * or more per short key here (see docs/performance.md, `hash/*` rows). A 32-bit result is enough: it indexes a
 * Maglev table of at most 5,000,011 slots and positions a ring of at most 8,388,608 points.
 *
 * Strings are hashed as their UTF-8 bytes, so `xxh32String(s)` equals XXH32 of `Buffer.from(s)` in any other
 * implementation. The common all-ASCII case reads characters straight from the string (one char = one byte), with
 * no encoding step and no allocation; a string with any other character is encoded once into a reused buffer.
 *
 * @see https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md — the algorithm; the reference vectors in
 * test/hash/xxh32.test.ts are xxHash's own sanity-check vectors.
 */

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

/** One accumulator round: acc + input × P2, rotated left 13, times P1. */
function round(acc: number, input: number): number {
  acc = (acc + Math.imul(input, PRIME2)) | 0;
  acc = (acc << 13) | (acc >>> 19);
  return Math.imul(acc, PRIME1);
}

/** Final mix (avalanche); returns a signed 32-bit integer. */
function avalancheSigned(h: number): number {
  h = Math.imul(h ^ (h >>> 15), PRIME2);
  h = Math.imul(h ^ (h >>> 13), PRIME3);
  return h ^ (h >>> 16);
}

/** Final mix (avalanche); returns an unsigned 32-bit integer. */
function avalanche(h: number): number {
  return avalancheSigned(h) >>> 0;
}

/** Folds in one 4-byte little-endian word of the tail. */
function tailWord(h: number, word: number): number {
  h = (h + Math.imul(word, PRIME3)) | 0;
  return Math.imul((h << 17) | (h >>> 15), PRIME4);
}

/** Folds in one byte of the tail. */
function tailByte(h: number, byte: number): number {
  h = (h + Math.imul(byte, PRIME5)) | 0;
  return Math.imul((h << 11) | (h >>> 21), PRIME1);
}

/** Merges the four stripe accumulators (inputs of 16 bytes or more). */
function converge(v1: number, v2: number, v3: number, v4: number): number {
  return (
    ((v1 << 1) | (v1 >>> 31)) +
    ((v2 << 7) | (v2 >>> 25)) +
    ((v3 << 12) | (v3 >>> 20)) +
    ((v4 << 18) | (v4 >>> 14))
  );
}

/**
 * XXH32 of `bytes[start, end)` with a 32-bit `seed` (default 0). Returns an unsigned 32-bit integer.
 */
export function xxh32(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  const len = end - start;
  let p = start;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = round(v1, bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24));
      v2 = round(v2, bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16) | (bytes[p + 7]! << 24));
      v3 = round(v3, bytes[p + 8]! | (bytes[p + 9]! << 8) | (bytes[p + 10]! << 16) | (bytes[p + 11]! << 24));
      v4 = round(
        v4,
        bytes[p + 12]! | (bytes[p + 13]! << 8) | (bytes[p + 14]! << 16) | (bytes[p + 15]! << 24),
      );
      p += 16;
    }
    h = converge(v1, v2, v3, v4);
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + len) | 0;
  while (p + 4 <= end) {
    h = tailWord(h, bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24));
    p += 4;
  }
  while (p < end) h = tailByte(h, bytes[p++]!);
  return avalanche(h);
}

const encoder = new TextEncoder();
/** Reused UTF-8 buffer for non-ASCII keys (grown on demand; JavaScript is single-threaded per isolate). */
let scratch = new Uint8Array(256);

/**
 * XXH32 of the UTF-8 encoding of `key`, with a 32-bit `seed` (default 0). Returns an unsigned 32-bit integer.
 * Allocation-free for ASCII keys (the common case); other keys are encoded into a shared buffer first.
 */
export function xxh32String(key: string, seed = 0): number {
  // A small wrapper that V8 inlines into the caller: the body returns a signed int32, which fits a small integer
  // (Smi), so no heap number is boxed on return when the body itself is not inlined. Returning the unsigned value
  // from the body directly cost 8 bytes per call on average (every hash ≥ 2³¹ was boxed).
  return xxh32StringSigned(key, seed) >>> 0;
}

/** {@link xxh32String} as a signed 32-bit integer (the same bits). */
function xxh32StringSigned(key: string, seed: number): number {
  const len = key.length;
  // `high` collects every char code: any bit above 0x7f means the string is not ASCII, and then the char codes
  // are not the UTF-8 bytes — start again from the encoded bytes. Checking as we go costs one OR per char.
  // The reads are unrolled by hand: a helper that reads a word and notes its codes in a module variable measured
  // about 2× slower (the write to module state keeps V8 from keeping everything in registers).
  let high = 0;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = len - 16;
    while (p <= limit) {
      let a = key.charCodeAt(p);
      let b = key.charCodeAt(p + 1);
      let c = key.charCodeAt(p + 2);
      let d = key.charCodeAt(p + 3);
      high |= a | b | c | d;
      v1 = round(v1, a | (b << 8) | (c << 16) | (d << 24));
      a = key.charCodeAt(p + 4);
      b = key.charCodeAt(p + 5);
      c = key.charCodeAt(p + 6);
      d = key.charCodeAt(p + 7);
      high |= a | b | c | d;
      v2 = round(v2, a | (b << 8) | (c << 16) | (d << 24));
      a = key.charCodeAt(p + 8);
      b = key.charCodeAt(p + 9);
      c = key.charCodeAt(p + 10);
      d = key.charCodeAt(p + 11);
      high |= a | b | c | d;
      v3 = round(v3, a | (b << 8) | (c << 16) | (d << 24));
      a = key.charCodeAt(p + 12);
      b = key.charCodeAt(p + 13);
      c = key.charCodeAt(p + 14);
      d = key.charCodeAt(p + 15);
      high |= a | b | c | d;
      v4 = round(v4, a | (b << 8) | (c << 16) | (d << 24));
      p += 16;
    }
    h = converge(v1, v2, v3, v4);
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + len) | 0;
  while (p + 4 <= len) {
    const a = key.charCodeAt(p);
    const b = key.charCodeAt(p + 1);
    const c = key.charCodeAt(p + 2);
    const d = key.charCodeAt(p + 3);
    high |= a | b | c | d;
    h = tailWord(h, a | (b << 8) | (c << 16) | (d << 24));
    p += 4;
  }
  while (p < len) {
    const a = key.charCodeAt(p++);
    high |= a;
    h = tailByte(h, a);
  }
  return high > 0x7f ? xxh32Utf8(key, seed) | 0 : avalancheSigned(h);
}

/** The slow path of {@link xxh32String}: encode to UTF-8 (at most 3 bytes per UTF-16 unit), then hash. */
function xxh32Utf8(key: string, seed: number): number {
  if (scratch.length < key.length * 3) scratch = new Uint8Array(key.length * 3);
  const { written } = encoder.encodeInto(key, scratch);
  return xxh32(scratch, seed, 0, written);
}

/**
 * XXH32 of two unsigned 32-bit integers as 8 little-endian bytes (`first` then `second`). Ring points use it:
 * point k of an endpoint sits at `xxh32Pair(idB, k, idA)`, where idA and idB are two independent hashes of the
 * address — so two endpoints share their points only if both 32-bit identities collide (p ≈ 2⁻⁶⁴), and no
 * `address_k` string is built per point.
 */
export function xxh32Pair(first: number, second: number, seed = 0): number {
  return avalanche(tailWord(tailWord((seed + PRIME5 + 8) | 0, first | 0), second | 0));
}
