/**
 * XXH64 (Yann Collet's xxHash, 64-bit variant) in plain TypeScript, without BigInt: every 64-bit value is a pair
 * of unsigned 32-bit halves, and a 64-bit multiply is built from 16-bit partial products that stay exact in a
 * double. This is the hash Envoy, gRPC C-core/Go/Java and grpc-js-xds use for `ring_hash` (gRFC A42, seed 0), so a
 * ring built with it maps keys exactly as those clients do.
 *
 * Why not BigInt: a BigInt XXH64 allocates a heap BigInt for nearly every 64-bit step and needs a BigInt per hash;
 * this one allocates nothing and costs ≈ 3× XXH32 for short keys (docs/consistent-hashing.md, `hash/xxh64` rows).
 *
 * Output: the hot-path functions write `[high, low]` (unsigned 32-bit halves) into a caller-owned
 * `Uint32Array(2)`, so a pick allocates nothing. {@link xxh64BigInt} returns a `bigint` for callers off the hot path.
 * Strings are hashed as their UTF-8 bytes (like `h64(str)` in xxhash-wasm, which grpc-js-xds uses).
 *
 * @see https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md
 */

// The five primes, as (high, low) halves. Every half is kept as a *signed* 32-bit integer (`| 0`, never `>>> 0`):
// V8 passes those between functions as small integers, while an unsigned value ≥ 2³¹ is boxed as a heap number
// whenever it crosses a call that is not inlined — which made an earlier unsigned version allocate and run ~3×
// slower.
const P1H = 0x9e3779b1 | 0;
const P1L = 0x85ebca87 | 0;
const P2H = 0xc2b2ae3d | 0;
const P2L = 0x27d4eb4f | 0;
const P3H = 0x165667b1 | 0;
const P3L = 0x9e3779f9 | 0;
const P4H = 0x85ebca77 | 0;
const P4L = 0xc2b2ae63 | 0;
const P5H = 0x27d4eb2f | 0;
const P5L = 0x165667c5 | 0;

// Result registers of the helpers below: a typed array rather than module-level `let`s or returned objects. A
// value ≥ 2³⁰ stored in a `let` outside the function is boxed as a heap number (V8's small integers are 31 bits),
// which made every call allocate; a typed-array element is stored raw.
const R = new Int32Array(2);

/** (R[0], R[1]) = (ah, al) × (bh, bl) mod 2⁶⁴. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  // Low 32 × low 32 → 64 bits exactly, from 16-bit halves: every partial product is below 2³², and the high half
  // is their sum with the carry out of the low half. Math.imul gives the low half directly.
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const c10 = a1 * b0;
  const c01 = a0 * b1;
  const carry = (((a0 * b0) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
  const high = a1 * b1 + (c10 >>> 16) + (c01 >>> 16) + carry;
  // The cross terms only reach the high half; their own high halves fall off the top.
  R[0] = (high + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
  R[1] = Math.imul(al, bl);
}

/** (R[0], R[1]) = (ah, al) + (bh, bl) mod 2⁶⁴ (halves signed or unsigned, same bits). */
function add(ah: number, al: number, bh: number, bl: number): void {
  const low = (al >>> 0) + (bl >>> 0);
  R[0] = (ah + bh + (low > 0xffffffff ? 1 : 0)) | 0;
  R[1] = low | 0;
}

/** One accumulator round: acc + input × P2, rotated left 31, times P1. Result in R. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, R[0]!, R[1]!);
  // rotl 31 = rotr 1 of the halves' rotl 32 swap.
  const h = (R[0]! << 31) | (R[1]! >>> 1) | 0;
  const l = (R[1]! << 31) | (R[0]! >>> 1) | 0;
  mul(h, l, P1H, P1L);
}

/** h = (h XOR round(0, v)) × P1 + P4, for the four-lane merge. Result in R. */
function mergeRound(hh: number, hl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((hh ^ R[0]!) | 0, (hl ^ R[1]!) | 0, P1H, P1L);
  add(R[0]!, R[1]!, P4H, P4L);
}

