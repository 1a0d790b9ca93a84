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
import { type HealthMechanism, isPlainObject } from './health/mechanism.js';
import { healthMechanisms } from './health/registry.js';
import type { HealthChange } from './health/set.js';
import {
  type CircuitBreakerLimits,
  defaultCircuitBreakerOptions,
  MAX_CIRCUIT_BREAKER_LIMIT,
  parseCircuitBreakerOptions,
} from './limits.js';
import type { ResolverClusterConfig } from './resolver.js';

/** One setting a control plane may send: the Balancer's own circuit breaker, or a health mechanism's option. */
interface ClusterSetting {
  readonly name: string;
  /** The control plane's shape → the Balancer option's raw shape; `code` is the Balancer's own option value. */
  fromCluster(sent: unknown, code: unknown): unknown;
  /** The health mechanism whose option this is; absent for the circuit breaker. */
  readonly mechanism?: HealthMechanism;
}

const CIRCUIT_BREAKER: ClusterSetting = { name: 'circuitBreaker', fromCluster: circuitBreakerFromCluster };

/**
 * The settings a control plane may send, in validation order: the registered health mechanisms that map one
 * (`fromCluster`), the circuit breaker after the `'health'`-phase ones.
 */
function clusterSettings(): ClusterSetting[] {
  const settings: ClusterSetting[] = [];
  let breakerPlaced = false;
  for (const mechanism of healthMechanisms()) {
    if (mechanism.phase === 'weights' && !breakerPlaced) {
      settings.push(CIRCUIT_BREAKER);
      breakerPlaced = true;
    }
    const map = mechanism.fromCluster;
    if (map !== undefined)
      settings.push({
        name: mechanism.option,
        fromCluster: (sent, code) => map.call(mechanism, sent, code),
        mechanism,
      });
  }
  if (!breakerPlaced) settings.push(CIRCUIT_BREAKER);
  return settings;
}

/** The names of the cluster settings a control plane may send today (each also a Balancer option of that name). */
export function clusterSettingNames(): string[] {
  return clusterSettings().map((s) => s.name);
}

/** The cluster settings of the built-in mechanisms and the circuit breaker, as when this module loaded. */
export const CLUSTER_SETTINGS: readonly string[] = clusterSettingNames();

/** What changed, validated; a setting is present only when it changed. */
export interface ClusterSettingsChange {
  /** New options per health mechanism; `undefined` options turn the mechanism off. */
  readonly health: HealthChange;
  readonly circuitBreaker?: CircuitBreakerLimits;
  /** The serialised settings in force once the change is applied ({@link ClusterSettings.commit}). */
  readonly keys: Readonly<Record<string, string>>;
}

/** Tracks which of the code options and the control plane's settings are in force. */
export class ClusterSettings {
  readonly #settings: readonly ClusterSetting[];
  /** The Balancer's own options, the default when the control plane sends nothing. */
  readonly #code: Readonly<Record<string, unknown>>;
  /** Serialised raw setting in force, per name: a resent, unchanged cluster compares equal and rebuilds nothing. */
  #keys: Readonly<Record<string, string>>;

  constructor(raw: RawOptions) {
    this.#settings = clusterSettings();
    this.#code = Object.fromEntries(this.#settings.map((s) => [s.name, raw[s.name]]));
    this.#keys = Object.fromEntries(this.#settings.map((s) => [s.name, serialise(raw[s.name])]));
  }

  /**
   * Validates the settings `cluster` asks for and returns what differs from what is in force. Throws a ConfigError
   * naming `resolver.cluster.<setting>…` on a bad value; records nothing (call {@link commit} once applied).
   */
  diff(cluster: ResolverClusterConfig | undefined): ClusterSettingsChange {
    const keys = { ...this.#keys };
    const health = new Map<HealthMechanism, unknown>();
    let circuitBreaker: CircuitBreakerLimits | undefined;
    for (const setting of this.#settings) {
      const sent = cluster?.[setting.name];
      const code = this.#code[setting.name];
      const raw = sent === undefined ? code : setting.fromCluster(sent, code);
      const key = serialise(raw);
      if (key === this.#keys[setting.name]) continue;
      keys[setting.name] = key;
      const path = sent === undefined ? setting.name : `resolver.cluster.${setting.name}`;
      if (setting.mechanism !== undefined) health.set(setting.mechanism, setting.mechanism.parse(raw, path));
      else circuitBreaker = parseCircuitBreakerOptions(raw, path);
    }
    return { health, keys, ...(circuitBreaker === undefined ? {} : { circuitBreaker }) };
  }

  /** Records `change` as in force. */
  commit(change: ClusterSettingsChange): void {
    this.#keys = change.keys;
  }
}

/**
 * The Balancer options a control plane's cluster settings stand for (every registered setting, mapped), only those
 * it sent, to lay over `code` options: for adapters that build a Balancer from options rather than hand it a
 * resolver (the grpc-js policy). Throws ConfigError on a malformed circuit breaker; the Balancer validates the rest.
 */
export function clusterBalancerOptions(
  cluster: ResolverClusterConfig,
  code: RawOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const setting of clusterSettings()) {
    const sent = cluster[setting.name];
    if (sent !== undefined) out[setting.name] = setting.fromCluster(sent, code[setting.name]);
  }
  return out;
}

function serialise(raw: unknown): string {
  return JSON.stringify(raw) ?? 'undefined';
}

// ---- the circuit breaker's mapping (the health mechanisms map their own: src/health/) ---------------------------

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

function clampLimit(value: unknown): unknown {
  return typeof value === 'number' && value > MAX_CIRCUIT_BREAKER_LIMIT ? MAX_CIRCUIT_BREAKER_LIMIT : value;
}
