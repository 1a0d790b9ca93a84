/**
 * The Balancer's options, their defaults, its events, and the checks of the options that are not plain JSON.
 */
import type { Clock } from '../clock.js';
import { join } from '../config/validate.js';
import type { Endpoint, EndpointInput } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import type { BuiltinHealthOptions } from '../health/builtin.js';
import type { RandomSource } from '../random.js';
import type { SubsetOptions } from '../subsetting/subset.js';
import type { AddressPolicyOptions } from './address-policy.js';
import type { BalancerExtension } from './extension.js';
import type { CircuitBreakerOptions } from './limits.js';
import type { PolicyConfig } from './policy/registry.js';
import type { Resolver } from './resolver.js';
import { defaultRoutingOptions } from './routing/options.js';

/**
 * Options of `Balancer`. Plain values except `resolver`, `clock` and `random`. The health options
 * (`outlierDetection`, `healthCheck`, `slowStart`) come from the built-in health mechanisms
 * ({@link BuiltinHealthOptions}); a registered mechanism adds its own option (merge it into this interface to type it).
 */
export interface BalancerOptions extends BuiltinHealthOptions {
  /** A fixed endpoint list: `'host:port'` strings or objects. Give this or `resolver`. */
  readonly endpoints?: readonly EndpointInput[];
  /** Where endpoints come from (DNS, xDS, …). Give this or `endpoints`. */
  readonly resolver?: Resolver;
  /**
   * Which addresses endpoints may have, from every source (static, DNS, xDS, custom resolvers): allowed and denied
   * CIDRs, named ranges and host patterns. Rejected endpoints are dropped with a `switchyard:endpoint:rejected`
   * event. Default: resolver-provided link-local (169.254.0.0/16, fe80::/10), unspecified and multicast addresses
   * denied; everything else allowed. See balancer/address-policy.ts and docs/security.md.
   */
  readonly addressPolicy?: AddressPolicyOptions;
  /** Policy name or `{ name, ...options }`. Default `'p2c_robust_ewma'` (see docs/choosing-a-policy.md). */
  readonly policy?: PolicyConfig;
  /**
   * Healthy-panic threshold, percent from 0 to 100: below this share of healthy endpoints, route across all of them.
   * 0 disables. Default 50 (Envoy `healthy_panic_threshold`).
   */
  readonly panicThreshold?: number;
  /**
   * How long {@link Balancer.close} waits for outstanding leases, in ms, from 0 to 3,600,000. Default 30,000.
   */
  readonly closeTimeoutMs?: number;
  /** A name for events, stats and diagnostics (e.g. the service name). Default `'default'`. */
  readonly name?: string;
  /** Time source. Override for deterministic tests and simulation. Default: `performance.now()`. */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for every random choice. Override with `seededRandom(n)` for deterministic tests. */
  readonly random?: RandomSource;
  /** Extra modules fed with lifecycle and outcomes (health checking, circuit breaking, observability). */
  readonly extensions?: readonly BalancerExtension[];
  /** Priority/locality spill-over factor, from 1 to 100. Default 1.4 (Envoy `overprovisioning_factor` 140). */
  readonly overprovisioningFactor?: number;
  /** The caller's zone: prefer endpoints with this `locality.zone` while the zone has capacity. Default none. */
  readonly localZone?: string;
  /** Fewest endpoints in a priority level for `localZone` to apply. Default 6 (Envoy `min_cluster_size`). */
  readonly zoneAwareMinClusterSize?: number;
  /**
   * Concurrency limits that fail fast with `'overflow'` (Envoy circuit breakers). Off when absent; `{}` applies
   * Envoy's defaults (1024 each). See balancer/limits.ts.
   */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /**
   * Route to a subset of the endpoints only (deterministic aperture with a `coordinate`, random subsetting without),
   * so N clients × M backends are not N × M connections. Default off. See docs/subsetting.md.
   */
  readonly subset?: SubsetOptions;
}

