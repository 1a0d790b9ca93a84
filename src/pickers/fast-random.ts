/**
 * The pickers' own PRNG: xorshift32 (Marsaglia 2003), seeded from the Balancer's injected random source.
 *
 * Why not call the injected `random()` on every pick: a call through a closure costs more than the rest of a P2C
 * pick (see benchmarks/suites/pickers.ts). Seeding a small inline generator from it at build time keeps picks
 * deterministic under `seededRandom(n)` — the same seed gives the same picks — at the cost of a hand-written P2C.
 * Quality: xorshift32 fails some statistical batteries, which does not matter for choosing among endpoints.
 *
 * Written for V8: the state is a public field holding a signed 32-bit integer, so it stays an untagged small
 * integer (a uint32 above 2^31 would be boxed as a heap double), and `below` is small enough to be inlined into
 * the picker. A private field and a private helper method measured 1.5× slower here.
 */
import type { RandomSource } from '../random.js';

export class Xorshift32 {
  /** @internal The generator state, a non-zero signed 32-bit integer. */
  x: number;

  constructor(random: RandomSource) {
    this.x = (random() * 4294967296) | 0 || 0x2545f491;
  }

  /** Uniform integer in [0, n), n ≤ 2^21 (exact: 2^32 · n stays below 2^53). */
  below(n: number): number {
    const x = xorshift32(this.x);
    this.x = x;
    return scaleBelow(x, n);
  }

  /** Uniform number in [0, 1). */
  uniform(): number {
    const x = xorshift32(this.x);
    this.x = x;
    return (x >>> 0) / 4294967296;
  }
}

/**
 * One xorshift32 step: the next state after `x` (a non-zero signed 32-bit integer). For a picker that keeps the
 * state in a field of its own (one object less to load and store per draw than through an {@link Xorshift32}).
 */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  return x ^ (x << 5);
}

/** Maps a state of {@link xorshift32} onto a uniform integer in [0, n), n ≤ 2^21, as {@link Xorshift32.below}. */
export function scaleBelow(x: number, n: number): number {
  return (((x >>> 0) * n) / 4294967296) | 0;
}
