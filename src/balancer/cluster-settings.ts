/**
 * The health and resilience settings a control plane sends with every update (`ResolverUpdate.cluster`: xDS CDS
 * `outlier_detection`, `circuit_breakers`, `slow_start_config`), mapped onto the Balancer's own option shapes,
 * validated with the Balancer's own parsers, and compared with what is in force so that only a real change
 * reconfigures anything.
 *
 * Why the mapping lives here and not in the xDS resolver: the resolver's shapes are a faithful, wire-named view of
 * the Cluster (they carry `maxConnections`, `maxRetries` and `retryBudget`, which are not Balancer limits — the
 * connection pool and the retry executor own those), while the Balancer needs its nested option shapes. One small
 * module translates; every resolver that sends cluster settings gets the same treatment.
 *
 * Precedence, per setting (Envoy: the control plane's cluster config is the config): when the control plane sends
 * a setting, it replaces the code option of the same name whole — fields it leaves out take the Envoy defaults, not
 * the code's values. When it sends none (or stops sending one), the code option applies again.
 */
import { type RawOptions, readObject } from '../config/validate.js';
import {
  type OutlierDetectionOptions,
  parseOutlierDetection,
  parseSlowStart,
  type SlowStartOptions,
} from '../health/options.js';
import {
  type CircuitBreakerLimits,
  defaultCircuitBreakerOptions,
  MAX_CIRCUIT_BREAKER_LIMIT,
  parseCircuitBreakerOptions,
} from './limits.js';
import type { ResolverClusterConfig } from './resolver.js';

/** The cluster settings this module maps (each also a Balancer option of the same name). */
export const CLUSTER_SETTINGS = ['outlierDetection', 'circuitBreaker', 'slowStart'] as const;
type SettingName = (typeof CLUSTER_SETTINGS)[number];

/** What changed, validated; a field is present only when that setting changed. */
export interface ClusterSettingsChange {
  /** New outlier-detection options; `undefined` options turn detection off. */
  readonly outlierDetection?: { readonly options: OutlierDetectionOptions | undefined };
  readonly circuitBreaker?: CircuitBreakerLimits;
  /** New slow-start options; `undefined` options turn slow start off. */
  readonly slowStart?: { readonly options: SlowStartOptions | undefined };
  /** The serialised settings in force once the change is applied ({@link ClusterSettings.commit}). */
  readonly keys: Readonly<Record<SettingName, string>>;
}

/** Tracks which of the code options and the control plane's settings are in force. */
export class ClusterSettings {
  /** The Balancer's own options, the default when the control plane sends nothing. */
  readonly #code: Readonly<Record<SettingName, unknown>>;
  /** Serialised raw setting in force, per name: a resent, unchanged cluster compares equal and rebuilds nothing. */
  #keys: Readonly<Record<SettingName, string>>;

