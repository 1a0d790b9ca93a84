/**
 * Options of the health mechanisms, as plain camelCase JSON, with their defaults and where the defaults come from.
 *
 * Every parser here is strict: unknown keys, wrong types and out-of-range values throw a {@link ConfigError} naming
 * the dotted field (`outlierDetection.successRate.stdevFactor`) and the allowed range. Semantics and defaults
 * follow Envoy's `OutlierDetection`, `HealthCheck` and `SlowStartConfig` unless docs/health.md says why not.
 */
import { join, type RawOptions, readBoolean, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';

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

// Active health-check options live with the checker (active/options.ts), beside the prober contract they name.
export {
  defaultHealthCheckOptions,
  GRPC_PROBER_REQUIRED,
  type HealthCheckConfig,
  type HealthCheckOptions,
  type ProberFactory,
  parseHealthCheck,
} from './active/options.js';

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

// Routing options (priorities, localities, zones) moved to balancer/routing/options.ts; re-exported for compatibility.
export { defaultRoutingOptions, parseRouting, type RoutingOptions } from '../balancer/routing/options.js';
