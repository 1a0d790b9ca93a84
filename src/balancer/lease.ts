/**
 * A lease on one endpoint for one request: what `balancer.pick()` returns.
 */
import type { Endpoint } from '../endpoint.js';
import type { EndpointState } from './endpoint-state.js';
import { type Outcome, SUCCESS } from './outcome.js';

/**
 * With a policy that reads no latency (`round_robin`, `least_request`, the hashing policies, …), the latency
 * estimate shown by `stats()` and the metrics takes each endpoint's first response and then one response in this
 * many (successes and failures counted apart): a sampled Peak-EWMA, still following the endpoint's latency, at a
 * sixteenth of the cost. Latency-aware policies (`latency` declared) see every response. A power of two (the
 * Balancer tests `n & (LATENCY_SAMPLE_EVERY − 1)`).
 */
export const LATENCY_SAMPLE_EVERY = 16;

/**
 * An endpoint acquired by `Balancer.acquire` / `Balancer.tryAcquire` (the Lease-free path), with one request counted
 * in flight until `Balancer.complete` is called on it. Only the balancer that returned it accepts it back.
 */
export interface EndpointHandle {
  /** The endpoint's current description (read it at acquire time: it is replaced when the resolver changes it). */
  readonly endpoint: Endpoint;
  /** `host:port`. */
  readonly address: string;
  /** @internal Brands handles: only an acquire returns one. */
  readonly [kHandle]: true;
}
declare const kHandle: unique symbol;

/** @internal How a lease reports back to its Balancer: `Balancer.complete`, the Lease-free path's release. */
export interface LeaseSink {
  complete(handle: EndpointHandle, outcome: Outcome, startedAt: number): void;
}

/**
 * Holds one in-flight slot on an endpoint until {@link Lease.release} is called. Release exactly once, on every
 * path (success, failure, cancel); a second release is ignored, so a `finally` that releases after an explicit
 * failure release is harmless. A lease on an endpoint that the resolver has since removed still releases normally.
 */
export class Lease {
  readonly #sink: LeaseSink;
  readonly #state: EndpointState;
  readonly #endpoint: Endpoint;
  /** Clock time of the pick, in ms. */
  readonly startedAt: number;
  #released: boolean;

  /** @internal Created by `Balancer.pick()`. */
  constructor(sink: LeaseSink, state: EndpointState, startedAt: number) {
    this.#sink = sink;
    this.#state = state;
    this.#endpoint = state.endpoint;
    this.startedAt = startedAt;
    // Assigned here rather than as a field initializer: V8 runs initializers as a separate call per construction.
    this.#released = false;
  }

  /** The endpoint picked (as described at pick time). */
  get endpoint(): Endpoint {
    return this.#endpoint;
  }

  /** True once released. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Reports how the request went and frees the in-flight slot. Without `latencyMs` the balancer measures from the
   * pick with its clock. This is the single path by which callers feed in-flight counts, latency estimates and
   * passive health checking.
   */
  release(outcome: Outcome = SUCCESS): void {
    // `=== true`: one compare, where a bare test of a boolean field compiles to a full ToBoolean.
    if (this.#released === true) return;
    this.#released = true;
    this.#sink.complete(this.#state as unknown as EndpointHandle, outcome, this.startedAt);
  }
}
