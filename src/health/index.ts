/** Health: outlier detection, active checks, slow start, priorities/localities (docs/health.md). */

export { LOCALITY_WEIGHT_KEY } from '../balancer/routing/locality.js';
export { priorityLoad } from '../balancer/routing/priority.js';
export type { RoutableSet, RoutingGroup } from '../balancer/routing/routable.js';
export { selectRoutable } from '../balancer/routing/routable.js';
export type { HealthCheckerHooks } from './active/health-checker.js';
export { HealthChecker } from './active/health-checker.js';
export { HttpProber } from './active/http-check.js';
export type { ProberFactory } from './active/options.js';
export type { ProbeResult, Prober } from './active/prober.js';
export { type BuiltinHealthOptions, builtinHealthMechanisms } from './builtin.js';
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
export { SlowStart, slowStartFactor } from './slow-start.js';
