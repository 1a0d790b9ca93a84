/**
 * `parseBalancerOptions`: every check the Balancer makes on its options, as a pure function. Validators (the grpc-js
 * service config, resolver schemes, the simulator's fleet file) call it instead of building a throwaway Balancer;
 * the Balancer's constructor calls it too, so there is one source of truth for what is valid.
 */
import type { Clock } from '../clock.js';
import { checkClock, checkRandom } from '../config/injectables.js';
import { type RawOptions, readNumber, readObject } from '../config/validate.js';
import { type Endpoint, parseEndpoints } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import type { RandomSource } from '../random.js';
import { Subset } from '../subsetting/subset.js';
import { AddressPolicy, type AddressPolicyOptions } from './address-policy.js';
import type { BalancerExtension } from './extension.js';
import type { HealthOptions } from './health/mechanism.js';
import { CORE_BALANCER_KEYS, healthOptionNames } from './health/registry.js';
import { parseHealthOptions } from './health/set.js';
import { type CircuitBreakerLimits, parseCircuitBreakerOptions } from './limits.js';
import { checkExtensions, checkResolver, defaultBalancerOptions } from './options.js';
import { type ParsedPolicy, parsePolicyConfig } from './policy/registry.js';
import type { Resolver } from './resolver.js';
import { parseRouting, type RoutingOptions } from './routing/options.js';

/** A Balancer's options, validated, with defaults applied. */
export interface ParsedBalancerOptions {
  /** The options object as given (its keys checked), for settings a control plane may later override. */
  readonly raw: RawOptions;
  readonly name: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly routing: RoutingOptions;
  readonly closeTimeoutMs: number;
  readonly policy: ParsedPolicy;
  /** Each registered health mechanism's options by option name (`undefined` = off). */
  readonly health: HealthOptions;
  readonly limits: CircuitBreakerLimits;
  /** Compiled address policy (an immutable matcher: building it opens nothing). */
  readonly addressPolicy: AddressPolicy;
  /** The static endpoints, when given (exactly one of `endpoints` or `resolver` is). */
  readonly endpoints: Endpoint[] | undefined;
  /** The resolver, checked for shape only: it is not started. */
  readonly resolver: Resolver | undefined;
  readonly extensions: readonly BalancerExtension[];
  /** The subsetting layer from `subset` (built, not attached: it draws its seed when the Balancer attaches it). */
  readonly subset: Subset | undefined;
}

/**
 * Validates Balancer options and applies defaults. Throws {@link ConfigError} naming the field; starts nothing,
 * opens nothing, so it is safe to call only to validate.
 */
export function parseBalancerOptions(options: unknown): ParsedBalancerOptions {
  // The Balancer's own keys and every registered health mechanism's option; anything else is a ConfigError.
  const raw = readObject(options, '', [...CORE_BALANCER_KEYS, ...healthOptionNames()]);
  if ((raw.endpoints === undefined) === (raw.resolver === undefined)) {
    throw new ConfigError({
      field: 'endpoints',
      allowed: 'exactly one of `endpoints` or `resolver`',
      received: raw.endpoints,
    });
  }
  return {
    raw,
    name: parseName(raw.name),
    clock: checkClock(raw.clock),
    random: checkRandom(raw.random),
    routing: parseRouting(raw, ''),
    closeTimeoutMs: readNumber(
      raw,
      'closeTimeoutMs',
      '',
      { min: 0, max: 3_600_000 },
      defaultBalancerOptions.closeTimeoutMs,
    ),
    policy: parsePolicyConfig(raw.policy ?? defaultBalancerOptions.policy, 'policy'),
    health: parseHealthOptions(raw),
    extensions: checkExtensions(raw.extensions),
    limits: parseCircuitBreakerOptions(raw.circuitBreaker, 'circuitBreaker'),
    addressPolicy: new AddressPolicy((raw.addressPolicy ?? {}) as AddressPolicyOptions),
    endpoints: raw.endpoints === undefined ? undefined : parseEndpoints(raw.endpoints, 'endpoints'),
    resolver: checkResolver(raw.resolver),
    subset: raw.subset === undefined ? undefined : new Subset(raw.subset, 'subset'),
  };
}

function parseName(name: unknown): string {
  if (name === undefined) return 'default';
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError({ field: 'name', allowed: 'a non-empty string', received: name });
  }
  return name;
}
