/**
 * Passive outlier detection as a health mechanism (balancer/health/mechanism.ts): the `outlierDetection` option, the
 * detector it builds, and the mapping of a control plane's outlier settings (xDS CDS `outlier_detection`, in the xDS
 * resolver's flat shape, src/resolvers/xds/cds.ts) onto that option.
 */
import { type HealthMechanism, isPlainObject } from '../balancer/health/mechanism.js';
import { type OutlierDetectionOptions, parseOutlierDetection } from './options.js';
import { OutlierDetector } from './outlier-detection.js';

/**
 * `outlierDetection` → `balancer.health.outlierDetector`. A control plane's new options: the new detector takes
 * over the current records and ejections (they end on its schedule); turning detection off returns every ejected
 * endpoint at once.
 */
export const outlierDetectionMechanism: HealthMechanism<OutlierDetectionOptions, OutlierDetector> = {
  option: 'outlierDetection',
  property: 'outlierDetector',
  parse: parseOutlierDetection,
  create: (options) => new OutlierDetector(options),
  fromCluster: (sent) => outlierDetectionFromCluster(sent),
  retire: (previous, off) => (off ? previous.detach() : previous.close()),
  takeOver: (next) => next.takeOver(),
};

/** Flat xDS keys (cds.ts) of the success-rate rule → keys of `outlierDetection.successRate`. */
const SUCCESS_RATE_KEYS: Readonly<Record<string, string>> = {
  successRateMinimumHosts: 'minimumHosts',
  successRateRequestVolume: 'requestVolume',
  successRateStdevFactor: 'stdevFactor',
  enforcingSuccessRate: 'enforcing',
  enforcingLocalOriginSuccessRate: 'enforcingLocalOrigin',
};
/** Flat xDS keys of the failure-percentage rule → keys of `outlierDetection.failurePercentage`. */
const FAILURE_PERCENTAGE_KEYS: Readonly<Record<string, string>> = {
  failurePercentageThreshold: 'threshold',
  failurePercentageMinimumHosts: 'minimumHosts',
  failurePercentageRequestVolume: 'requestVolume',
  enforcingFailurePercentage: 'enforcing',
  enforcingFailurePercentageLocalOrigin: 'enforcingLocalOrigin',
};

/**
 * xDS outlier detection (envoy's flat fields camelCased, durations in ms) → {@link OutlierDetectionOptions}: the
 * statistical rules' fields move into `successRate` / `failurePercentage`; the rest keep their names. Unknown keys
 * pass through, so the parser rejects them by name. A value that is not an object passes through too (`true`
 * means Envoy's defaults; anything else is rejected by the parser).
 */
export function outlierDetectionFromCluster(sent: unknown): unknown {
  if (!isPlainObject(sent)) return sent;
  const out: Record<string, unknown> = {};
  const successRate: Record<string, unknown> = {};
  const failurePercentage: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sent)) {
    if (Object.hasOwn(SUCCESS_RATE_KEYS, key)) successRate[SUCCESS_RATE_KEYS[key]!] = value;
    else if (Object.hasOwn(FAILURE_PERCENTAGE_KEYS, key))
      failurePercentage[FAILURE_PERCENTAGE_KEYS[key]!] = value;
    else out[key] = value;
  }
  if (Object.keys(successRate).length > 0) out.successRate = successRate;
  if (Object.keys(failurePercentage).length > 0) out.failurePercentage = failurePercentage;
  return out;
}