function rotlHigh(h: number, l: number, r: number): number {
  return (h << r) | (l >>> (32 - r)) | 0;
}

function rotlLow(h: number, l: number, r: number): number {
  return (l << r) | (h >>> (32 - r)) | 0;
}

function read32(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24) | 0;
}

/** The ≥ 32-byte path: four lanes over 32-byte stripes, merged. Returns the next unread offset; h in R. */
function stripes(b: Uint8Array, start: number, end: number, sh: number, sl: number): number {
  add(sh, sl, P1H, P1L);
  add(R[0]!, R[1]!, P2H, P2L);
  let v1h = R[0]!;
  let v1l = R[1]!;
  add(sh, sl, P2H, P2L);
  let v2h = R[0]!;
  let v2l = R[1]!;
  let v3h = sh;
  let v3l = sl;
  // seed − P1 = seed + (2⁶⁴ − P1)
  add(sh, sl, ~P1H | 0, (~P1L + 1) | 0);
  let v4h = R[0]!;
  let v4l = R[1]!;
  let p = start;
  for (const limit = end - 32; p <= limit; p += 32) {
    round(v1h, v1l, read32(b, p + 4), read32(b, p));
    v1h = R[0]!;
    v1l = R[1]!;
    round(v2h, v2l, read32(b, p + 12), read32(b, p + 8));
    v2h = R[0]!;
    v2l = R[1]!;
    round(v3h, v3l, read32(b, p + 20), read32(b, p + 16));
    v3h = R[0]!;
    v3l = R[1]!;
    round(v4h, v4l, read32(b, p + 28), read32(b, p + 24));
    v4h = R[0]!;
    v4l = R[1]!;
  }
  add(rotlHigh(v1h, v1l, 1), rotlLow(v1h, v1l, 1), rotlHigh(v2h, v2l, 7), rotlLow(v2h, v2l, 7));
  add(R[0]!, R[1]!, rotlHigh(v3h, v3l, 12), rotlLow(v3h, v3l, 12));
  add(R[0]!, R[1]!, rotlHigh(v4h, v4l, 18), rotlLow(v4h, v4l, 18));
  mergeRound(R[0]!, R[1]!, v1h, v1l);
  mergeRound(R[0]!, R[1]!, v2h, v2l);
  mergeRound(R[0]!, R[1]!, v3h, v3l);
  mergeRound(R[0]!, R[1]!, v4h, v4l);
  return p;
}

/**
 * XXH64 of `bytes[start, end)` with the 64-bit seed (`seedHigh`, `seedLow`), written to `out` as
 * `[high, low]` unsigned 32-bit halves. Allocates nothing.
 */
export function xxh64Into(
  out: Uint32Array,
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  seedHigh = 0,
  seedLow = 0,
): void {
  const len = end - start;
  let p = start;
  if (len >= 32) {
    p = stripes(bytes, start, end, seedHigh | 0, seedLow | 0);
  } else {
    add(seedHigh | 0, seedLow | 0, P5H, P5L);
  }
  // + len (inputs are far below 2³² bytes)
  add(R[0]!, R[1]!, 0, len);
  let hh = R[0]!;
  let hl = R[1]!;
  for (; p + 8 <= end; p += 8) {
    round(0, 0, read32(bytes, p + 4), read32(bytes, p));
    const xh = (hh ^ R[0]!) | 0;
    const xl = (hl ^ R[1]!) | 0;
    mul(rotlHigh(xh, xl, 27), rotlLow(xh, xl, 27), P1H, P1L);
    add(R[0]!, R[1]!, P4H, P4L);
    hh = R[0]!;
    hl = R[1]!;
  }
  if (p + 4 <= end) {
    mul(0, read32(bytes, p), P1H, P1L);
    const xh = (hh ^ R[0]!) | 0;
    const xl = (hl ^ R[1]!) | 0;
    mul(rotlHigh(xh, xl, 23), rotlLow(xh, xl, 23), P2H, P2L);
    add(R[0]!, R[1]!, P3H, P3L);
    hh = R[0]!;
    hl = R[1]!;
    p += 4;
  }
  for (; p < end; p++) {
    mul(0, bytes[p]!, P5H, P5L);
    const xh = (hh ^ R[0]!) | 0;
    const xl = (hl ^ R[1]!) | 0;
    mul(rotlHigh(xh, xl, 11), rotlLow(xh, xl, 11), P1H, P1L);
    hh = R[0]!;
    hl = R[1]!;
  }
  avalanche(out, hh, hl);
}

