/** A resolver the test drives by hand: `listener` is what the Balancer passed to `start`, to push updates with. */
import type { Resolver, ResolverListener } from '../../src/balancer/resolver.js';

export type ManualResolver = Resolver & { listener?: ResolverListener };

export function manualResolver(): ManualResolver {
  const r: ManualResolver = {
    start(listener) {
      r.listener = listener;
    },
    refresh() {},
    close() {},
  };
  return r;
}
