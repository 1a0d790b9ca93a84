/**
 * The health-mechanism registry: every mechanism a new Balancer knows, by option name. Seeded from
 * {@link builtinHealthMechanisms} (a value this module imports), like the policy registry, rather than by the
 * mechanisms registering themselves on import: under `"sideEffects": false` a bundler drops import side effects.
 */
import { ConfigError } from '../../errors/config-error.js';
import { builtinHealthMechanisms } from '../../health/builtin.js';
import type { BalancerExtension } from '../extension.js';
import type { HealthMechanism } from './mechanism.js';

/** The Balancer's own option names: no mechanism may take one. */
const RESERVED = new Set([
  'endpoints',
  'resolver',
  'addressPolicy',
  'policy',
  'panicThreshold',
  'closeTimeoutMs',
  'name',
  'clock',
  'random',
  'extensions',
  'overprovisioningFactor',
  'localZone',
  'zoneAwareMinClusterSize',
  'circuitBreaker',
  'subset',
]);

/** Every registered mechanism, in run order (see {@link HealthMechanism.phase}); replaced whole on registration. */
let ordered: readonly HealthMechanism[] = [];
const byOption = new Map<string, HealthMechanism>();
for (const definition of builtinHealthMechanisms) add(definition);

/** The Balancer's own option names; the registered mechanisms' options join them (parse-options.ts). */
export const CORE_BALANCER_KEYS: readonly string[] = [...RESERVED];

/**
 * Registers a health mechanism: Balancers created afterwards accept its option, build it when the option is on and
 * let a control plane set it (when it has `fromCluster`). Option and property names are unique; registering a taken
 * one throws unless `replace` is set. Existing Balancers are not affected.
 */
export function registerHealthMechanism<O, I extends BalancerExtension>(
  definition: HealthMechanism<O, I>,
  { replace = false } = {},
): void {
  const field = 'healthMechanism.option';
  if (!/^[a-z][A-Za-z0-9]*$/.test(definition.option) || RESERVED.has(definition.option))
    throw new ConfigError({
      field,
      allowed: 'a camelCase name that is not a Balancer option',
      received: definition.option,
    });
  // `list` is taken by `balancer.health.list` itself.
  const taken =
    definition.property === 'list' ||
    ordered.some((m) => m.option !== definition.option && m.property === definition.property);
  if ((byOption.has(definition.option) && !replace) || taken)
    throw new ConfigError({
      field,
      allowed: 'an option and property not already registered',
      received: definition.option,
    });
  add(definition as unknown as HealthMechanism);
}

/** Every registered mechanism, in run order. */
export function healthMechanisms(): readonly HealthMechanism[] {
  return ordered;
}

/** The option name of every registered mechanism. */
export function healthOptionNames(): string[] {
  return ordered.map((m) => m.option);
}

function add(definition: HealthMechanism): void {
  byOption.set(definition.option, definition);
  const all = [...byOption.values()];
  ordered = [
    ...all.filter((m) => (m.phase ?? 'health') === 'health'),
    ...all.filter((m) => m.phase === 'weights'),
  ];
}
