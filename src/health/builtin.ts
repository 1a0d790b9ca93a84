/**
 * The built-in health mechanisms, as a plain value the health-mechanism registry (balancer/health/registry.ts) is
 * seeded from — not registered by import side effects, which bundlers drop under `"sideEffects": false`. The order
 * is the run order within a phase: outlier detection and active checks decide health, then slow start derives
 * weights from it.
 */
import type { HealthMechanism } from '../balancer/health/mechanism.js';
import type { HealthChecker } from './active/health-checker.js';
import { healthCheckMechanism } from './active/mechanism.js';
import type { HealthCheckConfig, OutlierDetectionConfig, SlowStartConfig } from './options.js';
import type { OutlierDetector } from './outlier-detection.js';
import { outlierDetectionMechanism } from './outlier-mechanism.js';
import { type SlowStart, slowStartMechanism } from './slow-start.js';

/** Every built-in health mechanism; each is registered before any user registration. */
export const builtinHealthMechanisms: readonly HealthMechanism[] = [
  outlierDetectionMechanism,
  healthCheckMechanism,
  slowStartMechanism,
] as unknown as readonly HealthMechanism[];

/** The Balancer options of the built-in mechanisms (part of `BalancerOptions`; src/health/, docs/health.md). */
export interface BuiltinHealthOptions {
  /** Passive outlier detection: `true` for Envoy's defaults, or options. Default off (as in Envoy). */
  readonly outlierDetection?: OutlierDetectionConfig;
  /** Active HTTP or gRPC health checks. Default off. */
  readonly healthCheck?: HealthCheckConfig;
  /** Weight ramp for new and returning endpoints, `{ windowMs, aggression?, minWeightPercent? }`. Default off. */
  readonly slowStart?: SlowStartConfig;
}

declare module '../balancer/health/mechanism.js' {
  /** The built-in mechanisms' instances on `balancer.health` (each `undefined` while its option is off). */
  interface HealthExtensions {
    readonly outlierDetector: OutlierDetector | undefined;
    readonly healthChecker: HealthChecker | undefined;
    readonly slowStart: SlowStart | undefined;
  }
}
