/**
 * CDS: decode an envoy `Cluster`, validate it, and map it onto switchyard's cluster settings.
 *
 * Mapping (envoy → switchyard):
 * - `type: EDS` with `eds_cluster_config.eds_config` = `ads {}` or `self {}` → endpoints come from the EDS
 *   resource `eds_cluster_config.service_name` (the cluster name when empty). Other discovery types, custom
 *   cluster types and non-ADS config sources are NACKed: switchyard speaks ADS only.
 * - `lb_policy` → `policy`: ROUND_ROBIN → `round_robin`, LEAST_REQUEST → `least_request` (`choiceCount` from
 *   `least_request_lb_config.choice_count`, `activeRequestBias` from `active_request_bias.default_value`),
 *   RING_HASH → `ring_hash` (`minRingSize`/`maxRingSize`), MAGLEV → `maglev` (`tableSize`), RANDOM → `random`.
 *   `load_balancing_policy` (the newer typed form) wins when set: its first policy whose type we know is used,
 *   with that policy's defaults. The result is checked against the policy registry, so a policy this process has
 *   not registered is NACKed rather than accepted and then refused by the Balancer.
 * - `common_lb_config.healthy_panic_threshold` → `panicThreshold` (percent);
 *   `common_lb_config.locality_weighted_lb_config` set → `localityWeighted: true`.
 * - `outlier_detection` → `outlierDetection`: envoy's fields camelCased, durations in ms (`intervalMs`, …),
 *   `successRateStdevFactor` divided by 1000 as envoy defines it (1900 → 1.9). Only fields the control plane set
 *   are present; the health module applies envoy's defaults to the rest.
 * - `circuit_breakers.thresholds` (DEFAULT priority; HIGH is ignored, switchyard has no request priorities) →
 *   `circuitBreaker` { maxConnections, maxPendingRequests, maxRequests, maxRetries, retryBudget }.
 * - `*_lb_config.slow_start_config` of the chosen policy → `slowStart` { windowMs, aggression, minWeightPercent }.
 *
 * Every problem is collected and reported at once, naming the envoy field path.
 */

import type { PolicyConfig } from '../../balancer/policy/registry.js';
import { parsePolicyConfig } from '../../balancer/policy/registry.js';
import type { ResolverClusterConfig } from '../../balancer/resolver.js';
import { ConfigError } from '../../errors/config-error.js';
import { XdsResourceError } from '../../errors/xds-resource-error.js';
import { decodeClusterMessage, TYPE_URL } from './proto/codec.js';
import {
  type DurationMessage,
  durationMs,
  Issues,
  type PercentMessage,
  percent,
  type UInt32Message,
  uint32Percent,
  wrapped,
} from './proto/fields.js';

/** A validated CDS resource. */
export interface XdsCluster {
  readonly name: string;
  /** The EDS resource to subscribe to for this cluster's endpoints. */
  readonly edsServiceName: string;
  /** Cluster settings for the Balancer (no `overprovisioningFactor`: that comes from EDS). */
  readonly config: ResolverClusterConfig;
}

interface ConfigSourceMessage {
  readonly ads?: object;
  readonly self?: object;
  readonly api_config_source?: object;
  readonly path?: string;
  readonly path_config_source?: object;
}
interface RuntimeDoubleMessage {
  readonly default_value?: number;
}
interface SlowStartMessage {
  readonly slow_start_window?: DurationMessage;
  readonly aggression?: RuntimeDoubleMessage;
  readonly min_weight_percent?: PercentMessage;
}
interface ThresholdsMessage {
  readonly priority?: string | number;
  readonly max_connections?: UInt32Message;
  readonly max_pending_requests?: UInt32Message;
  readonly max_requests?: UInt32Message;
  readonly max_retries?: UInt32Message;
  readonly retry_budget?: {
    readonly budget_percent?: PercentMessage;
    readonly min_retry_concurrency?: UInt32Message;
  };
}
type OutlierDetectionMessage = Readonly<
  Record<string, UInt32Message | DurationMessage | boolean | undefined>
>;

