/**
 * The two statistical ejection rules of outlier detection, evaluated once per interval over the counts of the
 * interval just ended. Pure functions: the detector decides what to do with the outliers they name.
 */

/** One endpoint's counts for the interval. */
export interface IntervalSample<T> {
  readonly item: T;
  readonly successes: number;
  readonly failures: number;
}

/**
 * Success-rate outliers (Envoy `processSuccessRateEjections`): among samples with at least `requestVolume`
 * requests, if there are at least `minimumHosts` of them, those whose success rate (percent) is below
 * `mean − stdevFactor × stdev` (population standard deviation). Example from Envoy: rates {50, 100, 100, 100, 100}
 * give mean 90, stdev 20, threshold 52 with factor 1.9, so the 50 % endpoint is an outlier.
 */
export function successRateOutliers<T>(
  samples: readonly IntervalSample<T>[],
  options: { readonly minimumHosts: number; readonly requestVolume: number; readonly stdevFactor: number },
): T[] {
  const rates: number[] = [];
  const items: T[] = [];
  for (const s of samples) {
    const volume = s.successes + s.failures;
    if (volume < options.requestVolume || volume === 0) continue;
    rates.push((100 * s.successes) / volume);
    items.push(s.item);
  }
  if (rates.length < options.minimumHosts || rates.length === 0) return [];
  let sum = 0;
  for (const r of rates) sum += r;
  const mean = sum / rates.length;
  let variance = 0;
  for (const r of rates) variance += (r - mean) ** 2;
  const threshold = mean - options.stdevFactor * Math.sqrt(variance / rates.length);
  const out: T[] = [];
  for (let i = 0; i < rates.length; i++) if (rates[i]! < threshold) out.push(items[i]!);
  return out;
}

/**
 * Failure-percentage outliers (Envoy): among samples with at least `requestVolume` requests, if there are at least
 * `minimumHosts` of them, those whose failure percentage is at least `threshold` (Envoy compares with `>=`).
 */
export function failurePercentageOutliers<T>(
  samples: readonly IntervalSample<T>[],
  options: { readonly minimumHosts: number; readonly requestVolume: number; readonly threshold: number },
): T[] {
  const eligible = samples.filter((s) => {
    const volume = s.successes + s.failures;
    return volume > 0 && volume >= options.requestVolume;
  });
  if (eligible.length < options.minimumHosts) return [];
  return eligible
    .filter((s) => (100 * s.failures) / (s.successes + s.failures) >= options.threshold)
    .map((s) => s.item);
}
