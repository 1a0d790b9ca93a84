/**
 * How the switchyard client interceptor (interceptor.ts) and the switchyard picker (picker.ts) talk about one
 * attempt of a call.
 *
 * grpc-js hands a picker only the call's metadata (`PickArgs.metadata`, a fresh clone per pick). The carrier is that
 * metadata's *options* object (`Metadata.getOptions()`, where grpc-js keeps `waitForReady` and friends): `clone()`
 * passes it on by reference, and it is never serialised — only the metadata's key/value entries become HTTP/2
 * headers. So the interceptor puts an {@link AttemptRoute} there under a symbol, the picker reads it, and nothing
 * switchyard-internal ever goes on the wire (a test checks what the server receives). A metadata entry would have
 * needed the picker to strip it on every pick, and a picker of another policy would have sent it.
 *
 * What travels each way:
 * - interceptor → picker: for an attempt the executor picked (a retry), the lease whose endpoint it must go to;
 * - picker → interceptor: for an attempt the picker picked (the first), which Balancer and endpoint it used — what a
 *   retry needs to pick elsewhere on the same Balancer — or that it failed locally (no endpoint, circuit breaker);
 * - interceptor → call tracker: when the response metadata arrived, so the lease is fed time-to-headers latency as
 *   the undici adapter's is (docs/choosing-a-policy.md, "What latency means").
 */
import type { Metadata } from '@grpc/grpc-js';
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import type { StatusClassifier } from './status.js';

/** The metadata-options key of an attempt's {@link AttemptRoute}. */
export const ROUTE: unique symbol = Symbol.for('switchyard.grpc.route') as never;

/** Attempt 1's pick, as the picker made it (call-tracker.ts `CallTracker`). */
export interface PickedCall {
  /** The lease the pick took; its call tracker releases it at the call's end. */
  readonly lease: Lease;
  /** grpc-js dropped this pick without starting its call: give its slot back now (no-op once started). */
  abandon(): void;
}

/** Why a pick failed before the call reached any endpoint. */
export type LocalFailure = 'unavailable' | 'overflow' | 'unroutable';

/**
 * One attempt's shared state between the interceptor, the picker and the call tracker. One per call: fields are
 * `declare`d and created by the constructor (no separate initializer call per construction).
 */
export class AttemptRoute {
  /** Interceptor → picker: send this attempt to this lease's endpoint (a retry the executor picked). */
  declare readonly lease: Lease | undefined;
  /** The Balancer that picked: set by the interceptor with `lease`, else by the picker. */
  declare balancer: Balancer | undefined;
  /** Picker → interceptor: the endpoint the attempt went to (`host:port`). */
  declare address: string | undefined;
  /**
   * Picker → interceptor: the latest pick of this attempt (attempt 1) and its lease, which its call tracker releases
   * at the call's end — unless the executor, having adopted the attempt for a hedge, released it first (as
   * `cancelled` when it lost the race); a second release is ignored.
   */
  declare picked: PickedCall | undefined;
  /** Interceptor ← picker: called after each pick of this attempt (arms the hedge timer of a hedgeable call). */
  declare onPicked: (() => void) | undefined;
  /** Picker → interceptor: how the channel classifies status codes into outcomes. */
  declare classifier: StatusClassifier | undefined;
  /** Picker → interceptor: the pick failed locally; the attempt reached no endpoint. */
  declare local: LocalFailure | undefined;
  /** The attempt's gRPC deadline is its per-try timeout, earlier than the call's own deadline. */
  declare perTryCut: boolean;
  /** Interceptor → call tracker: when the response metadata arrived, on the Balancer's clock; -1 before. */
  declare headersAt: number;
  /** The attempt is over: a stale route (a caller reusing its Metadata) is ignored by the picker. */
  declare ended: boolean;

  constructor(lease?: Lease, balancer?: Balancer) {
    this.lease = lease;
    this.balancer = balancer;
    this.address = undefined;
    this.picked = undefined;
    this.onPicked = undefined;
    this.classifier = undefined;
    this.local = undefined;
    this.perTryCut = false;
    this.headersAt = -1;
    this.ended = false;
  }

  /** Records the arrival of response metadata (first response metadata, or trailers-only). */
  markHeaders(): void {
    if (this.headersAt < 0 && this.balancer !== undefined) this.headersAt = this.balancer.clock.now();
  }
}

interface RouteCarrier {
  readonly [ROUTE]?: AttemptRoute;
}

/** The live route of the attempt whose (cloned) metadata this is, if the interceptor set one. */
export function routeOf(metadata: Metadata): AttemptRoute | undefined {
  const route = (metadata.getOptions() as RouteCarrier)[ROUTE];
  return route === undefined || route.ended ? undefined : route;
}

/** Attaches `route` to `metadata` (a new options object: the caller's own options object is not changed). */
export function attachRoute(metadata: Metadata, route: AttemptRoute): void {
  metadata.setOptions({ ...metadata.getOptions(), [ROUTE]: route } as never);
}
