/**
 * Options of the health mechanisms, as plain camelCase JSON, with their defaults and where the defaults come from.
 *
 * Every parser here is strict: unknown keys, wrong types and out-of-range values throw a {@link ConfigError} naming
 * the dotted field (`outlierDetection.successRate.stdevFactor`) and the allowed range. Semantics and defaults
 * follow Envoy's `OutlierDetection`, `HealthCheck` and `SlowStartConfig` unless docs/health.md says why not.
 */
import {
  checkNumber,
  join,
  type RawOptions,
  readBoolean,
  readEnum,
  readNumber,
  readObject,
  readString,
} from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import type { ProberFactory } from './active/prober.js';

// ---- passive outlier detection ----------------------------------------------------------------------------

/** Success-rate ejection: eject endpoints whose success rate is below `mean − stdevFactor × stdev` of the fleet. */
export interface SuccessRateOptions {
  /** Fewest endpoints with enough volume for the statistics to run. Default 5 (Envoy `success_rate_minimum_hosts`). */
  readonly minimumHosts: number;
  /** Fewest requests an endpoint needs in one interval to be counted. Default 100 (Envoy `success_rate_request_volume`). */
  readonly requestVolume: number;
  /** Multiple of the standard deviation below the mean that ejects. Default 1.9 (Envoy `success_rate_stdev_factor` 1900/1000). */
  readonly stdevFactor: number;
  /** Percent chance a detected outlier is ejected. Default 100 (Envoy `enforcing_success_rate`). */
  readonly enforcing: number;
  /** Same, for the locally originated success rate (split mode only). Default 100 (Envoy `enforcing_local_origin_success_rate`). */
  readonly enforcingLocalOrigin: number;
}

/** Failure-percentage ejection: eject endpoints whose failure percentage reaches `threshold`. */
export interface FailurePercentageOptions {
  /** Failure percentage that ejects (inclusive). Default 85 (Envoy `failure_percentage_threshold`). */
  readonly threshold: number;
  /** Fewest endpoints with enough volume. Default 5 (Envoy `failure_percentage_minimum_hosts`). */
  readonly minimumHosts: number;
  /** Fewest requests in one interval to be counted. Default 50 (Envoy `failure_percentage_request_volume`). */
  readonly requestVolume: number;
  /** Percent chance a detected outlier is ejected. Default 0: detection is off until raised (Envoy `enforcing_failure_percentage`). */
  readonly enforcing: number;
  /** Same, locally originated (split mode only). Default 0 (Envoy `enforcing_failure_percentage_local_origin`). */
  readonly enforcingLocalOrigin: number;
}

/** Passive outlier detection (Envoy `OutlierDetection`), fed by `lease.release(outcome)`. */
export interface OutlierDetectionOptions {
  /** Time between ejection sweeps (success rate, failure percentage, returns), in ms. Default 10,000 (Envoy `interval`). */
  readonly intervalMs: number;
  /** Base ejection time, in ms; an ejection lasts base × times ejected. Default 30,000 (Envoy `base_ejection_time`). */
  readonly baseEjectionTimeMs: number;
  /** Longest ejection, in ms. Default 300,000 (Envoy `max_ejection_time`). */
  readonly maxEjectionTimeMs: number;
  /** Random extra ejection time, uniform in [0, this], in ms. Default 0 (Envoy `max_ejection_time_jitter`). */
  readonly maxEjectionTimeJitterMs: number;
  /** Most endpoints ejected at once, percent; one ejection is always allowed. Default 10 (Envoy `max_ejection_percent`). */
  readonly maxEjectionPercent: number;
  /** Consecutive failures (any kind; externally originated only in split mode) that eject. Default 5 (Envoy `consecutive_5xx`). */
  readonly consecutive5xx: number;
  /** Percent chance a consecutive-5xx outlier is ejected. Default 100 (Envoy `enforcing_consecutive_5xx`). */
  readonly enforcingConsecutive5xx: number;
  /** Consecutive gateway failures (502/503/504, gRPC UNAVAILABLE/DEADLINE_EXCEEDED, `overloaded`). Default 5 (Envoy). */
  readonly consecutiveGatewayFailure: number;
  /** Percent chance a consecutive-gateway outlier is ejected. Default 0 (Envoy `enforcing_consecutive_gateway_failure`). */
  readonly enforcingConsecutiveGatewayFailure: number;
  /**
   * Count locally originated failures (`connect`, `reset`, `timeout`) apart from the endpoint's own answers.
   * Default false (Envoy `split_external_local_origin_errors`).
   */
  readonly splitExternalLocalOriginErrors: boolean;
  /** Consecutive locally originated failures that eject (split mode only). Default 5 (Envoy). */
  readonly consecutiveLocalOriginFailure: number;
  /** Percent chance a consecutive-local-origin outlier is ejected. Default 100 (Envoy). */
  readonly enforcingConsecutiveLocalOriginFailure: number;
  /**
   * A passing active health check ends an ejection early. Default true (Envoy
   * `successful_active_health_check_uneject_host`); only matters when `healthCheck` is on too.
   */
  readonly successfulActiveHealthCheckUnejectHost: boolean;
  readonly successRate: SuccessRateOptions;
  readonly failurePercentage: FailurePercentageOptions;
}

