/**
 * Builds the health extensions a Balancer's options ask for, wired to each other, in the order they must run:
 * outlier detection and active checks decide health; slow start then derives weights from it at each rebuild.
 */
import type { BalancerExtension } from '../balancer/extension.js';
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