/** h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32 — then stored in `out`. */
function avalanche(out: Uint32Array, hh: number, hl: number): void {
  mul(hh, (hl ^ (hh >>> 1)) | 0, P2H, P2L);
  mul((R[0]! ^ (R[0]! >>> 29)) | 0, (R[1]! ^ ((R[1]! >>> 29) | (R[0]! << 3))) | 0, P3H, P3L);
  out[0] = R[0]!;
  out[1] = (R[1]! ^ R[0]!) | 0;
}

const encoder = new TextEncoder();
/** Reused byte buffer for strings (grown on demand; JavaScript is single-threaded per isolate). */
let scratch = new Uint8Array(256);

/** Writes the UTF-8 bytes of `key` into `scratch`; returns their count. ASCII is copied without an encoder call. */
function utf8(key: string): number {
  const len = key.length;
  if (scratch.length < len * 3) scratch = new Uint8Array(len * 3);
  const buf = scratch;
  for (let i = 0; i < len; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return encoder.encodeInto(key, buf).written;
    buf[i] = c;
  }
  return len;
}

/** Four chars of an ASCII string as a little-endian word (char code = UTF-8 byte). */
function read32s(key: string, p: number): number {
  return (
    key.charCodeAt(p) |
    (key.charCodeAt(p + 1) << 8) |
    (key.charCodeAt(p + 2) << 16) |
    (key.charCodeAt(p + 3) << 24)
  );
}

/**
 * The short-key path straight from the string (under 32 characters, all ASCII): the tail steps of
 * {@link xxh64Into} with every 64-bit multiply written out in place (generated from one template). Calls to a
 * shared multiply helper exhausted V8's inlining budget, and each call left cost ≈ 5 ns; written out, the whole
 * hash stays in registers.
 */
