/**
 * ORCA per-call load reports (gRFC A51) turned into endpoint weights (gRFC A58, weighted round robin).
 *
 * A backend that records per-call metrics sends an `OrcaLoadReport` in the `endpoint-load-metrics-bin` trailer.
 * The policy decodes the few fields A58 uses with a hand-written decoder over the message's fixed field numbers
 * (grpc-js 1.14 re-parses its ORCA .proto on every call, 95–430 ms each — pitfall 11 — and protobufjs is not a
 * dependency here), and every `weightUpdatePeriodMs` turns the latest reports into weights:
 *
 *   utilization = application_utilization if > 0, else cpu_utilization
 *   weight      = qps / (utilization + eps / qps × errorUtilizationPenalty)        (reports without qps or
 *                                                                                   utilization are ignored)
 *
 * A weight counts only after `blackoutPeriodMs` of continuous reports (a fresh server's first numbers are noisy) and
 * until `expirationPeriodMs` without one. Endpoints without a usable weight get the mean of those with one; with
 * none, every endpoint keeps its resolver weight. Weights are normalised around 100 and replace the resolver's
 * weights in the Balancer, so any weight-aware policy (`weighted_round_robin`, `maglev`, `ring_hash`, slow start)
 * follows them.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../clock.js';
import { readNumber, readObject } from '../config/validate.js';
import { MAX_WEIGHT } from '../endpoint.js';

/** The ORCA trailer key (gRFC A51). */
export const ORCA_TRAILER = 'endpoint-load-metrics-bin';

/** Options of the `orca` LB config key. */
export interface OrcaOptions {
  /** How often weights are recomputed, ms, 100 … 3,600,000. Default 1,000 (A58 `weight_update_period`). */
  readonly weightUpdatePeriodMs: number;
  /** Continuous reporting before a weight is used, ms, 0 … 3,600,000. Default 10,000 (A58 `blackout_period`). */
  readonly blackoutPeriodMs: number;
  /** A weight with no report for this long is dropped, ms, 1,000 … 86,400,000. Default 180,000 (A58). */
  readonly expirationPeriodMs: number;
  /** Weight given to errors per query, 0 … 1,000. Default 1 (A58 `error_utilization_penalty`). */
  readonly errorUtilizationPenalty: number;
}

/** A58 defaults. */
export const defaultOrcaOptions: OrcaOptions = Object.freeze({
  weightUpdatePeriodMs: 1_000,
  blackoutPeriodMs: 10_000,
  expirationPeriodMs: 180_000,
  errorUtilizationPenalty: 1,
});

/** Validates the `orca` config key (`true` for the defaults). Throws `ConfigError` naming the field. */
export function parseOrcaOptions(raw: unknown, path: string): OrcaOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  const obj = readObject(raw === true ? {} : raw, path, Object.keys(defaultOrcaOptions));
  const d = defaultOrcaOptions;
  return {
    weightUpdatePeriodMs: readNumber(
      obj,
      'weightUpdatePeriodMs',
      path,
      { min: 100, max: 3_600_000 },
      d.weightUpdatePeriodMs,
    ),
    blackoutPeriodMs: readNumber(
      obj,
      'blackoutPeriodMs',
      path,
      { min: 0, max: 3_600_000 },
      d.blackoutPeriodMs,
    ),
    expirationPeriodMs: readNumber(
      obj,
      'expirationPeriodMs',
      path,
      { min: 1_000, max: 86_400_000 },
      d.expirationPeriodMs,
    ),
    errorUtilizationPenalty: readNumber(
      obj,
      'errorUtilizationPenalty',
      path,
      { min: 0, max: 1_000 },
      d.errorUtilizationPenalty,
    ),
  };
}

/** The fields of an `xds.data.orca.v3.OrcaLoadReport` that weighting uses. */
export interface OrcaReport {
  cpuUtilization: number;
  applicationUtilization: number;
  /** `rps_fractional`, or the deprecated integer `rps` when that is all there is. */
  qps: number;
  eps: number;
}

/**
 * Decodes the fields of an OrcaLoadReport that A58 uses: doubles 1 (cpu), 6 (rps_fractional), 7 (eps),
 * 9 (application), varint 3 (rps); every other field (maps, mem) is skipped by wire type. Returns `undefined` for
 * bytes that are not a well-formed message.
 */
