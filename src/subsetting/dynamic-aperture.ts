/**
 * Dynamic aperture (Finagle's load band): the logical aperture widens while the subset is busy and narrows while it
 * idles, within [`minAperture`, `maxAperture`].
 *
 * Every `sampleMs` the controller reads the requests in flight on the subset's members, divides by the aperture
 * (load per backend) and smooths it with an exponential moving average of time constant `smoothingMs`. Above
 * `highLoad` the aperture grows by one; below `lowLoad` it shrinks by one. One step per sample keeps a burst from
 * swinging the subset, and the gap between the two bounds keeps it from flapping. Defaults are Finagle's random
 * aperture (`lowLoad` 0.5, `highLoad` 2, 5 s smoothing).
 *
 * Finagle removed the load band from its deterministic aperture (2018): with every client at its own width the
 * windows no longer tile the ring evenly, so backend load bands by up to ~2×. Here it is off by default and meant
 * for bursty clients, above all with random subsetting; with a coordinate it trades the even tiling for headroom.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { checkNumber, join, readNumber, readObject } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';

/** The `subset.dynamic` option. */
export interface DynamicApertureOptions {
  /** Requests in flight per member below which the aperture narrows by one. Default 0.5 (Finagle `lowLoad`). */
  readonly lowLoad?: number;
  /** Requests in flight per member above which the aperture widens by one. Default 2 (Finagle `highLoad`). */
  readonly highLoad?: number;
  /** Time constant of the load average, ms, 100..600,000. Default 5,000 (Finagle `smoothWin`). */
  readonly smoothingMs?: number;
  /** How often the load is sampled and the aperture adjusted, ms, 10..60,000. Default 500. */
  readonly sampleMs?: number;
}

/** Defaults of {@link DynamicApertureOptions}. */
export const defaultDynamicApertureOptions = {
  lowLoad: 0.5,
  highLoad: 2,
  smoothingMs: 5_000,
  sampleMs: 500,
} as const;

export interface ParsedDynamicAperture {
  readonly lowLoad: number;
  readonly highLoad: number;
  readonly smoothingMs: number;
  readonly sampleMs: number;
}

/** Validates `subset.dynamic`; throws {@link ConfigError} naming the field. */
export function parseDynamicAperture(value: unknown, path: string): ParsedDynamicAperture {
  const raw = readObject(value, path, ['lowLoad', 'highLoad', 'smoothingMs', 'sampleMs']);
  const d = defaultDynamicApertureOptions;
  const lowLoad = readNumber(raw, 'lowLoad', path, { min: 0, max: 10_000 }, d.lowLoad);
  const highLoad =
    raw.highLoad === undefined
      ? d.highLoad
      : checkNumber(raw.highLoad, join(path, 'highLoad'), { min: 0, max: 10_000 });
  if (!(highLoad > lowLoad))
    throw new ConfigError({
      field: join(path, 'highLoad'),
      allowed: `a number above lowLoad (${lowLoad})`,
      received: highLoad,
    });
  return {
    lowLoad,
    highLoad,
    smoothingMs: readNumber(raw, 'smoothingMs', path, { min: 100, max: 600_000 }, d.smoothingMs),
    sampleMs: readNumber(raw, 'sampleMs', path, { min: 10, max: 60_000 }, d.sampleMs),
  };
}

/** What the controller reads and moves. */
export interface ApertureTarget {
  /** Requests in flight on the current members. */
  inFlight(): number;
  aperture(): number;
  /** Sets the logical aperture (already within bounds) and rebuilds the subset. */
  setAperture(aperture: number): void;
}

export class DynamicAperture {
  readonly #options: ParsedDynamicAperture;
  readonly #min: number;
  readonly #max: number;
  #timer: TimerHandle | undefined;
  #average = 0;
  #stopped = false;

  constructor(options: ParsedDynamicAperture, min: number, max: number) {
    this.#options = options;
    this.#min = min;
    this.#max = max;
  }

  /** The smoothed load per member the last sample saw. */
  get load(): number {
    return this.#average;
  }

  start(clock: Clock, target: ApertureTarget, endpointCount: () => number): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#sample(target, endpointCount());
      this.#timer = clock.setTimer(tick, this.#options.sampleMs);
    };
    this.#timer = clock.setTimer(tick, this.#options.sampleMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #sample(target: ApertureTarget, endpoints: number): void {
    const { lowLoad, highLoad, smoothingMs, sampleMs } = this.#options;
    const aperture = target.aperture();
    const load = target.inFlight() / Math.max(1, aperture);
    const alpha = 1 - Math.exp(-sampleMs / smoothingMs);
    this.#average += alpha * (load - this.#average);
    const max = Math.min(this.#max, Math.max(this.#min, endpoints));
    if (this.#average > highLoad && aperture < max) target.setAperture(aperture + 1);
    else if (this.#average < lowLoad && aperture > this.#min) target.setAperture(aperture - 1);
  }
}
