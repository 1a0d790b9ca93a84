/**
 * Builds the health extensions a Balancer's options ask for, wired to each other, in the order they must run:
 * outlier detection and active checks decide health; slow start then derives weights from it at each rebuild.
 */
import type { BalancerExtension, ExtensionContext } from '../balancer/extension.js';
import type { RawOptions } from '../config/validate.js';
import { HealthChecker } from './active/health-checker.js';
import {
  type HealthCheckOptions,
  type OutlierDetectionOptions,
  parseHealthCheck,
  parseOutlierDetection,
  parseSlowStart,
  type SlowStartOptions,
} from './options.js';
import { OutlierDetector } from './outlier-detection.js';
import { SlowStart } from './slow-start.js';

/** The health extensions of one Balancer (each `undefined` when its option is off). */
export interface HealthExtensions {
  readonly outlierDetector: OutlierDetector | undefined;
  readonly healthChecker: HealthChecker | undefined;
  readonly slowStart: SlowStart | undefined;
  /** The ones that are on, in run order. */
  readonly list: readonly BalancerExtension[];
}

/** The health options of a Balancer, parsed (each `undefined` when off). */
export interface HealthOptions {
  readonly outlierDetection: OutlierDetectionOptions | undefined;
  readonly healthCheck: HealthCheckOptions | undefined;
  readonly slowStart: SlowStartOptions | undefined;
}

/** Reads `outlierDetection`, `healthCheck` and `slowStart` from a Balancer's options (throws ConfigError). Pure. */
export function parseHealthOptions(raw: RawOptions): HealthOptions {
  return {
    outlierDetection: parseOutlierDetection(raw.outlierDetection, 'outlierDetection'),
    healthCheck: parseHealthCheck(raw.healthCheck, 'healthCheck'),
    slowStart: parseSlowStart(raw.slowStart, 'slowStart'),
  };
}

/**
 * Builds the health extensions `options` ask for (from {@link parseHealthOptions}).
 * `currentDetector` answers the outlier detector in force when an active check passes: a control plane may replace
 * it at runtime (balancer.ts), and the health checker must end the ejections of the current one.
 */
export function createHealthExtensions(
  options: HealthOptions,
  currentDetector: () => OutlierDetector | undefined,
): HealthExtensions {
  const outlierOptions = options.outlierDetection;
  const checkOptions = options.healthCheck;
  const slowStartOptions = options.slowStart;
  const healthChecker =
    checkOptions === undefined
      ? undefined
      : new HealthChecker(checkOptions, {
          // Envoy `successful_active_health_check_uneject_host`: a passing active check ends an ejection.
          onPass: (state) => {
            const detector = currentDetector();
            if (detector?.options.successfulActiveHealthCheckUnejectHost) detector.returnEndpoint(state);
          },
        });
  return healthExtensions(
    outlierOptions === undefined ? undefined : new OutlierDetector(outlierOptions),
    healthChecker,
    slowStartOptions === undefined ? undefined : new SlowStart(slowStartOptions),
  );
}

/** The set of health extensions, with `list` in run order. */
export function healthExtensions(
  outlierDetector: OutlierDetector | undefined,
  healthChecker: HealthChecker | undefined,
  slowStart: SlowStart | undefined,
): HealthExtensions {
  const list = [outlierDetector, healthChecker, slowStart].filter((e) => e !== undefined);
  return { outlierDetector, healthChecker, slowStart, list };
}

/** A control plane's new health settings: a field is present only when that setting changed (`undefined` = off). */
export interface HealthSettingsChange {
  readonly outlierDetection?: { readonly options: OutlierDetectionOptions | undefined };
  readonly slowStart?: { readonly options: SlowStartOptions | undefined };
}

/**
 * Puts a control plane's changed health settings in force and answers the new set (the same object when nothing
 * changed). Outlier detection: a new detector takes over the current records and ejections (they end on its
 * schedule); turning detection off returns every ejected endpoint at once. Slow start off: weights go back to the
 * resolver's. The caller then puts the new set in its extension lists and calls {@link attachReplaced}.
 */
export function replaceHealthExtensions(
  health: HealthExtensions,
  change: HealthSettingsChange,
  context: ExtensionContext,
): HealthExtensions {
  let { outlierDetector, slowStart } = health;
  if (change.outlierDetection !== undefined) {
    const options = change.outlierDetection.options;
    if (options === undefined) outlierDetector?.detach();
    else outlierDetector?.close();
    outlierDetector = options === undefined ? undefined : new OutlierDetector(options);
  }
  if (change.slowStart !== undefined) {
    slowStart?.close();
    const options = change.slowStart.options;
    slowStart = options === undefined ? undefined : new SlowStart(options);
    // Without slow start nothing scales weights: back to the resolver's.
    if (options === undefined)
      for (const state of context.states()) state.effectiveWeight = state.endpoint.weight;
  }
  if (outlierDetector === health.outlierDetector && slowStart === health.slowStart) return health;
  return healthExtensions(outlierDetector, health.healthChecker, slowStart);
}

/**
 * Attaches the extensions {@link replaceHealthExtensions} created. Called once they are in the Balancer's lists:
 * a new detector's take-over may rebuild the picker, which must run the new set's hooks, not the closed ones'.
 */
export function attachReplaced(
  previous: HealthExtensions,
  next: HealthExtensions,
  context: ExtensionContext,
): void {
  if (next.outlierDetector !== previous.outlierDetector) {
    next.outlierDetector?.attach(context);
    next.outlierDetector?.takeOver();
  }
  if (next.slowStart !== previous.slowStart) next.slowStart?.attach(context);
}
