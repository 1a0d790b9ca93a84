/**
 * Shared fixtures for the consistent-hashing tests (ring_hash and maglev): endpoint states the way the Balancer
 * holds them, policies created against a shared load counter, and key populations.
 */
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import type { Picker, Policy, PolicyDefinition, SharedLoad } from '../../src/balancer/policy/picker.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { type RandomSource, seededRandom } from '../../src/random.js';

/** `10.0.x.y:8080` for i = 0, 1, … */
export function address(i: number): string {
  return `10.0.${i >> 8}.${i & 255}:8080`;
}

/** Endpoint states for the given indices (weights default to 1). */
export function makeStates(indices: readonly number[], weights?: readonly number[]): EndpointState[] {
  return indices.map((i, k) => {
    const endpoint = parseEndpoint(
      { host: address(i).split(':')[0], port: 8080, weight: weights?.[k] ?? 1 },
      'e',
    );
    return new EndpointState(endpoint, 0, 30);
  });
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A policy instance with its own load counter and a seeded random source. */
export function makePolicy<O>(
  definition: PolicyDefinition<O>,
  raw: Record<string, unknown> = {},
  random: RandomSource = seededRandom(1),
): { policy: Policy; load: SharedLoad } {
  const load: SharedLoad = { totalInFlight: 0 };
  const options = definition.parse(raw, 'policy');
  const policy = definition.create(options, {
    random,
    clock: { now: () => 0, setTimer: () => ({ cancel() {} }) },
    load,
  });
  return { policy, load };
}

/** `n` distinct keys like `session-<seed>-<i>`. */
export function makeKeys(n: number, seed = 0): string[] {
  return Array.from({ length: n }, (_, i) => `session-${seed}-${i}`);
}

/** Address chosen for each key. */
export function route(picker: Picker, keys: readonly string[]): string[] {
  return keys.map((hashKey) => picker.pick({ hashKey }, 0)!.address);
}

/** Keys per address. */
export function tally(addresses: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of addresses) counts.set(a, (counts.get(a) ?? 0) + 1);
  return counts;
}
