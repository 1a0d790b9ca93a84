/** Shared fixtures for picker tests: a balancer with direct access to its EndpointStates. */
import { Balancer, type BalancerOptions } from '../../src/balancer/balancer.js';
import type { EndpointState } from '../../src/balancer/endpoint-state.js';
import type { ExtensionContext } from '../../src/balancer/extension.js';
import { ManualClock } from '../../src/clock.js';
import type { EndpointInput } from '../../src/endpoint.js';
import { seededRandom } from '../../src/random.js';

export interface Rig {
  readonly balancer: Balancer;
  readonly clock: ManualClock;
  state(address: string): EndpointState;
}

export function rig(
  endpoints: readonly EndpointInput[],
  options: Partial<BalancerOptions> = {},
  seed = 1,
): Rig {
  let context: ExtensionContext | undefined;
  const clock = new ManualClock();
  const balancer = new Balancer({
    endpoints,
    clock,
    random: seededRandom(seed),
    ...options,
    extensions: [{ attach: (c) => (context = c) }, ...(options.extensions ?? [])],
  });
  return {
    balancer,
    clock,
    state(address) {
      for (const s of context!.states()) if (s.address === address) return s;
      throw new Error(`no state for ${address}`);
    },
  };
}

/** Picks `n` times, releasing each at once; returns the share per address. */
export function shares(balancer: Balancer, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const lease = balancer.pick()!;
    counts[lease.endpoint.address] = (counts[lease.endpoint.address] ?? 0) + 1;
    lease.release({ ok: true, latencyMs: 1 });
  }
  for (const key of Object.keys(counts)) counts[key] = counts[key]! / n;
  return counts;
}

export const ALL_POLICIES = [
  'round_robin',
  'weighted_round_robin',
  'random',
  'least_request',
  'p2c_peak_ewma',
  'p2c_robust_ewma',
] as const;