/** Defaults of {@link OutlierDetectionOptions}: Envoy's `OutlierDetection` defaults. */
export const defaultOutlierDetectionOptions: OutlierDetectionOptions = Object.freeze({
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionTimeJitterMs: 0,
  maxEjectionPercent: 10,
  consecutive5xx: 5,
  enforcingConsecutive5xx: 100,
  consecutiveGatewayFailure: 5,
  enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false,
  consecutiveLocalOriginFailure: 5,
  enforcingConsecutiveLocalOriginFailure: 100,
  successfulActiveHealthCheckUnejectHost: true,
  successRate: Object.freeze({
    minimumHosts: 5,
    requestVolume: 100,
    stdevFactor: 1.9,
    enforcing: 100,
    enforcingLocalOrigin: 100,
  }),
  failurePercentage: Object.freeze({
    threshold: 85,
    minimumHosts: 5,
    requestVolume: 50,
    enforcing: 0,
    enforcingLocalOrigin: 0,
  }),
});

/** What users pass: `true` (Envoy defaults), `false` (off), or any subset of the options. */
export type OutlierDetectionConfig =
  | boolean
  | (Partial<Omit<OutlierDetectionOptions, 'successRate' | 'failurePercentage'>> & {
      readonly successRate?: Partial<SuccessRateOptions>;
      readonly failurePercentage?: Partial<FailurePercentageOptions>;
    });

const DAY_MS = 86_400_000;
const PERCENT = { min: 0, max: 100 } as const;
const COUNT = { integer: true, min: 1, max: 1_000_000 } as const;
const HOSTS = { integer: true, min: 1, max: 100_000 } as const;

/** Validates outlier-detection options; `undefined`/`false` → off. */
export function parseOutlierDetection(raw: unknown, path: string): OutlierDetectionOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return defaultOutlierDetectionOptions;
  const d = defaultOutlierDetectionOptions;
  const o = readObject(raw, path, Object.keys(d));
  const num = (key: keyof OutlierDetectionOptions, range: Parameters<typeof readNumber>[3]) =>
    readNumber(o, key, path, range, d[key] as number);
  const options: OutlierDetectionOptions = {
    intervalMs: num('intervalMs', { min: 1, max: DAY_MS }),
    baseEjectionTimeMs: num('baseEjectionTimeMs', { min: 1, max: DAY_MS }),
    maxEjectionTimeMs: num('maxEjectionTimeMs', { min: 1, max: DAY_MS }),
    maxEjectionTimeJitterMs: num('maxEjectionTimeJitterMs', { min: 0, max: DAY_MS }),
    maxEjectionPercent: num('maxEjectionPercent', PERCENT),
    consecutive5xx: num('consecutive5xx', COUNT),
    enforcingConsecutive5xx: num('enforcingConsecutive5xx', PERCENT),
    consecutiveGatewayFailure: num('consecutiveGatewayFailure', COUNT),
    enforcingConsecutiveGatewayFailure: num('enforcingConsecutiveGatewayFailure', PERCENT),
    splitExternalLocalOriginErrors: readBoolean(
      o,
      'splitExternalLocalOriginErrors',
      path,
      d.splitExternalLocalOriginErrors,
    ),
    consecutiveLocalOriginFailure: num('consecutiveLocalOriginFailure', COUNT),
    enforcingConsecutiveLocalOriginFailure: num('enforcingConsecutiveLocalOriginFailure', PERCENT),
    successfulActiveHealthCheckUnejectHost: readBoolean(
      o,
      'successfulActiveHealthCheckUnejectHost',
      path,
      d.successfulActiveHealthCheckUnejectHost,
    ),
    successRate: parseSuccessRate(o.successRate, join(path, 'successRate')),
    failurePercentage: parseFailurePercentage(o.failurePercentage, join(path, 'failurePercentage')),
  };
  return Object.freeze(options);
}