export function decodeOrcaReport(bytes: Uint8Array): OrcaReport | undefined {
  const report: OrcaReport = { cpuUtilization: 0, applicationUtilization: 0, qps: 0, eps: 0 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let rps = 0;
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10 && pos < bytes.length; i++) {
      const b = bytes[pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 1) {
      if (pos + 8 > bytes.length) return undefined;
      const v = view.getFloat64(pos, true);
      pos += 8;
      if (field === 1) report.cpuUtilization = v;
      else if (field === 6) report.qps = v;
      else if (field === 7) report.eps = v;
      else if (field === 9) report.applicationUtilization = v;
    } else if (wire === 0) {
      const v = varint();
      if (v === undefined) return undefined;
      if (field === 3) rps = v;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || pos + length > bytes.length) return undefined;
      pos += length;
    } else if (wire === 5) {
      pos += 4;
    } else {
      return undefined;
    }
  }
  if (pos !== bytes.length) return undefined;
  if (report.qps === 0) report.qps = rps;
  return report;
}

interface WeightState {
  weight: number;
  /** When the current run of reports started (for the blackout period), ms on the clock. */
  nonEmptySince: number;
  lastUpdated: number;
}

/** Per-endpoint weights from ORCA reports, recomputed on a timer; `onChange` runs when the weights may differ. */
export class OrcaWeights {
  readonly #options: OrcaOptions;
  readonly #clock: Clock;
  readonly #onChange: () => void;
  readonly #states = new Map<string, WeightState>();
  #weights: ReadonlyMap<string, number> = new Map();
  #timer: TimerHandle | undefined;

  constructor(options: OrcaOptions, clock: Clock, onChange: () => void) {
    this.#options = options;
    this.#clock = clock;
    this.#onChange = onChange;
    this.#timer = clock.setTimer(this.#tick, options.weightUpdatePeriodMs);
  }

  /** Reads a call's trailer, if it carries a report. Called from `onCallEnded`. */
  record(address: string, trailers: Metadata): void {
    const values = trailers.get(ORCA_TRAILER);
    if (values.length === 0) return;
    const value = values[0]!;
    const report = typeof value === 'string' ? undefined : decodeOrcaReport(value);
    if (report === undefined) return;
    const utilization =
      report.applicationUtilization > 0 ? report.applicationUtilization : report.cpuUtilization;
    if (!(report.qps > 0 && utilization > 0)) return;
    const weight =
      report.qps / (utilization + (report.eps / report.qps) * this.#options.errorUtilizationPenalty);
    const now = this.#clock.now();
    let state = this.#states.get(address);
    if (state === undefined) {
      state = { weight, nonEmptySince: now, lastUpdated: now };
      this.#states.set(address, state);
    } else {
      if (now - state.lastUpdated > this.#options.expirationPeriodMs) state.nonEmptySince = now;
      state.weight = weight;
      state.lastUpdated = now;
    }
  }

  /** The weight to give `address` now, or `undefined` to keep its resolver weight. */
  weightOf(address: string): number | undefined {
    return this.#weights.get(address);
  }

  /**
   * Recomputes weights for `addresses` (the connected endpoints): usable ones normalised to a mean of 100, the rest
   * at the mean. With no usable weight, returns an empty map (resolver weights stay).
   */
  compute(addresses: Iterable<string>): ReadonlyMap<string, number> {
    const now = this.#clock.now();
    const o = this.#options;
    const usable = new Map<string, number>();
    const all: string[] = [];
    for (const address of addresses) {
      all.push(address);
      const s = this.#states.get(address);
      if (s === undefined || now - s.lastUpdated > o.expirationPeriodMs) continue;
      if (o.blackoutPeriodMs > 0 && now - s.nonEmptySince < o.blackoutPeriodMs) continue;
      usable.set(address, s.weight);
    }
    const out = new Map<string, number>();
    if (usable.size === 0) return out;
    let sum = 0;
    for (const w of usable.values()) sum += w;
    const mean = sum / usable.size;
    for (const address of all) {
      const w = ((usable.get(address) ?? mean) / mean) * 100;
      out.set(address, Math.min(MAX_WEIGHT, Math.max(0.01, Math.round(w * 100) / 100)));
    }
    return out;
  }

  /** Stops the timer. */
  close(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Sets the weights the policy reads (from `compute`). */
  set(weights: ReadonlyMap<string, number>): void {
    this.#weights = weights;
  }

  readonly #tick = (): void => {
    this.#timer = this.#clock.setTimer(this.#tick, this.#options.weightUpdatePeriodMs);
    // Forget endpoints silent for a whole expiration period.
    const now = this.#clock.now();
    for (const [address, s] of this.#states) {
      if (now - s.lastUpdated > this.#options.expirationPeriodMs) this.#states.delete(address);
    }
    this.#onChange();
  };
}
