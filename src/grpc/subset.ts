/**
 * Subsetting for the grpc-js policy (docs/subsetting.md). The Balancer's own `subset` layer works on endpoints it
 * already holds, but the policy gives the Balancer only READY endpoints and creates a subchannel (a connection) for
 * every endpoint the resolver lists. So the policy applies the subset itself, before subchannels exist: only the
 * subset's endpoints get subchannels, an endpoint that fails to connect widens the subset along the ring, and each
 * member's weight carries its overlap with the window.
 */
import { Subset } from '../subsetting/subset.js';
import type { MappedEndpoint } from './endpoints.js';

export interface GrpcSubset {
  /** The endpoints that should have subchannels, weights scaled by their overlap with the window. */
  wanted(
    mapped: ReadonlyMap<string, MappedEndpoint>,
    healthy: (address: string) => boolean,
  ): Map<string, MappedEndpoint>;
  readonly subset: Subset;
}

/** Builds the policy's subset from validated `balancer.subset` options (a random seed from `Math.random`). */
export function grpcSubset(options: unknown): GrpcSubset {
  const subset = new Subset(options, 'balancer.subset');
  // The subset is recomputed on every resolver update and connectivity change; no rebuild trigger needed.
  subset.attach({ random: Math.random, invalidate: () => {} });
  return {
    subset,
    wanted(mapped, healthy) {
      const wanted = new Map<string, MappedEndpoint>();
      const zoneOf = (address: string) => mapped.get(address)!.input.locality?.zone;
      for (const { address, overlap } of subset.choose([...mapped.keys()], healthy, zoneOf)) {
        const m = mapped.get(address)!;
        const weight = (m.input.weight ?? 1) * overlap;
        wanted.set(address, overlap === 1 ? m : { ...m, input: { ...m.input, weight } });
      }
      return wanted;
    },
  };
}
