/**
 * Randomness, injectable.
 *
 * Pickers draw many random numbers per second, so the default source is a small inline PRNG (xorshift128+ style,
 * seeded once from `Math.random`) rather than `Math.random` itself: it is about as fast and, more importantly, can
 * be seeded. Pass `random: seededRandom(42)` to a Balancer for deterministic tests and simulations.
 */

/** A source of uniform numbers in [0, 1). Override for deterministic tests. */
export type RandomSource = () => number;

/**
 * A seeded PRNG (Mulberry32-style mix over a 32-bit state): fast, 2^32 period, good enough for load balancing and
 * simulation, not for cryptography. The same seed always yields the same sequence.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The default random source: {@link seededRandom} seeded from `Math.random`. */
export function defaultRandom(): RandomSource {
  return seededRandom((Math.random() * 4294967296) >>> 0);
}
