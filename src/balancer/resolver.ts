/**
 * The Resolver contract: where a Balancer's endpoints come from.
 *
 * A resolver pushes whole endpoint sets (state of the world), the way DNS answers and xDS state-of-the-world
 * responses arrive; the Balancer diffs them against what it has, keeping the runtime state of endpoints present
 * before and after. The contract every resolver keeps:
 *
 * - A failed refresh never empties the set: report it through `onError` and keep quiet about endpoints. Only a
 *   successful answer (which may legitimately be empty, e.g. an EDS assignment with no endpoints) replaces the set.
 * - `refresh()` asks for re-resolution now (the adapters call it when a connection drops); resolvers rate-limit it.
 * - `close()` stops every timer and socket. A closed resolver never calls its listener again.
 * - Listener calls happen asynchronously, never from inside `start()` or `refresh()`.
 */
import type { EndpointInput } from '../endpoint.js';
import type { PolicyConfig } from './policy/registry.js';

/** Cluster-level settings a control plane may send along with endpoints (xDS CDS). All optional. */
export interface ResolverClusterConfig {
  /** Policy selection to switch the Balancer to. */
  readonly policy?: PolicyConfig;
  /** Healthy-panic threshold, percent (0 disables). */
  readonly panicThreshold?: number;
  /** Overprovisioning factor for priority failover (EDS), e.g. 1.4. */
  readonly overprovisioningFactor?: number;
  /**
   * Anything else the control plane sent. The Balancer applies `circuitBreaker` and every registered health
   * mechanism's option (built in: `outlierDetection`, `slowStart`) in the resolver's shapes (xDS: cds.ts), mapped by
   * balancer/cluster-settings.ts and each mechanism's `fromCluster`; a setting sent here wins over the Balancer
   * option of the same name.
   */
  readonly [key: string]: unknown;
}

/** One successful resolution. */
export interface ResolverUpdate {
  readonly endpoints: readonly EndpointInput[];
  readonly cluster?: ResolverClusterConfig;
  /**
   * The request header whose value is the hash key, when the source says so (an xDS route's header
   * `hash_policy`). The grpc-js `switchyard` policy hashes that metadata key unless its config names one.
   */
  readonly hashHeader?: string;
  /** Short human-readable note on where this came from (e.g. `dns: 3 A records, ttl 30s`), for events and logs. */
  readonly note?: string;
}

/** Receives a resolver's results. */
export interface ResolverListener {
  onUpdate(update: ResolverUpdate): void;
  /** A failed resolution. The Balancer keeps its last good set. */
  onError(error: Error): void;
}

/** A source of endpoint sets. */
export interface Resolver {
  /** Starts resolving; results arrive through `listener`. Called once. */
  start(listener: ResolverListener): void;
  /** Asks for re-resolution soon (rate-limited by the resolver). */
  refresh(): void;
  /** Stops timers and sockets. Idempotent. */
  close(): void | Promise<void>;
}
