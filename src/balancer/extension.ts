/**
 * Balancer extensions: modules that watch endpoints and outcomes and may change what is routable (outlier
 * detection, active health checks, slow start), or only observe (metrics). They are called synchronously; the
 * `outcome` hook runs on every release, so it must be cheap and allocation-free.
 */
import type { Clock } from '../clock.js';
import type { RandomSource } from '../random.js';
import type { EndpointState } from './endpoint-state.js';
import type { Outcome } from './outcome.js';

/** What an extension gets from its Balancer when attached. */
export interface ExtensionContext {
  readonly balancerName: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Every endpoint the balancer holds state for, including removed ones still draining. */
  states(): IterableIterator<EndpointState>;
  /** Call after changing anything that affects routing (ejected, activeHealthy, effectiveWeight): rebuilds the picker. */
  invalidate(): void;
}

export interface BalancerExtension {
  /** Called once, from the Balancer's constructor, before the first endpoints are applied. */
  attach?(context: ExtensionContext): void;
  endpointAdded?(state: EndpointState): void;
  endpointRemoved?(state: EndpointState): void;
  /**
   * Called at the start of every picker rebuild, before the routable set is computed: the place to derive
   * routing inputs from the current health (slow start sets `effectiveWeight` here). Off the hot path. Must be
   * idempotent: when known endpoints join the subset (src/subsetting) it runs a second time with the same `now`.
   */
  beforeRebuild?(now: number): void;
  /** Every release except cancellations, with the latency used and the time. */
  outcome?(state: EndpointState, outcome: Outcome, latencyMs: number, now: number): void;
  /** Stop timers and sockets. */
  close?(): void | Promise<void>;
}