function shortAsciiInto(out: Uint32Array, key: string, seedHigh: number, seedLow: number): void {
  const end = key.length;
  let hh = seedHigh | 0;
  let hl = seedLow | 0;
  {
    const low = (hl >>> 0) + 374761413;
    hh = (hh + 0x27d4eb2f + (low > 0xffffffff ? 1 : 0)) | 0;
    hl = low | 0;
  }
  {
    const low = (hl >>> 0) + end;
    hh = (hh + (low > 0xffffffff ? 1 : 0)) | 0;
    hl = low | 0;
  }
  let p = 0;
  for (; p + 8 <= end; p += 8) {
    let kh = read32s(key, p + 4);
    let kl = read32s(key, p);
    {
      // (kh, kl) = (kh, kl) × P2
      const a0 = kl & 0xffff;
      const a1 = kl >>> 16;
      const c10 = a1 * 60239;
      const c01 = a0 * 10196;
      const carry = (((a0 * 60239) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high =
        a1 * 10196 +
        (c10 >>> 16) +
        (c01 >>> 16) +
        carry +
        Math.imul(kh, 0x27d4eb4f | 0) +
        Math.imul(kl, 0xc2b2ae3d | 0);
      kl = Math.imul(kl, 0x27d4eb4f | 0);
      kh = high | 0;
    }
    {
      const rh = (kh << 31) | (kl >>> 1);
      kl = (kl << 31) | (kh >>> 1);
      kh = rh;
    }
    {
      // (kh, kl) = (kh, kl) × P1
      const a0 = kl & 0xffff;
      const a1 = kl >>> 16;
      const c10 = a1 * 51847;
      const c01 = a0 * 34283;
      const carry = (((a0 * 51847) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high =
        a1 * 34283 +
        (c10 >>> 16) +
        (c01 >>> 16) +
        carry +
        Math.imul(kh, 0x85ebca87 | 0) +
        Math.imul(kl, 0x9e3779b1 | 0);
      kl = Math.imul(kl, 0x85ebca87 | 0);
      kh = high | 0;
    }
    hh ^= kh;
    hl ^= kl;
    {
      const rh = (hh << 27) | (hl >>> 5);
      hl = (hl << 27) | (hh >>> 5);
      hh = rh;
    }
    {
      // (hh, hl) = (hh, hl) × P1
      const a0 = hl & 0xffff;
      const a1 = hl >>> 16;
      const c10 = a1 * 51847;
      const c01 = a0 * 34283;
      const carry = (((a0 * 51847) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high =
        a1 * 34283 +
        (c10 >>> 16) +
        (c01 >>> 16) +
        carry +
        Math.imul(hh, 0x85ebca87 | 0) +
        Math.imul(hl, 0x9e3779b1 | 0);
      hl = Math.imul(hl, 0x85ebca87 | 0);
      hh = high | 0;
    }
    {
      const low = (hl >>> 0) + 3266489955;
      hh = (hh + 0x85ebca77 + (low > 0xffffffff ? 1 : 0)) | 0;
      hl = low | 0;
    }
  }
  if (p + 4 <= end) {
    let kh = 0;
    let kl = read32s(key, p);
    {
      // (kh, kl) = (kh, kl) × P1
      const a0 = kl & 0xffff;
      const a1 = kl >>> 16;
      const c10 = a1 * 51847;
      const c01 = a0 * 34283;
      const carry = (((a0 * 51847) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high = a1 * 34283 + (c10 >>> 16) + (c01 >>> 16) + carry + Math.imul(kl, 0x9e3779b1 | 0);
      kl = Math.imul(kl, 0x85ebca87 | 0);
      kh = high | 0;
    }
    hh ^= kh;
    hl ^= kl;
    {
      const rh = (hh << 23) | (hl >>> 9);
      hl = (hl << 23) | (hh >>> 9);
      hh = rh;
    }
    {
      // (hh, hl) = (hh, hl) × P2
      const a0 = hl & 0xffff;
      const a1 = hl >>> 16;
      const c10 = a1 * 60239;
      const c01 = a0 * 10196;
      const carry = (((a0 * 60239) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high =
        a1 * 10196 +
        (c10 >>> 16) +
        (c01 >>> 16) +
        carry +
        Math.imul(hh, 0x27d4eb4f | 0) +
        Math.imul(hl, 0xc2b2ae3d | 0);
      hl = Math.imul(hl, 0x27d4eb4f | 0);
      hh = high | 0;
    }
    {
      const low = (hl >>> 0) + 2654435833;
      hh = (hh + 0x165667b1 + (low > 0xffffffff ? 1 : 0)) | 0;
      hl = low | 0;
    }
    p += 4;
  }
  for (; p < end; p++) {
    let kh = 0;
    let kl = key.charCodeAt(p);
    {
      // (kh, kl) = (kh, kl) × P5
      const a0 = kl & 0xffff;
      const a1 = kl >>> 16;
      const c10 = a1 * 26565;
      const c01 = a0 * 5718;
      const carry = (((a0 * 26565) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high = a1 * 5718 + (c10 >>> 16) + (c01 >>> 16) + carry + Math.imul(kl, 0x27d4eb2f | 0);
      kl = Math.imul(kl, 0x165667c5 | 0);
      kh = high | 0;
    }
    hh ^= kh;
    hl ^= kl;
    {
      const rh = (hh << 11) | (hl >>> 21);
      hl = (hl << 11) | (hh >>> 21);
      hh = rh;
    }
    {
      // (hh, hl) = (hh, hl) × P1
      const a0 = hl & 0xffff;
      const a1 = hl >>> 16;
      const c10 = a1 * 51847;
      const c01 = a0 * 34283;
      const carry = (((a0 * 51847) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
      const high =
        a1 * 34283 +
        (c10 >>> 16) +
        (c01 >>> 16) +
        carry +
        Math.imul(hh, 0x85ebca87 | 0) +
        Math.imul(hl, 0x9e3779b1 | 0);
      hl = Math.imul(hl, 0x85ebca87 | 0);
      hh = high | 0;
    }
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl ^= hh >>> 1;
  {
    // (hh, hl) = (hh, hl) × P2
    const a0 = hl & 0xffff;
    const a1 = hl >>> 16;
    const c10 = a1 * 60239;
    const c01 = a0 * 10196;
    const carry = (((a0 * 60239) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
    const high =
      a1 * 10196 +
      (c10 >>> 16) +
      (c01 >>> 16) +
      carry +
      Math.imul(hh, 0x27d4eb4f | 0) +
      Math.imul(hl, 0xc2b2ae3d | 0);
    hl = Math.imul(hl, 0x27d4eb4f | 0);
    hh = high | 0;
  }
  hl ^= (hl >>> 29) | (hh << 3);
  hh ^= hh >>> 29;
  {
    // (hh, hl) = (hh, hl) × P3
    const a0 = hl & 0xffff;
    const a1 = hl >>> 16;
    const c10 = a1 * 31225;
    const c01 = a0 * 40503;
    const carry = (((a0 * 31225) >>> 16) + (c10 & 0xffff) + (c01 & 0xffff)) >>> 16;
    const high =
      a1 * 40503 +
      (c10 >>> 16) +
      (c01 >>> 16) +
      carry +
      Math.imul(hh, 0x9e3779f9 | 0) +
      Math.imul(hl, 0x165667b1 | 0);
    hl = Math.imul(hl, 0x9e3779f9 | 0);
    hh = high | 0;
  }
  out[0] = hh;
  out[1] = hl ^ hh;
}

/** True when every char of `key` is ASCII (then its char codes are its UTF-8 bytes). */
function isAscii(key: string): boolean {
  let high = 0;
  for (let i = 0; i < key.length; i++) high |= key.charCodeAt(i);
  return high <= 0x7f;
}

/**
 * XXH64 of the UTF-8 encoding of `key`, seed (`seedHigh`, `seedLow`) (default 0), written to `out` as
 * `[high, low]`. Allocation-free: short ASCII keys are read in place, others go through a reused byte buffer.
 */
export function xxh64StringInto(out: Uint32Array, key: string, seedHigh = 0, seedLow = 0): void {
  if (key.length < 32 && isAscii(key)) shortAsciiInto(out, key, seedHigh, seedLow);
  else xxh64Into(out, scratch, 0, utf8(key), seedHigh, seedLow);
}

const bigOut = new Uint32Array(2);

/**
 * XXH64 of a string (its UTF-8 bytes) or bytes, as an unsigned 64-bit `bigint`, with a 64-bit seed (default 0).
 * For tests, tooling and pre-computing placements; pickers use {@link xxh64StringInto}.
 */
export function xxh64BigInt(input: string | Uint8Array, seed = 0n): bigint {
  const seedHigh = Number((seed >> 32n) & 0xffffffffn);
  const seedLow = Number(seed & 0xffffffffn);
  if (typeof input === 'string') xxh64StringInto(bigOut, input, seedHigh, seedLow);
  else xxh64Into(bigOut, input, 0, input.length, seedHigh, seedLow);
  return (BigInt(bigOut[0]!) << 32n) | BigInt(bigOut[1]!);
}