function parseSuccessRate(raw: unknown, path: string): SuccessRateOptions {
  const d = defaultOutlierDetectionOptions.successRate;
  const o = readObject(raw, path, Object.keys(d));
  return Object.freeze({
    ...readSampleRule(o, path, d),
    stdevFactor: readNumber(o, 'stdevFactor', path, { min: 0, max: 100 }, d.stdevFactor),
  });
}

function parseFailurePercentage(raw: unknown, path: string): FailurePercentageOptions {
  const d = defaultOutlierDetectionOptions.failurePercentage;
  const o = readObject(raw, path, Object.keys(d));
  return Object.freeze({
    ...readSampleRule(o, path, d),
    threshold: readNumber(o, 'threshold', path, PERCENT, d.threshold),
  });
}

/** The fields both statistical rules share. */
type SampleRule = Pick<
  SuccessRateOptions,
  'minimumHosts' | 'requestVolume' | 'enforcing' | 'enforcingLocalOrigin'
>;

function readSampleRule(o: RawOptions, path: string, d: SampleRule): SampleRule {
  return {
    minimumHosts: readNumber(o, 'minimumHosts', path, HOSTS, d.minimumHosts),
    requestVolume: readNumber(o, 'requestVolume', path, COUNT, d.requestVolume),
    enforcing: readNumber(o, 'enforcing', path, PERCENT, d.enforcing),
    enforcingLocalOrigin: readNumber(o, 'enforcingLocalOrigin', path, PERCENT, d.enforcingLocalOrigin),
  };
}

// ---- active health checks -----------------------------------------------------------------------------------

/** Active health checking: probe every endpoint on a jittered interval. */
export interface HealthCheckOptions {
  /** `'http'` (GET `path`) or `'grpc'` (`grpc.health.v1.Health/Check`). Default `'http'`. */
  readonly protocol: 'http' | 'grpc';
  /** HTTP path probed. Default `'/healthz'` (Envoy has no default; the Kubernetes convention). */
  readonly path: string;
  /** HTTP statuses that pass. Default `[200]` (Envoy `expected_statuses` default: 200 only). */
  readonly expectedStatuses: readonly number[];
  /** HTTP `Host` header. Default: the endpoint's `host:port`. With `scheme: 'https'` its host name is also the SNI. */
  readonly hostHeader: string | undefined;
  /**
   * Scheme of the HTTP probe: `'https'` probes over TLS. Default `'http'`; a `BalancedDispatcher` with
   * `protocol: 'https:'` defaults its owned balancer's probe to `'https'`.
   */
  readonly scheme: 'http' | 'https';
  /**
   * TLS options of an `'https'` probe (node:tls `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`, …).
   * Default: none (system CAs; SNI from `hostHeader`). A `BalancedDispatcher` passes its `pool.connect` options.
   */
  readonly tls: Readonly<Record<string, unknown>> | undefined;
  /** gRPC service name asked about; `''` is the whole server. Default `''` (grpc.health.v1). */
  readonly service: string;
  /** Time between probes of one endpoint, in ms. Default 10,000 (Kubernetes `periodSeconds`; Envoy has no default). */
  readonly intervalMs: number;
  /** Probe deadline, in ms; a probe that takes longer fails. Default 1,000 (Kubernetes `timeoutSeconds`). */
  readonly timeoutMs: number;
  /** Failed probes in a row that mark an endpoint unhealthy. Default 3 (Kubernetes `failureThreshold`). */
  readonly unhealthyThreshold: number;
  /** Passed probes in a row that mark it healthy again. Default 1 (Kubernetes `successThreshold`). */
  readonly healthyThreshold: number;
  /** Random extra delay per interval, uniform in [0, this], in ms. Default 0 (Envoy `interval_jitter`). */
  readonly intervalJitterMs: number;
  /**
   * Random extra delay per interval, uniform in [0, this percent of `intervalMs`]. Default 10 — Envoy's default is
   * 0; we jitter by default so that many client processes started together do not probe in lockstep.
   */
  readonly intervalJitterPercent: number;
  /** Most probes in flight at once per Balancer (p-limit). Default 32; see docs/health.md for the sizing. */
  readonly concurrency: number;
  /**
   * Makes the prober. Default `undefined`: the built-in HTTP prober. `protocol: 'grpc'` needs `grpcHealthProber`
   * from `switchyard-lb/grpc` (kept out of the core entry so that it never loads @grpc/grpc-js); any other
   * factory plugs in a custom check (TCP connect, a Redis PING, …).
   */
  readonly prober: ProberFactory | undefined;
}

