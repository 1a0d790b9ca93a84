/**
 * Service-time distributions for simulated backends, described in plain JSON and sampled from a seeded source.
 *
 * - `constant` — every request takes `ms`.
 * - `exponential` — mean `meanMs`; memoryless, the textbook M/M/c server.
 * - `lognormal` — median `medianMs`, shape `sigma`: the usual fit for real RPC latencies; sigma ≥ 1 gives the
 *   heavy tail behind the "unlucky server" (a few requests take 10–100× the median).
 * - `pareto` — `scaleMs` (the minimum) and `shape` α; α ≤ 2 has infinite variance, the heaviest tail here.
 * - `bimodal` — `fastMs` most of the time, `slowMs` with probability `slowFraction` (a cache miss, a GC pause).
 *
 * Every distribution accepts `maxMs`, a cap on one sample (default 600,000 ms), so a pathological draw cannot stall
 * a whole run.
 */
import { checkNumber, join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import type { RandomSource } from '../random.js';

/** A service-time distribution, as JSON. Times in milliseconds. */
export type DistributionConfig =
  | { readonly type: 'constant'; readonly ms: number; readonly maxMs?: number }
  | { readonly type: 'exponential'; readonly meanMs: number; readonly maxMs?: number }
  | { readonly type: 'lognormal'; readonly medianMs: number; readonly sigma: number; readonly maxMs?: number }
  | { readonly type: 'pareto'; readonly scaleMs: number; readonly shape: number; readonly maxMs?: number }
  | {
      readonly type: 'bimodal';
      readonly fastMs: number;
      readonly slowMs: number;
      readonly slowFraction: number;
      readonly maxMs?: number;
    };

/** Draws one sample (ms) from a uniform source. */
export type Sampler = (random: RandomSource) => number;

const TYPES = ['constant', 'exponential', 'lognormal', 'pareto', 'bimodal'] as const;
const POSITIVE = { min: 0, exclusiveMin: true, max: 3_600_000 } as const;
/** Default cap on one sample, in ms. */
export const DEFAULT_MAX_SAMPLE_MS = 600_000;

/** Validates a distribution and returns its sampler. Throws {@link ConfigError} naming `path`. */
export function parseDistribution(raw: unknown, path: string): Sampler {
  const type = (raw as { type?: unknown } | undefined)?.type;
  if (typeof raw !== 'object' || raw === null || !TYPES.includes(type as (typeof TYPES)[number])) {
    throw new ConfigError({
      field: join(path, 'type'),
      allowed: `one of ${TYPES.map((t) => `"${t}"`).join(', ')}`,
      received: type,
    });
  }
  const cap = (obj: Readonly<Record<string, unknown>>) =>
    readNumber(obj, 'maxMs', path, POSITIVE, DEFAULT_MAX_SAMPLE_MS);
  switch (type as (typeof TYPES)[number]) {
    case 'constant': {
      const obj = readObject(raw, path, ['type', 'ms', 'maxMs']);
      const ms = Math.min(checkNumber(obj.ms, join(path, 'ms'), { min: 0, max: 3_600_000 }), cap(obj));
      return () => ms;
    }
    case 'exponential': {
      const obj = readObject(raw, path, ['type', 'meanMs', 'maxMs']);
      const mean = checkNumber(obj.meanMs, join(path, 'meanMs'), POSITIVE);
      const max = cap(obj);
      return (random) => Math.min(-mean * Math.log(1 - random()), max);
    }
    case 'lognormal': {
      const obj = readObject(raw, path, ['type', 'medianMs', 'sigma', 'maxMs']);
      const median = checkNumber(obj.medianMs, join(path, 'medianMs'), POSITIVE);
      const sigma = checkNumber(obj.sigma, join(path, 'sigma'), { min: 0, max: 5 });
      const max = cap(obj);
      return (random) => Math.min(median * Math.exp(sigma * standardNormal(random)), max);
    }
    case 'pareto': {
      const obj = readObject(raw, path, ['type', 'scaleMs', 'shape', 'maxMs']);
      const scale = checkNumber(obj.scaleMs, join(path, 'scaleMs'), POSITIVE);
      const shape = checkNumber(obj.shape, join(path, 'shape'), { min: 0, exclusiveMin: true, max: 100 });
      const max = cap(obj);
      return (random) => Math.min(scale / (1 - random()) ** (1 / shape), max);
    }
    case 'bimodal': {
      const obj = readObject(raw, path, ['type', 'fastMs', 'slowMs', 'slowFraction', 'maxMs']);
      const fast = checkNumber(obj.fastMs, join(path, 'fastMs'), { min: 0, max: 3_600_000 });
      const slow = checkNumber(obj.slowMs, join(path, 'slowMs'), { min: 0, max: 3_600_000 });
      const p = checkNumber(obj.slowFraction, join(path, 'slowFraction'), { min: 0, max: 1 });
      const max = cap(obj);
      return (random) => Math.min(random() < p ? slow : fast, max);
    }
  }
}

/**
 * A standard normal draw by the Box–Muller transform. Uses two uniforms per draw and discards the second normal:
 * caching it would make the sequence depend on call history across backends sharing a source.
 */
export function standardNormal(random: RandomSource): number {
  const u = 1 - random(); // (0, 1]: log(0) is -Infinity
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
