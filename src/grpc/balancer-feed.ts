/**
 * The "resolver" of a `switchyard` policy's Balancer: the policy pushes it the endpoints grpc-js can send on right
 * now, with the control plane's cluster settings, through the Balancer's own resolver-update path. That path applies
 * cluster settings (policy, panic threshold, outlier detection, circuit breaker, slow start) in place, as it does for
 * any resolver, so a control-plane change keeps latency estimates, ejections and in-flight counts; `setEndpoints`
 * could only replace the endpoints.
 */

import type { Resolver, ResolverClusterConfig, ResolverListener } from '../balancer/resolver.js';
import type { EndpointInput } from '../endpoint.js';

export class BalancerFeed implements Resolver {
  #listener: ResolverListener | undefined;

  start(listener: ResolverListener): void {
    this.#listener = listener;
  }

  /** Re-resolution is grpc-js's business (the policy asks its channel helper). */
  refresh(): void {}

  close(): void {
    this.#listener = undefined;
  }

  /** Hands the Balancer a new endpoint set and the cluster settings in force (none: the channel's own config). */
  push(endpoints: readonly EndpointInput[], cluster: ResolverClusterConfig | undefined): void {
    this.#listener?.onUpdate(cluster === undefined ? { endpoints } : { endpoints, cluster });
  }
}