/** What a `protocol: 'grpc'` check without `prober` is told. */
export const GRPC_PROBER_REQUIRED =
  'grpcHealthProber from "switchyard-lb/grpc" when protocol is "grpc" (the core does not load @grpc/grpc-js)';

export const defaultHealthCheckOptions: HealthCheckOptions = Object.freeze({
  protocol: 'http',
  path: '/healthz',
  expectedStatuses: Object.freeze([200]),
  hostHeader: undefined,
  scheme: 'http',
  tls: undefined,
  service: '',
  intervalMs: 10_000,
  timeoutMs: 1_000,
  unhealthyThreshold: 3,
  healthyThreshold: 1,
  intervalJitterMs: 0,
  intervalJitterPercent: 10,
  concurrency: 32,
  prober: undefined,
});

/** What users pass: any subset of {@link HealthCheckOptions}; `undefined`/`false` turns active checking off. */
export type HealthCheckConfig = false | Partial<HealthCheckOptions>;

/** Validates active health-check options; `undefined`/`false` → off. */
export function parseHealthCheck(raw: unknown, path: string): HealthCheckOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  const d = defaultHealthCheckOptions;
  const o = readObject(raw, path, Object.keys(d));
  const protocol = readEnum(o, 'protocol', path, ['http', 'grpc'] as const, d.protocol);
  const pathValue = readString(o, 'path', path) ?? d.path;
  if (!pathValue.startsWith('/'))
    throw new ConfigError({
      field: join(path, 'path'),
      allowed: 'a path starting with "/"',
      received: pathValue,
    });
  const service = o.service === undefined ? d.service : o.service;
  if (typeof service !== 'string')
    throw new ConfigError({ field: join(path, 'service'), allowed: 'a string', received: service });
  const options: HealthCheckOptions = {
    protocol,
    path: pathValue,
    expectedStatuses: parseStatuses(o, path),
    hostHeader: readString(o, 'hostHeader', path),
    scheme: readEnum(o, 'scheme', path, ['http', 'https'] as const, d.scheme),
    tls: readTlsOptions(o.tls, join(path, 'tls')),
    service,
    intervalMs: readNumber(o, 'intervalMs', path, { min: 1, max: DAY_MS }, d.intervalMs),
    timeoutMs: readNumber(o, 'timeoutMs', path, { min: 1, max: 600_000 }, d.timeoutMs),
    unhealthyThreshold: readNumber(o, 'unhealthyThreshold', path, COUNT, d.unhealthyThreshold),
    healthyThreshold: readNumber(o, 'healthyThreshold', path, COUNT, d.healthyThreshold),
    intervalJitterMs: readNumber(o, 'intervalJitterMs', path, { min: 0, max: DAY_MS }, d.intervalJitterMs),
    intervalJitterPercent: readNumber(o, 'intervalJitterPercent', path, PERCENT, d.intervalJitterPercent),
    concurrency: readNumber(o, 'concurrency', path, { integer: true, min: 1, max: 10_000 }, d.concurrency),
    prober: readProber(o, path, protocol),
  };
  return Object.freeze(options);
}

function readTlsOptions(raw: unknown, field: string): Readonly<Record<string, unknown>> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError({ field, allowed: 'an object of node:tls connect options', received: raw });
  return Object.freeze({ ...(raw as Record<string, unknown>) });
}

function readProber(o: RawOptions, path: string, protocol: 'http' | 'grpc'): ProberFactory | undefined {
  const prober = o.prober;
  if (prober === undefined && protocol === 'grpc')
    throw new ConfigError({
      field: join(path, 'prober'),
      allowed: GRPC_PROBER_REQUIRED,
      received: undefined,
    });
  if (prober !== undefined && typeof prober !== 'function')
    throw new ConfigError({
      field: join(path, 'prober'),
      allowed: 'a function (options) => Prober',
      received: prober,
    });
  return prober as ProberFactory | undefined;
}

function parseStatuses(o: RawOptions, path: string): readonly number[] {
  const raw = o.expectedStatuses;
  if (raw === undefined) return defaultHealthCheckOptions.expectedStatuses;
  const field = join(path, 'expectedStatuses');
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ConfigError({ field, allowed: 'a non-empty array of HTTP statuses', received: raw });
  return Object.freeze(
    raw.map((s, i) => checkNumber(s, `${field}[${i}]`, { integer: true, min: 100, max: 599 })),
  );
}

// ---- slow start ---------------------------------------------------------------------------------------------

