/** Health: outlier detection, active checks, slow start, priorities/localities (docs/health.md). */
export type { RoutableSet, RoutingGroup } from '../balancer/routable.js';
export { selectRoutable } from '../balancer/routable.js';
export type { HealthCheckerHooks } from './active/health-checker.js';
export { HealthChecker } from './active/health-checker.js';
export { HttpProber } from './active/http-check.js';
export type { ProbeResult, Prober, ProberFactory } from './active/prober.js';
export type { HealthExtensions } from './extensions.js';
export { LOCALITY_WEIGHT_KEY } from './locality.js';
export type {
  FailurePercentageOptions,
  HealthCheckConfig,
  HealthCheckOptions,
  OutlierDetectionConfig,
  OutlierDetectionOptions,
  RoutingOptions,
  SlowStartConfig,
  SlowStartOptions,
  SuccessRateOptions,
} from './options.js';
export {
  defaultHealthCheckOptions,
  defaultOutlierDetectionOptions,
  defaultRoutingOptions,
  defaultSlowStartOptions,
  parseHealthCheck,
  parseOutlierDetection,
  parseSlowStart,
} from './options.js';
export type { EjectionReason } from './outlier-detection.js';
export { OutlierDetector } from './outlier-detection.js';
export { priorityLoad } from './priority.js';
export { SlowStart, slowStartFactor } from './slow-start.js';
