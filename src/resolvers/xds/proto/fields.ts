/**
 * Readers for the protobuf well-known wrappers in decoded xDS resources, and a collector of validation issues.
 *
 * Decoded objects follow proto3 presence: an unset message field is `undefined`, an unset scalar inside a set
 * message is `undefined` too and means the proto default (0, '', false).
 */
import { XdsResourceError, type XdsResourceProblem } from '../../../errors/xds-resource-error.js';

/** `google.protobuf.UInt32Value` (or UInt64Value with `longs: Number`). */
export interface UInt32Message {
  readonly value?: number;
}
/** `envoy.type.v3.Percent`. */
export interface PercentMessage {
  readonly value?: number;
}
/** `google.protobuf.Duration`. */
export interface DurationMessage {
  readonly seconds?: number;
  readonly nanos?: number;
}

/** Largest Duration protobuf allows: 10,000 years. */
const MAX_DURATION_SECONDS = 315_576_000_000;

/** Collects every problem in one resource, each prefixed with its envoy field path. */
export class Issues {
  readonly #issues: string[] = [];

  add(path: string, problem: string): void {
    this.#issues.push(`${path}: ${problem}`);
  }

  get count(): number {
    return this.#issues.length;
  }

  /** Throws one {@link XdsResourceError} listing every issue (the first 20), if there are any. */
  throwIfAny(typeUrl: string, resourceName: string, problem: XdsResourceProblem = 'invalid'): void {
    if (this.#issues.length === 0) return;
    const shown = this.#issues.slice(0, 20);
    const more = this.#issues.length > shown.length ? `; and ${this.#issues.length - shown.length} more` : '';
    throw new XdsResourceError({
      problem,
      typeUrl,
      ...(resourceName === '' ? {} : { resourceName }),
      detail: shown.join('; ') + more,
    });
  }
}

/** The value of a set wrapper (0 when set but empty), `undefined` when unset. */
export function wrapped(message: UInt32Message | undefined): number | undefined {
  return message === undefined ? undefined : (message.value ?? 0);
}

/** A `Percent` (double) that must lie in [0, 100]. */
export function percent(
  message: PercentMessage | undefined,
  path: string,
  issues: Issues,
): number | undefined {
  return message === undefined ? undefined : checkPercent(message.value ?? 0, path, issues);
}

/** A UInt32Value used as a percentage (envoy's outlier detection): must be <= 100. */
export function uint32Percent(
  message: UInt32Message | undefined,
  path: string,
  issues: Issues,
): number | undefined {
  const value = wrapped(message);
  return value === undefined ? undefined : checkPercent(value, path, issues);
}

function checkPercent(value: number, path: string, issues: Issues): number | undefined {
  if (value >= 0 && value <= 100) return value;
  issues.add(path, `must be a percentage from 0 to 100, got ${value}`);
  return undefined;
}

/** A Duration in milliseconds; checks protobuf's range and, with `positive`, that it is > 0. */
export function durationMs(
  message: DurationMessage | undefined,
  path: string,
  issues: Issues,
  positive: boolean,
): number | undefined {
  if (message === undefined) return undefined;
  const seconds = message.seconds ?? 0;
  const nanos = message.nanos ?? 0;
  if (!(seconds >= 0 && seconds <= MAX_DURATION_SECONDS && nanos >= 0 && nanos <= 999_999_999)) {
    issues.add(path, `must be a non-negative duration, got ${seconds}s ${nanos}ns`);
    return undefined;
  }
  const ms = seconds * 1000 + nanos / 1e6;
  if (positive && ms <= 0) {
    issues.add(path, 'must be > 0');
    return undefined;
  }
  return ms;
}