/** Slow start (Envoy `SlowStartConfig`): new and returning endpoints ramp their weight up over a window. */
export interface SlowStartOptions {
  /** Ramp duration, in ms. Required (Envoy has no default window). */
  readonly windowMs: number;
  /** Curve shape: weight ∝ (t / window)^(1 / aggression); 1 is linear. Default 1.0 (Envoy `aggression`). */
  readonly aggression: number;
  /** Floor of the ramp, percent of the full weight. Default 10 (Envoy `min_weight_percent`). */
  readonly minWeightPercent: number;
  /** How often weights are recomputed (the picker rebuilt) during a ramp, in ms. Default min(1,000, window / 10). */
  readonly updateIntervalMs: number;
}

export type SlowStartConfig = false | (Partial<SlowStartOptions> & { readonly windowMs: number });

/**
 * Defaults of {@link SlowStartOptions}. `windowMs` has none (required), and `updateIntervalMs` defaults to
 * min({@link SLOW_START_MAX_UPDATE_INTERVAL_MS}, windowMs / 10), so neither is here: every key is an option.
 */
export const defaultSlowStartOptions: Pick<SlowStartOptions, 'aggression' | 'minWeightPercent'> =
  Object.freeze({
    aggression: 1.0,
    minWeightPercent: 10,
  });

/** Upper bound of the default `updateIntervalMs`, in ms: picker rebuilds at most once a second by default. */
export const SLOW_START_MAX_UPDATE_INTERVAL_MS = 1_000;

/** Validates slow-start options; `undefined`/`false` → off. */
export function parseSlowStart(raw: unknown, path: string): SlowStartOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  const o = readObject(raw, path, ['windowMs', 'aggression', 'minWeightPercent', 'updateIntervalMs']);
  if (o.windowMs === undefined)
    throw new ConfigError({
      field: join(path, 'windowMs'),
      allowed: 'a number from 1 to 86400000',
      received: undefined,
    });
  const windowMs = readNumber(o, 'windowMs', path, { min: 1, max: DAY_MS }, 0);
  const d = defaultSlowStartOptions;
  return Object.freeze({
    windowMs,
    aggression: readNumber(o, 'aggression', path, { min: 0, exclusiveMin: true, max: 100 }, d.aggression),
    minWeightPercent: readNumber(
      o,
      'minWeightPercent',
      path,
      { min: 0, exclusiveMin: true, max: 100 },
      d.minWeightPercent,
    ),
    updateIntervalMs: readNumber(
      o,
      'updateIntervalMs',
      path,
      { min: 1, max: DAY_MS },
      Math.max(1, Math.min(SLOW_START_MAX_UPDATE_INTERVAL_MS, windowMs / 10)),
    ),
  });
}

// ---- routing: priorities, localities, zones -----------------------------------------------------------------

/** How the routable set is split over priority levels, localities and zones. */
export interface RoutingOptions {
  /** Healthy-panic threshold, percent; 0 disables. Default 50 (Envoy `healthy_panic_threshold`). */
  readonly panicThreshold: number;
  /** Overprovisioning factor for priority and locality spill-over. Default 1.4 (Envoy `overprovisioning_factor` 140). */
  readonly overprovisioningFactor: number;
  /** The caller's own zone: prefer endpoints there while that zone has capacity. Default: none (zone-aware off). */
  readonly localZone: string | undefined;
  /** Fewest endpoints in a priority level for zone-aware routing to apply. Default 6 (Envoy `min_cluster_size`). */
  readonly zoneAwareMinClusterSize: number;
}

export const defaultRoutingOptions: RoutingOptions = Object.freeze({
  panicThreshold: 50,
  overprovisioningFactor: 1.4,
  localZone: undefined,
  zoneAwareMinClusterSize: 6,
});

/** Reads the routing keys from the Balancer's options object (top level, path `''`). */
export function parseRouting(o: RawOptions, path: string): RoutingOptions {
  const d = defaultRoutingOptions;
  return Object.freeze({
    panicThreshold: readNumber(o, 'panicThreshold', path, PERCENT, d.panicThreshold),
    overprovisioningFactor: readNumber(
      o,
      'overprovisioningFactor',
      path,
      { min: 1, max: 100 },
      d.overprovisioningFactor,
    ),
    localZone: readString(o, 'localZone', path),
    zoneAwareMinClusterSize: readNumber(
      o,
      'zoneAwareMinClusterSize',
      path,
      { integer: true, min: 1, max: 1_000_000 },
      d.zoneAwareMinClusterSize,
    ),
  });
}
