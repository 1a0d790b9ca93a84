/**
 * The pickers' own PRNG: xorshift32 (Marsaglia 2003), seeded from the Balancer's injected random source.
 *
 * Why not call the injected `random()` on every pick: a call through a closure costs more than the rest of a P2C
 * pick (see benchmarks/suites/pickers.ts). Seeding a small inline generator from it at build time keeps picks
 * deterministic under `seededRandom(n)` — the same seed gives the same picks — at the cost of a hand-written P2C.
 * Quality: xorshift32 fails some statistical batteries, which does not matter for choosing among endpoints.
 */
import type { RandomSource } from '../random.js';

export class Xorshift32 {
  #x: number;

  constructor(random: RandomSource) {
    this.#x = (random() * 4294967296) >>> 0 || 0x9e3779b9;
  }

  /** Next raw 32-bit state (as an unsigned integer). */
  #step(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x;
    return x >>> 0;
  }

  /** Uniform integer in [0, n), n ≤ 2^21 (exact: 2^32 · n stays below 2^53). */
  below(n: number): number {
    return ((this.#step() * n) / 4294967296) | 0;
  }

  /** Uniform number in [0, 1). */
  uniform(): number {
    return this.#step() / 4294967296;
  }
}