/** The decoded `Cluster`, as much of it as we read. */
interface ClusterMessage {
  readonly name?: string;
  readonly type?: string | number;
  readonly cluster_type?: { readonly name?: string };
  readonly eds_cluster_config?: { readonly eds_config?: ConfigSourceMessage; readonly service_name?: string };
  readonly lb_policy?: string | number;
  readonly circuit_breakers?: { readonly thresholds: readonly ThresholdsMessage[] };
  readonly outlier_detection?: OutlierDetectionMessage;
  readonly ring_hash_lb_config?: {
    readonly minimum_ring_size?: { readonly value?: number };
    readonly maximum_ring_size?: { readonly value?: number };
    readonly hash_function?: string | number;
  };
  readonly maglev_lb_config?: { readonly table_size?: { readonly value?: number } };
  readonly least_request_lb_config?: {
    readonly choice_count?: UInt32Message;
    readonly active_request_bias?: RuntimeDoubleMessage;
    readonly slow_start_config?: SlowStartMessage;
  };
  readonly round_robin_lb_config?: { readonly slow_start_config?: SlowStartMessage };
  readonly common_lb_config?: {
    readonly healthy_panic_threshold?: PercentMessage;
    readonly locality_weighted_lb_config?: object;
  };
  readonly load_balancing_policy?: {
    readonly policies: readonly {
      readonly typed_extension_config?: { readonly typed_config?: { readonly type_url?: string } };
    }[];
  };
}

/** Envoy's typed load-balancing policy extensions → switchyard policy names. */
const TYPED_POLICIES: Readonly<Record<string, string>> = {
  'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin': 'round_robin',
  'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest':
    'least_request',
  'type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash': 'ring_hash',
  'type.googleapis.com/envoy.extensions.load_balancing_policies.maglev.v3.Maglev': 'maglev',
  'type.googleapis.com/envoy.extensions.load_balancing_policies.random.v3.Random': 'random',
};

/** Envoy's bounds on ring sizes (8M entries). */
const MAX_RING_SIZE = 8_388_608;

/** Decodes and validates one CDS resource. Throws {@link XdsResourceError} (`malformed` or `invalid`). */
export function decodeCluster(bytes: Uint8Array): XdsCluster {
  return validateCluster(decodeClusterMessage(bytes) as unknown as ClusterMessage);
}

/** Validates a decoded `Cluster` and maps it. Exported for tests. */
export function validateCluster(message: ClusterMessage): XdsCluster {
  const name = message.name ?? '';
  const issues = new Issues();
  if (name === '') issues.add('name', 'must be a non-empty string');
  const edsServiceName = readEdsConfig(message, name, issues);
  const policy = readPolicy(message, issues);
  const config: Record<string, unknown> = {};
  if (policy !== undefined) config.policy = policy;
  const common = message.common_lb_config;
  const panic = percent(common?.healthy_panic_threshold, 'common_lb_config.healthy_panic_threshold', issues);
  if (panic !== undefined) config.panicThreshold = panic;
  if (common?.locality_weighted_lb_config !== undefined) config.localityWeighted = true;
  const outlier = readOutlierDetection(message.outlier_detection, issues);
  if (outlier !== undefined) config.outlierDetection = outlier;
  const breaker = readCircuitBreaker(message.circuit_breakers, issues);
  if (breaker !== undefined) config.circuitBreaker = breaker;
  const slowStart = readSlowStart(policy, message, issues);
  if (slowStart !== undefined) config.slowStart = slowStart;
  issues.throwIfAny(TYPE_URL.cluster, name);
  return { name, edsServiceName, config: config as ResolverClusterConfig };
}

function readEdsConfig(message: ClusterMessage, name: string, issues: Issues): string {
  if (message.cluster_type !== undefined) {
    issues.add('cluster_type', `custom cluster type "${message.cluster_type.name ?? ''}" is not supported`);
    return name;
  }
  const type = message.type ?? 'STATIC';
  if (type !== 'EDS') {
    issues.add('type', `must be EDS (switchyard takes endpoints from EDS only), got ${String(type)}`);
    return name;
  }
  const eds = message.eds_cluster_config;
  const source = eds?.eds_config;
  if (source === undefined) {
    issues.add('eds_cluster_config.eds_config', 'must be set to ads {} or self {}');
  } else if (source.ads === undefined && source.self === undefined) {
    issues.add('eds_cluster_config.eds_config', 'must be ads {} or self {}: switchyard speaks ADS only');
  }
  return eds?.service_name || name;
}

function readPolicy(message: ClusterMessage, issues: Issues): PolicyConfig | undefined {
  let policy: PolicyConfig | undefined;
  const typed = message.load_balancing_policy;
  if (typed !== undefined) {
    const urls = typed.policies.map((p) => p.typed_extension_config?.typed_config?.type_url ?? '');
    const known = urls.find((url) => TYPED_POLICIES[url] !== undefined);
    if (known === undefined) {
      issues.add('load_balancing_policy', `no supported policy among [${urls.join(', ')}]`);
      return undefined;
    }
    policy = TYPED_POLICIES[known]!;
  } else {
    policy = policyFromEnum(message, issues);
  }
  if (policy === undefined) return undefined;
  try {
    parsePolicyConfig(policy, 'policy');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.add('lb_policy', `not usable here: ${error.message}`);
    return undefined;
  }
  return policy;
}

