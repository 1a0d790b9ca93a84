/**
 * Active health checking as a health mechanism (balancer/health/mechanism.ts): the `healthCheck` option and the
 * checker it builds. A control plane does not set it (xDS health checks are Envoy's own, not sent to clients).
 */
import type { HealthMechanism } from '../../balancer/health/mechanism.js';
import { OutlierDetector } from '../outlier-detection.js';
import { HealthChecker } from './health-checker.js';
import { type HealthCheckOptions, parseHealthCheck } from './options.js';

/**
 * `healthCheck` → `balancer.health.healthChecker`. A passing check ends an outlier ejection when the detector in
 * force asks for it (Envoy `successful_active_health_check_uneject_host`); the detector is looked up at each pass,
 * since a control plane may have replaced it.
 */
export const healthCheckMechanism: HealthMechanism<HealthCheckOptions, HealthChecker> = {
  option: 'healthCheck',
  property: 'healthChecker',
  parse: parseHealthCheck,
  create: (options, peers) =>
    new HealthChecker(options, {
      onPass: (state) => {
        const detector = peers.get('outlierDetector');
        if (detector instanceof OutlierDetector && detector.options.successfulActiveHealthCheckUnejectHost)
          detector.returnEndpoint(state);
      },
    }),
};
