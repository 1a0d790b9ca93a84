/**
 * Small, strict readers for plain-JSON option objects.
 *
 * Every reader names the field by its dotted path and states the allowed range in the {@link ConfigError} it throws,
 * so `new Balancer({ policy: { name: 'least_request', choiceCount: 1 } })` fails with
 * `policy.choiceCount: expected an integer from 2 to 100, got 1`. Options are camelCase plain JSON so the same
 * configuration can come from code, a grpc-js service config, or an xDS control plane.
 */
import { ConfigError } from '../errors/config-error.js';

/** A plain JSON-ish object being read. */
export type RawOptions = Readonly<Record<string, unknown>>;

/** Joins a parent path and a key: `join('policy', 'choiceCount')` → `policy.choiceCount`, `join('a', '[2]')` → `a[2]`. */
export function join(path: string, key: string): string {
  if (path === '') return key;
  // Array indexes attach without a dot: `retryOn.statuses[0]`, not `retryOn.statuses.[0]`.
  return key.startsWith('[') ? `${path}${key}` : `${path}.${key}`;
}

/**
 * Checks that `raw` is a plain object whose keys are all in `allowed`, and returns it.
 * `undefined` reads as an empty object, so optional sections can be omitted.
 */
export function readObject(raw: unknown, path: string, allowed: readonly string[]): RawOptions {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError({ field: path, allowed: 'an object', received: raw });
  }
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new ConfigError({
        field: join(path, key),
        allowed: allowed.length === 0 ? 'no options' : `one of the known options (${allowed.join(', ')})`,
        received: 'an unknown option',
      });
    }
  }
  return raw as RawOptions;
}

/** Range for {@link readNumber}. */
export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  /** When true, `min` itself is not allowed (e.g. a duration that must be > 0). */
  readonly exclusiveMin?: boolean;
  readonly integer?: boolean;
}

/** Describes a range in words, for error messages: `an integer from 2 to 100`, `a number > 0`. */
export function describeRange(range: NumberRange): string {
  const kind = range.integer ? 'an integer' : 'a number';
  const { min, max } = range;
  if (min !== undefined && max !== undefined && !range.exclusiveMin) return `${kind} from ${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(range.exclusiveMin ? `> ${min}` : `>= ${min}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  return parts.length === 0 ? `a finite ${kind.replace(/^an? /, '')}` : `${kind} ${parts.join(' and ')}`;
}

/** Validates a number against a range; throws a {@link ConfigError} naming `path`. */
export function checkNumber(value: unknown, path: string, range: NumberRange): number {
  if (!inRange(value, range))
    throw new ConfigError({ field: path, allowed: describeRange(range), received: value });
  return value as number;
}

/**
 * The test {@link checkNumber} applies, without a field name: hot parsers check first and build the name only to
 * throw (`inRange(v, r) ? v : checkNumber(v, join(path, key), r)`).
 */
export function inRange(value: unknown, range: NumberRange): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    (range.min === undefined || (range.exclusiveMin ? value > range.min : value >= range.min)) &&
    (range.max === undefined || value <= range.max)
  );
}

/** Reads an optional number field, returning `fallback` when it is absent. */
export function readNumber(
  obj: RawOptions,
  key: string,
  path: string,
  range: NumberRange,
  fallback: number,
): number {
  const value = obj[key];
  if (value === undefined) return fallback;
  return checkNumber(value, join(path, key), range);
}

/** Reads an optional number field with no default. */
export function readOptionalNumber(
  obj: RawOptions,
  key: string,
  path: string,
  range: NumberRange,
): number | undefined {
  const value = obj[key];
  return value === undefined ? undefined : checkNumber(value, join(path, key), range);
}

/** Reads an optional boolean field. */
export function readBoolean(obj: RawOptions, key: string, path: string, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new ConfigError({ field: join(path, key), allowed: 'a boolean', received: value });
  return value;
}

/** Reads an optional non-empty string field. */
export function readString(obj: RawOptions, key: string, path: string): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError({ field: join(path, key), allowed: 'a non-empty string', received: value });
  }
  return value;
}

/** Reads an optional string field that must be one of `choices`. */
export function readEnum<T extends string>(
  obj: RawOptions,
  key: string,
  path: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ConfigError({
      field: join(path, key),
      allowed: `one of ${choices.map((c) => `"${c}"`).join(', ')}`,
      received: value,
    });
  }
  return value as T;
}

/** Reads an optional function field (options given in code, e.g. a clock). */
export function readFunction<F extends (...args: never[]) => unknown>(
  obj: RawOptions,
  key: string,
  path: string,
): F | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'function')
    throw new ConfigError({ field: join(path, key), allowed: 'a function', received: value });
  return value as F;
}