function policyFromEnum(message: ClusterMessage, issues: Issues): PolicyConfig | undefined {
  const lbPolicy = message.lb_policy ?? 'ROUND_ROBIN';
  switch (lbPolicy) {
    case 'ROUND_ROBIN':
      return 'round_robin';
    case 'RANDOM':
      return 'random';
    case 'LEAST_REQUEST': {
      const lr = message.least_request_lb_config;
      const choiceCount = wrapped(lr?.choice_count);
      if (choiceCount !== undefined && choiceCount < 2)
        issues.add('least_request_lb_config.choice_count', `must be >= 2, got ${choiceCount}`);
      const bias = lr?.active_request_bias?.default_value;
      if (bias !== undefined && !(bias >= 0 && Number.isFinite(bias)))
        issues.add(
          'least_request_lb_config.active_request_bias',
          `must be a finite number >= 0, got ${bias}`,
        );
      return {
        name: 'least_request',
        ...(choiceCount === undefined ? {} : { choiceCount }),
        ...(bias === undefined ? {} : { activeRequestBias: bias }),
      };
    }
    case 'RING_HASH': {
      // ring_hash is gRFC A42's ring, XXH64 only (as in gRPC): a cluster asking for MURMUR_HASH_2 would get a
      // mapping different from its Envoy clients', so it is NACKed rather than silently hashed with XXH64.
      const rh = message.ring_hash_lb_config;
      const fn = rh?.hash_function;
      if (fn !== undefined && fn !== 'XX_HASH' && fn !== 0)
        issues.add('ring_hash_lb_config.hash_function', `must be XX_HASH (gRFC A42), got ${String(fn)}`);
      const min = rh?.minimum_ring_size === undefined ? undefined : (rh.minimum_ring_size.value ?? 0);
      const max = rh?.maximum_ring_size === undefined ? undefined : (rh.maximum_ring_size.value ?? 0);
      if (min !== undefined && !(min >= 1 && min <= MAX_RING_SIZE))
        issues.add('ring_hash_lb_config.minimum_ring_size', `must be from 1 to ${MAX_RING_SIZE}, got ${min}`);
      if (max !== undefined && !(max >= 1 && max <= MAX_RING_SIZE))
        issues.add('ring_hash_lb_config.maximum_ring_size', `must be from 1 to ${MAX_RING_SIZE}, got ${max}`);
      if (min !== undefined && max !== undefined && min > max)
        issues.add('ring_hash_lb_config', `minimum_ring_size ${min} exceeds maximum_ring_size ${max}`);
      return {
        name: 'ring_hash',
        ...(min === undefined ? {} : { minRingSize: min }),
        ...(max === undefined ? {} : { maxRingSize: max }),
      };
    }
    case 'MAGLEV': {
      const size = message.maglev_lb_config?.table_size;
      return { name: 'maglev', ...(size === undefined ? {} : { tableSize: size.value ?? 0 }) };
    }
    default:
      issues.add('lb_policy', `unsupported value ${String(lbPolicy)}`);
      return undefined;
  }
}

/** Envoy OutlierDetection UInt32Value fields, camelCased; percentages are checked to be <= 100. */
const OUTLIER_COUNTS: readonly (readonly [string, string, boolean])[] = [
  ['consecutive_5xx', 'consecutive5xx', false],
  ['max_ejection_percent', 'maxEjectionPercent', true],
  ['enforcing_consecutive_5xx', 'enforcingConsecutive5xx', true],
  ['enforcing_success_rate', 'enforcingSuccessRate', true],
  ['success_rate_minimum_hosts', 'successRateMinimumHosts', false],
  ['success_rate_request_volume', 'successRateRequestVolume', false],
  ['consecutive_gateway_failure', 'consecutiveGatewayFailure', false],
  ['enforcing_consecutive_gateway_failure', 'enforcingConsecutiveGatewayFailure', true],
  ['consecutive_local_origin_failure', 'consecutiveLocalOriginFailure', false],
  ['enforcing_consecutive_local_origin_failure', 'enforcingConsecutiveLocalOriginFailure', true],
  ['enforcing_local_origin_success_rate', 'enforcingLocalOriginSuccessRate', true],
  ['failure_percentage_threshold', 'failurePercentageThreshold', true],
  ['enforcing_failure_percentage', 'enforcingFailurePercentage', true],
  ['enforcing_failure_percentage_local_origin', 'enforcingFailurePercentageLocalOrigin', true],
  ['failure_percentage_minimum_hosts', 'failurePercentageMinimumHosts', false],
  ['failure_percentage_request_volume', 'failurePercentageRequestVolume', false],
];
/** Envoy OutlierDetection durations → ms; `true` = must be > 0 (envoy's `gt: {}` rule). */
const OUTLIER_DURATIONS: readonly (readonly [string, string, boolean])[] = [
  ['interval', 'intervalMs', true],
  ['base_ejection_time', 'baseEjectionTimeMs', true],
  ['max_ejection_time', 'maxEjectionTimeMs', true],
  ['max_ejection_time_jitter', 'maxEjectionTimeJitterMs', false],
];

