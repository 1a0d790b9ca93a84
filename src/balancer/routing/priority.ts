/**
 * Priority levels: how much traffic each level gets, and which levels are in panic (Envoy
 * `LoadBalancerBase::recalculatePerPriorityState` / `recalculatePerPriorityPanic`).
 *
 *   health[P]  = min(100, ⌊overprovisioning% × healthy[P] / total[P]⌋)      (integer percent, as Envoy)
 *   total      = min(100, Σ health[P])                                       ("normalized total availability")
 *   load[P]    = total = 100 ? min(left, health[P])  — level 0 first, the rest spills to 1, 2, …
 *                          : health[P] / Σ health   — not enough anywhere: spread by availability
 *   panic[P]   = total < 100 and healthy[P] / total[P] < panicThreshold
 *   all levels in panic → load ∝ endpoint count per level (Envoy `recalculateLoadInTotalPanic`)
 *
 * With the default factor 1.4 a level keeps all its traffic until fewer than 1/1.4 ≈ 71.4 % of its endpoints are
 * healthy; below that it sheds to the next level in proportion (60 % healthy → 84 % stays, 16 % spills).
 */

/** Counts of one priority level. */
export interface LevelCounts {
  readonly total: number;
  readonly healthy: number;
}

/** How traffic is divided over the levels. */
export interface PriorityLoad {
  /** Share of traffic per level, fractions summing to 1 (or all 0 when nothing is routable). */
  readonly load: readonly number[];
  /** Per level: route across all its endpoints, healthy or not. */
  readonly panic: readonly boolean[];
  /** Per level: availability percent after overprovisioning (`health[P]` above). */
  readonly health: readonly number[];
}

/** Envoy's integer-percent availability of one level. */
export function levelHealth(counts: LevelCounts, overprovisioningFactor: number): number {
  if (counts.total === 0) return 0;
  const factorPercent = Math.round(overprovisioningFactor * 100);
  return Math.min(100, Math.floor((factorPercent * counts.healthy) / counts.total));
}

/** Divides traffic over priority levels (index = level order, most preferred first). */
export function priorityLoad(
  levels: readonly LevelCounts[],
  overprovisioningFactor: number,
  panicThreshold: number,
): PriorityLoad {
  const health = levels.map((l) => levelHealth(l, overprovisioningFactor));
  const sum = health.reduce((a, b) => a + b, 0);
  const normalizedTotal = Math.min(100, sum);
  const inPanic = (l: LevelCounts) => l.total > 0 && l.healthy * 100 < panicThreshold * l.total;
  const panic = levels.map((l) => normalizedTotal < 100 && panicThreshold > 0 && inPanic(l));
  const populated = levels.filter((l) => l.total > 0);
  if (
    populated.length > 0 &&
    populated.every((l) => panicThreshold > 0 && inPanic(l)) &&
    normalizedTotal < 100
  ) {
    // Total panic: no level has enough healthy endpoints, so spread over every endpoint of every level.
    const endpoints = levels.reduce((a, l) => a + l.total, 0);
    return { load: levels.map((l) => l.total / endpoints), panic, health };
  }
  if (sum === 0) return { load: levels.map(() => 0), panic, health };
  const load: number[] = [];
  let left = 100;
  for (const h of health) {
    const share = normalizedTotal === 100 ? Math.min(left, h) : (h * 100) / sum;
    load.push(share / 100);
    left -= share;
  }
  return { load, panic, health };
}
