/**
 * What `ring_hash` and `maglev` share: a canonical endpoint order, a one-entry cache of the last ring/table, the
 * `balanceFactor` option, and the key-less fallback.
 *
 * Canonical order: the ring or table depends only on the set of (address, weight) pairs, never on the order a
 * resolver listed them in, so every client of a service that sees the same set maps a key to the same endpoint
 * (what a cache tier in front of sharded stores needs). Endpoints are sorted by address, and a picker indexes them
 * in that order.
 *
 * Cache: the Balancer rebuilds its picker on every routing-relevant change (health, panic, policy switch). When the
 * routable set and its weights are unchanged the ring/table is reused as is; only the (cheap) picker object and its
 * endpoint array are new.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { Picker, Policy, PolicyEnvironment } from '../balancer/policy/picker.js';
import { type RawOptions, readOptionalNumber } from '../config/validate.js';
import { LoadBound } from './bounded-load.js';
import { Xorshift32 } from './fast-random.js';

/** Endpoints in canonical order, their weights, and a signature of the (address, weight) pairs. */
export interface CanonicalSet {
  readonly endpoints: readonly EndpointState[];
  readonly addresses: readonly string[];
  readonly weights: Float64Array;
  /** Equal signatures ⇔ equal (address, weight) lists; the cache key. */
  readonly signature: string;
}

/**
 * Sorts endpoints by address (code-unit order, locale-independent) and records their configured weights.
 *
 * Configured, not effective: slow start ramps `effectiveWeight` every tick, and a table rebuilt on every tick
 * would move keys back and forth while an endpoint warms up. Key stability is the point of these policies, so they
 * ignore slow start (as Envoy does: slow start applies to round robin and least request only).
 */
export function canonicalSet(endpoints: readonly EndpointState[]): CanonicalSet {
  return listedSet(
    [...endpoints].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)),
  );
}

/**
 * The endpoints in the order given, with their configured weights and signature. For `ring_hash`, whose A42
 * sizing (fractions carried from one endpoint to the next) depends on list order, as in gRPC and Envoy.
 */
export function listedSet(sorted: readonly EndpointState[]): CanonicalSet {
  const weights = new Float64Array(sorted.length);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const state = sorted[i]!;
    weights[i] = state.endpoint.weight;
    parts.push(`${state.address}\u0000${state.endpoint.weight}`);
  }
  return {
    endpoints: sorted,
    addresses: sorted.map((s) => s.address),
    weights,
    signature: parts.join('\u0001'),
  };
}

/** Keeps the last built structure and its signature; a policy instance owns one. */
export class LastBuild<T> {
  #signature: string | undefined;
  #value: T | undefined;

  /** The cached value when `signature` matches the last build, else `build()` (which then becomes the cache). */
  get(signature: string, build: () => T): T {
    if (this.#value !== undefined && this.#signature === signature) return this.#value;
    const value = build();
    this.#signature = signature;
    this.#value = value;
    return value;
  }
}

/** Allowed range of `balanceFactor` (c ≥ 1; Envoy's `hash_balance_factor` is the same in percent, ≥ 100). */
export const BALANCE_FACTOR_RANGE = { min: 1 } as const;

/** Reads the optional `balanceFactor` option; `undefined` (the default) turns bounded load off. */
export function readBalanceFactor(obj: RawOptions, path: string): number | undefined {
  return readOptionalNumber(obj, 'balanceFactor', path, BALANCE_FACTOR_RANGE);
}

/**
 * A uniformly random unsigned 32-bit hash, for picks without a key: gRPC A76 ("if the header is absent, use a
 * random hash"), so key-less requests spread like a uniform key population — in proportion to weight, and still
 * under the load bound. Drawn from the picker's xorshift32, seeded from the Balancer's random source.
 */
export function randomHash(rng: Xorshift32): number {
  return (rng.uniform() * 4294967296) >>> 0;
}

/**
 * The policy object both hashing policies return: canonical order, the cached structure (table or ring), a fresh
 * xorshift32 for key-less picks, and a {@link LoadBound} when `balanceFactor` is set. `order` is
 * {@link canonicalSet} (sorted by address) unless the structure must follow list order ({@link listedSet}).
 */
export function hashPolicy<Structure>(
  name: string,
  env: PolicyEnvironment,
  balanceFactor: number | undefined,
  buildStructure: (set: CanonicalSet) => Structure,
  makePicker: (
    endpoints: readonly EndpointState[],
    structure: Structure,
    rng: Xorshift32,
    bound: LoadBound | undefined,
  ) => Picker,
  order: (endpoints: readonly EndpointState[]) => CanonicalSet = canonicalSet,
): Policy {
  const cache = new LastBuild<Structure>();
  return {
    name,
    build(endpoints) {
      const set = order(endpoints);
      const structure = cache.get(set.signature, () => buildStructure(set));
      const bound =
        balanceFactor === undefined ? undefined : new LoadBound(set.weights, balanceFactor, env.load);
      return makePicker(set.endpoints, structure, new Xorshift32(env.random), bound);
    },
  };
}