function readOutlierDetection(
  od: OutlierDetectionMessage | undefined,
  issues: Issues,
): Record<string, unknown> | undefined {
  if (od === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [field, key, isPercent] of OUTLIER_COUNTS) {
    const path = `outlier_detection.${field}`;
    const value = isPercent
      ? uint32Percent(od[field] as UInt32Message | undefined, path, issues)
      : wrapped(od[field] as UInt32Message | undefined);
    if (value !== undefined) out[key] = value;
  }
  const stdev = wrapped(od.success_rate_stdev_factor as UInt32Message | undefined);
  if (stdev !== undefined) out.successRateStdevFactor = stdev / 1000;
  for (const [field, key, positive] of OUTLIER_DURATIONS) {
    const ms = durationMs(
      od[field] as DurationMessage | undefined,
      `outlier_detection.${field}`,
      issues,
      positive,
    );
    if (ms !== undefined) out[key] = ms;
  }
  if (od.split_external_local_origin_errors === true) out.splitExternalLocalOriginErrors = true;
  return out;
}

function readCircuitBreaker(
  cb: ClusterMessage['circuit_breakers'],
  issues: Issues,
): Record<string, unknown> | undefined {
  if (cb === undefined) return undefined;
  let found: Record<string, unknown> | undefined;
  cb.thresholds.forEach((t, i) => {
    const path = `circuit_breakers.thresholds[${i}]`;
    const priority = t.priority ?? 'DEFAULT';
    if (priority === 'HIGH') return;
    if (priority !== 'DEFAULT') {
      issues.add(`${path}.priority`, `unsupported value ${String(priority)}`);
      return;
    }
    if (found !== undefined) {
      issues.add(`${path}.priority`, 'DEFAULT thresholds given twice');
      return;
    }
    const out: Record<string, unknown> = {};
    const limits = [
      ['max_connections', 'maxConnections', t.max_connections],
      ['max_pending_requests', 'maxPendingRequests', t.max_pending_requests],
      ['max_requests', 'maxRequests', t.max_requests],
      ['max_retries', 'maxRetries', t.max_retries],
    ] as const;
    for (const [, key, message] of limits) {
      const value = wrapped(message);
      if (value !== undefined) out[key] = value;
    }
    if (t.retry_budget !== undefined) {
      const budgetPercent = percent(
        t.retry_budget.budget_percent,
        `${path}.retry_budget.budget_percent`,
        issues,
      );
      const minRetryConcurrency = wrapped(t.retry_budget.min_retry_concurrency);
      out.retryBudget = {
        ...(budgetPercent === undefined ? {} : { budgetPercent }),
        ...(minRetryConcurrency === undefined ? {} : { minRetryConcurrency }),
      };
    }
    found = out;
  });
  return found;
}

function readSlowStart(
  policy: PolicyConfig | undefined,
  message: ClusterMessage,
  issues: Issues,
): Record<string, unknown> | undefined {
  const name = typeof policy === 'string' ? policy : policy?.name;
  const [config, path] =
    name === 'least_request'
      ? [message.least_request_lb_config?.slow_start_config, 'least_request_lb_config.slow_start_config']
      : name === 'round_robin'
        ? [message.round_robin_lb_config?.slow_start_config, 'round_robin_lb_config.slow_start_config']
        : [undefined, ''];
  if (config === undefined) return undefined;
  const windowMs = durationMs(config.slow_start_window, `${path}.slow_start_window`, issues, false);
  const aggression = config.aggression?.default_value;
  if (aggression !== undefined && !(aggression > 0 && Number.isFinite(aggression)))
    issues.add(`${path}.aggression`, `must be a finite number > 0, got ${aggression}`);
  const minWeightPercent = percent(config.min_weight_percent, `${path}.min_weight_percent`, issues);
  return {
    ...(windowMs === undefined ? {} : { windowMs }),
    ...(aggression === undefined ? {} : { aggression }),
    ...(minWeightPercent === undefined ? {} : { minWeightPercent }),
  };
}