/**
 * Defaults of {@link BalancerOptions}, with where they come from. Every key is an option name, so
 * `new Balancer({ ...defaultBalancerOptions, endpoints })` is valid (test/package/defaults.test.ts).
 */
export const defaultBalancerOptions = {
  policy: 'p2c_robust_ewma',
  /** Envoy healthy_panic_threshold. */
  panicThreshold: defaultRoutingOptions.panicThreshold,
  /** Envoy overprovisioning_factor (140 %). */
  overprovisioningFactor: defaultRoutingOptions.overprovisioningFactor,
  /** Envoy zone-aware min_cluster_size. */
  zoneAwareMinClusterSize: defaultRoutingOptions.zoneAwareMinClusterSize,
  closeTimeoutMs: 30_000,
} as const;

/**
 * Decay τ of the per-endpoint latency estimate when the policy does not set one (Finagle/Linkerd Peak-EWMA, 10 s).
 * Not an option: the policy's `decayMs` sets it.
 */
export const DEFAULT_LATENCY_DECAY_MS = 10_000;

/** Default wait of {@link Balancer.ready} for the first endpoint set, in ms (grpc-js waits for a first resolution
 * bounded only by the call's deadline; 10 s bounds a call without one). Not an option: `ready()` takes it. */
export const DEFAULT_READY_TIMEOUT_MS = 10_000;

/** Latency estimate of an endpoint never measured, when the policy does not set one (Linkerd, 30 ms). Not an option. */
export const DEFAULT_RTT_MS = 30;

/** Summary of one applied endpoint update. */
export interface UpdateEvent {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly note?: string;
}

/** Events a Balancer emits. None is named `error`: an unhandled event never crashes the process. */
export interface BalancerEvents {
  /** An endpoint set was applied. */
  update: [UpdateEvent];
  /** The resolver failed, or sent an update that failed validation. The last good set is kept. */
  'resolver-error': [Error];
  /** A new picker was built over `routable` endpoints. */
  picker: [{ readonly routable: number; readonly panic: boolean }];
  /** The healthy-panic threshold was crossed (`true` entering panic, `false` leaving). */
  panic: [boolean];
  /** A removed endpoint has no outstanding leases left; an adapter may close its connections now. */
  drained: [Endpoint];
}

/** Why {@link Balancer.tryPick} gave no lease. */
export type PickFailure = 'unavailable' | 'overflow';

/** Validates the `extensions` option. */
export function checkExtensions(extensions: unknown): readonly BalancerExtension[] {
  if (extensions === undefined) return [];
  if (!Array.isArray(extensions))
    throw new ConfigError({ field: 'extensions', allowed: 'an array', received: extensions });
  extensions.forEach((e, i) => {
    if (typeof e !== 'object' || e === null)
      throw new ConfigError({ field: join('extensions', `[${i}]`), allowed: 'an object', received: e });
  });
  return extensions as readonly BalancerExtension[];
}

/**
 * Checks that `resolver` is a {@link Resolver}: an object with `start`, `refresh` and `close` methods. A string such
 * as `'dns:///orders'` is a URI for the gRPC adapter, not a resolver: say so rather than fail with a TypeError later.
 */
export function checkResolver(resolver: unknown): Resolver | undefined {
  if (resolver === undefined) return undefined;
  const allowed =
    'a Resolver: an object with start(), refresh() and close() methods (e.g. new DnsResolver(…))';
  if (typeof resolver !== 'object' || resolver === null)
    throw new ConfigError({ field: 'resolver', allowed, received: resolver });
  for (const method of ['start', 'refresh', 'close'] as const) {
    const value = (resolver as Record<string, unknown>)[method];
    if (typeof value !== 'function')
      throw new ConfigError({ field: join('resolver', method), allowed: 'a function', received: value });
  }
  return resolver as Resolver;
}
