/**
 * Policies are plugins registered by name, like grpc-js's `registerLoadBalancerType`. The same name and options
 * work from code (`policy: { name: 'maglev', tableSize: 65537 }`), from a grpc-js service config and from xDS.
 */
import { ConfigError } from '../../errors/config-error.js';
import { builtinPolicies, defaultLatencyEstimator } from '../../pickers/builtin.js';
import type { LatencyEstimator } from '../estimator.js';
import type { Policy, PolicyDefinition, PolicyEnvironment } from './picker.js';

/**
 * Seeded from {@link builtinPolicies} (a value this module imports), not by the policy modules registering
 * themselves on import: registration through import side effects is dropped by bundlers under `"sideEffects": false`.
 */
const registry = new Map<string, PolicyDefinition<unknown>>(
  builtinPolicies.map((definition) => [definition.name, definition]),
);

/** A policy selection: a registered name, or an object with `name` plus that policy's options. */
export type PolicyConfig = string | ({ readonly name: string } & Readonly<Record<string, unknown>>);

/** A validated selection, ready to instantiate. */
export interface ParsedPolicy {
  readonly definition: PolicyDefinition<unknown>;
  readonly options: unknown;
}

/**
 * Registers a policy. Names are unique: registering a second definition under a taken name throws unless
 * `replace` is set (the last write silently winning, as in grpc-js, hides mistakes).
 */
export function registerPolicy<O>(definition: PolicyDefinition<O>, { replace = false } = {}): void {
  if (!/^[a-z][a-z0-9_]*$/.test(definition.name)) {
    throw new ConfigError({
      field: 'policy.name',
      allowed: 'snake_case letters, digits and _',
      received: definition.name,
    });
  }
  if (registry.has(definition.name) && !replace) {
    throw new ConfigError({
      field: 'policy.name',
      allowed: 'a name not already registered',
      received: definition.name,
    });
  }
  registry.set(definition.name, definition as PolicyDefinition<unknown>);
}

/** Names of every registered policy, sorted. */
export function registeredPolicies(): string[] {
  return [...registry.keys()].sort();
}

/** Looks up a definition by name. */
export function getPolicyDefinition(name: string): PolicyDefinition<unknown> | undefined {
  return registry.get(name);
}

/** Validates a policy selection. Throws {@link ConfigError} naming `path` for unknown names or bad options. */
export function parsePolicyConfig(config: unknown, path = 'policy'): ParsedPolicy {
  let name: unknown;
  let raw: Readonly<Record<string, unknown>>;
  if (typeof config === 'string') {
    name = config;
    raw = {};
  } else if (typeof config === 'object' && config !== null && !Array.isArray(config)) {
    const { name: n, ...rest } = config as Record<string, unknown>;
    name = n;
    raw = rest;
  } else {
    throw new ConfigError({
      field: path,
      allowed: 'a policy name or { name, ...options }',
      received: config,
    });
  }
  const definition = typeof name === 'string' ? registry.get(name) : undefined;
  if (definition === undefined) {
    throw new ConfigError({
      field: typeof config === 'string' ? path : `${path}.name`,
      allowed: `one of ${registeredPolicies()
        .map((n) => `"${n}"`)
        .join(', ')}`,
      received: name,
    });
  }
  return { definition, options: definition.parse(raw, path) };
}

/** Instantiates a validated selection for one Balancer. */
export function createPolicy(parsed: ParsedPolicy, env: PolicyEnvironment): Policy {
  return parsed.definition.create(parsed.options, env);
}

/**
 * The latency estimator a Balancer feeds for `policy`: the policy's own, else the default load metric (classic
 * Peak-EWMA) with the policy's decay, else `decayMs`.
 */
export function policyEstimator(policy: Policy, decayMs: number): LatencyEstimator {
  return policy.latency?.estimator ?? defaultLatencyEstimator(policy.latency?.decayMs ?? decayMs);
}