  constructor(raw: RawOptions) {
    this.#code = {
      outlierDetection: raw.outlierDetection,
      circuitBreaker: raw.circuitBreaker,
      slowStart: raw.slowStart,
    };
    this.#keys = {
      outlierDetection: serialise(this.#code.outlierDetection),
      circuitBreaker: serialise(this.#code.circuitBreaker),
      slowStart: serialise(this.#code.slowStart),
    };
  }

  /**
   * Validates the settings `cluster` asks for and returns what differs from what is in force. Throws a ConfigError
   * naming `resolver.cluster.<setting>…` on a bad value; records nothing (call {@link commit} once applied).
   */
  diff(cluster: ResolverClusterConfig | undefined): ClusterSettingsChange {
    const keys = { ...this.#keys };
    const change: {
      -readonly [K in keyof ClusterSettingsChange]: ClusterSettingsChange[K];
    } = { keys };
    const resolve = (name: SettingName): { raw: unknown; path: string } | undefined => {
      const sent = cluster?.[name];
      const raw = sent === undefined ? this.#code[name] : fromCluster(name, sent, this.#code);
      const key = serialise(raw);
      if (key === this.#keys[name]) return undefined;
      keys[name] = key;
      return { raw, path: sent === undefined ? name : `resolver.cluster.${name}` };
    };
    const outlier = resolve('outlierDetection');
    if (outlier !== undefined)
      change.outlierDetection = { options: parseOutlierDetection(outlier.raw, outlier.path) };
    const breaker = resolve('circuitBreaker');
    if (breaker !== undefined) change.circuitBreaker = parseCircuitBreakerOptions(breaker.raw, breaker.path);
    const slowStart = resolve('slowStart');
    if (slowStart !== undefined)
      change.slowStart = { options: parseSlowStart(slowStart.raw, slowStart.path) };
    return change;
  }

  /** Records `change` as in force. */
  commit(change: ClusterSettingsChange): void {
    this.#keys = change.keys;
  }
}

/**
 * The Balancer options a control plane's cluster settings stand for (`outlierDetection`, `circuitBreaker`,
 * `slowStart`, mapped), only those it sent, to lay over `code` options: for adapters that build a Balancer from
 * options rather than hand it a resolver (the grpc-js policy). Throws ConfigError on a malformed circuit breaker;
 * the Balancer validates the rest.
 */
export function clusterBalancerOptions(
  cluster: ResolverClusterConfig,
  code: RawOptions,
): Record<string, unknown> {
  const codeSettings = {
    outlierDetection: code.outlierDetection,
    circuitBreaker: code.circuitBreaker,
    slowStart: code.slowStart,
  };
  const out: Record<string, unknown> = {};
  for (const name of CLUSTER_SETTINGS) {
    const sent = cluster[name];
    if (sent !== undefined) out[name] = fromCluster(name, sent, codeSettings);
  }
  return out;
}

function serialise(raw: unknown): string {
  return JSON.stringify(raw) ?? 'undefined';
}

function fromCluster(
  name: SettingName,
  sent: unknown,
  code: Readonly<Record<SettingName, unknown>>,
): unknown {
  switch (name) {
    case 'outlierDetection':
      return outlierDetectionFromCluster(sent);
    case 'circuitBreaker':
      return circuitBreakerFromCluster(sent, code.circuitBreaker);
    case 'slowStart':
      return slowStartFromCluster(sent);
  }
}

// ---- the mappings -------------------------------------------------------------------------------------------

/** Flat xDS keys (cds.ts) of the success-rate rule → keys of `outlierDetection.successRate`. */
const SUCCESS_RATE_KEYS: Readonly<Record<string, string>> = {
  successRateMinimumHosts: 'minimumHosts',
  successRateRequestVolume: 'requestVolume',
  successRateStdevFactor: 'stdevFactor',
  enforcingSuccessRate: 'enforcing',
  enforcingLocalOriginSuccessRate: 'enforcingLocalOrigin',
};
/** Flat xDS keys of the failure-percentage rule → keys of `outlierDetection.failurePercentage`. */
const FAILURE_PERCENTAGE_KEYS: Readonly<Record<string, string>> = {
  failurePercentageThreshold: 'threshold',
  failurePercentageMinimumHosts: 'minimumHosts',
  failurePercentageRequestVolume: 'requestVolume',
  enforcingFailurePercentage: 'enforcing',
  enforcingFailurePercentageLocalOrigin: 'enforcingLocalOrigin',
};

/**
 * xDS outlier detection (envoy's flat fields camelCased, durations in ms) → {@link OutlierDetectionOptions}: the
 * statistical rules' fields move into `successRate` / `failurePercentage`; the rest keep their names. Unknown keys
 * pass through, so the parser rejects them by name. A value that is not an object passes through too (`true`
 * means Envoy's defaults; anything else is rejected by the parser).
 */
export function outlierDetectionFromCluster(sent: unknown): unknown {
  if (!isPlainObject(sent)) return sent;
  const out: Record<string, unknown> = {};
  const successRate: Record<string, unknown> = {};
  const failurePercentage: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sent)) {
    if (Object.hasOwn(SUCCESS_RATE_KEYS, key)) successRate[SUCCESS_RATE_KEYS[key]!] = value;
    else if (Object.hasOwn(FAILURE_PERCENTAGE_KEYS, key))
      failurePercentage[FAILURE_PERCENTAGE_KEYS[key]!] = value;
    else out[key] = value;
  }
  if (Object.keys(successRate).length > 0) out.successRate = successRate;
  if (Object.keys(failurePercentage).length > 0) out.failurePercentage = failurePercentage;
  return out;
}

const XDS_CIRCUIT_BREAKER_KEYS = [
  'maxConnections',
  'maxPendingRequests',
  'maxRequests',
  'maxRetries',
  'retryBudget',
];

/**
 * xDS circuit-breaker thresholds → {@link CircuitBreakerLimits} options: `maxRequests` → `maxRequests`,
 * `maxPendingRequests` → `maxPending`. `maxConnections`, `maxRetries` and `retryBudget` are accepted and not
 * applied here (the Balancer has no connections or retries). Envoy has no per-endpoint request limit, so
 * `maxRequestsPerEndpoint` keeps the code option's value, else equals `maxRequests` (no tighter than the cluster).
 * Limits above 1e9 are clamped to 1e9: Istio sends 4294967295 (uint32 max) to mean "unlimited".
 */
export function circuitBreakerFromCluster(sent: unknown, code: unknown): unknown {
  if (!isPlainObject(sent)) return sent;
  const o = readObject(sent, 'resolver.cluster.circuitBreaker', XDS_CIRCUIT_BREAKER_KEYS);
  const maxRequests = clampLimit(o.maxRequests);
  const maxPending = clampLimit(o.maxPendingRequests);
  const codePerEndpoint = isPlainObject(code) ? code.maxRequestsPerEndpoint : undefined;
  return {
    ...(maxRequests === undefined ? {} : { maxRequests }),
    ...(maxPending === undefined ? {} : { maxPending }),
    maxRequestsPerEndpoint:
      codePerEndpoint ?? maxRequests ?? defaultCircuitBreakerOptions.maxRequestsPerEndpoint,
  };
}

/**
 * xDS slow start → {@link SlowStartOptions} options (same field names). Envoy ramps only when
 * `slow_start_window` is set and positive, so a config without one turns slow start off (`false`).
 */
export function slowStartFromCluster(sent: unknown): unknown {
  if (!isPlainObject(sent)) return sent;
  return sent.windowMs === undefined || sent.windowMs === 0 ? false : sent;
}

function clampLimit(value: unknown): unknown {
  return typeof value === 'number' && value > MAX_CIRCUIT_BREAKER_LIMIT ? MAX_CIRCUIT_BREAKER_LIMIT : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
