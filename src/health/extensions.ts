/**
 * Builds the health extensions a Balancer's options ask for, wired to each other, in the order they must run:
 * outlier detection and active checks decide health; slow start then derives weights from it at each rebuild.
 */
import type { BalancerExtension } from '../balancer/extension.js';
import type { RawOptions } from '../config/validate.js';
import { HealthChecker } from './active/health-checker.js';
import { parseHealthCheck, parseOutlierDetection, parseSlowStart } from './options.js';
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

/** Reads `outlierDetection`, `healthCheck` and `slowStart` from a Balancer's options (throws ConfigError). */
export function createHealthExtensions(raw: RawOptions): HealthExtensions {
  const outlierOptions = parseOutlierDetection(raw.outlierDetection, 'outlierDetection');
  const checkOptions = parseHealthCheck(raw.healthCheck, 'healthCheck');
  const slowStartOptions = parseSlowStart(raw.slowStart, 'slowStart');
  const outlierDetector = outlierOptions === undefined ? undefined : new OutlierDetector(outlierOptions);
  // Envoy `successful_active_health_check_uneject_host`: a passing active check ends an ejection.
  const unejectOnPass = outlierDetector?.options.successfulActiveHealthCheckUnejectHost
    ? outlierDetector
    : undefined;
  const healthChecker =
    checkOptions === undefined
      ? undefined
      : new HealthChecker(
          checkOptions,
          unejectOnPass === undefined ? {} : { onPass: (state) => unejectOnPass.returnEndpoint(state) },
        );
  const slowStart = slowStartOptions === undefined ? undefined : new SlowStart(slowStartOptions);
  const list = [outlierDetector, healthChecker, slowStart].filter((e) => e !== undefined);
  return { outlierDetector, healthChecker, slowStart, list };
}
