/**
 * The picker plugin contract.
 *
 * A *policy* is a named algorithm with validated options (`{ name: 'least_request', choiceCount: 3 }`). The
 * Balancer asks its policy to build a *picker* — an immutable snapshot over the routable endpoints — whenever the
 * routable set or the weights change, and calls `picker.pick()` on every request. This is grpc-js's picker model:
 * building may be slow (a Maglev table), picking must be fast (O(1), or O(log n) for rings) and allocation-free.
 *
 * Pickers read live load (in-flight, latency estimate) from the {@link EndpointState} objects they hold; they never
 * write state. The Balancer does the bookkeeping on pick and release.
 */

import type { Clock } from '../../clock.js';
import type { RandomSource } from '../../random.js';
import type { EndpointState } from '../endpoint-state.js';
import type { LatencyEstimator } from '../estimator.js';

/** Per-request inputs to a pick. All optional; pass a shared constant object when you have none. */
export interface PickContext {
  /** Affinity key for the hashing policies (`ring_hash`, `maglev`). Ignored by the others. */
  readonly hashKey?: string;
  /**
   * Endpoints to avoid (addresses), e.g. those a retry already tried. A preference, not a constraint: when every
   * routable endpoint is excluded, the pick returns one of them rather than nothing (Envoy's previous-hosts retry
   * predicate does the same after its attempts run out).
   */
  readonly exclude?: readonly string[] | ReadonlySet<string>;
  /**
   * The current time on the balancer's clock, when the caller already has it (adapters read the clock for their
   * timeouts anyway). Saves a clock read, which costs more than the pick itself.
   */
  readonly now?: number;
}

/** An immutable snapshot that chooses one endpoint per request. */
export interface Picker {
  /** Returns an endpoint from the snapshot, or `undefined` when the snapshot is empty. */
  pick(ctx: PickContext, now: number): EndpointState | undefined;
  /**
   * Optional: the first endpoint that `accept` takes, in this policy's own order of second choices for the request.
   * The Balancer calls it when the picked endpoint is excluded (a retry) or full. The hashing policies implement it
   * by walking on from the key's position along the ring or table, so a retry of a keyed request goes to the same
   * deterministic second choice every time rather than to a random endpoint (a cache behind it stays warm).
   * Without it the Balancer re-picks, then scans. Off the hot path; may allocate.
   */
  pickNext?(
    ctx: PickContext,
    now: number,
    accept: (state: EndpointState) => boolean,
  ): EndpointState | undefined;
}

/** Balancer-wide live numbers a picker may read (shared, mutated by the Balancer). */
export interface SharedLoad {
  /** Sum of in-flight requests over every endpoint of the balancer. */
  totalInFlight: number;
}

/** What a policy gets from its Balancer when it is created. */
export interface PolicyEnvironment {
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly load: SharedLoad;
}

/** A policy instance, owned by one Balancer. May keep state across rebuilds (e.g. a cached hash ring). */
export interface Policy {
  readonly name: string;
  /** Builds a picker over `endpoints` (non-empty; the Balancer handles the empty set). */
  build(endpoints: readonly EndpointState[]): Picker;
  /**
   * The latency-estimate decay (τ, ms) this policy wants the Balancer to use, and the estimate a new endpoint
   * starts with, and the estimator that turns latencies into estimates (classic Peak-EWMA when absent). Policies
   * that ignore latency leave these undefined and the Balancer's defaults apply.
   */
  readonly latency?: {
    readonly decayMs: number;
    readonly defaultRttMs: number;
    readonly estimator?: LatencyEstimator;
  };
}

/**
 * A registered policy: a name, an options parser (plain camelCase JSON in, validated options with defaults out,
 * {@link ConfigError} on anything else), and a factory.
 */
export interface PolicyDefinition<Options = unknown> {
  readonly name: string;
  /** One-line description, for docs and error messages. */
  readonly description: string;
  /** Validates raw options (without the `name` key). `path` prefixes field names in errors, e.g. `policy`. */
  parse(raw: Readonly<Record<string, unknown>>, path: string): Options;
  create(options: Options, env: PolicyEnvironment): Policy;
}

/** A picker over the empty set. */
export const EMPTY_PICKER: Picker = { pick: () => undefined };
