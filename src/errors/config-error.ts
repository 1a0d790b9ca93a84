import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Details of an invalid option: which field, what was allowed, what was given. */
export interface ConfigErrorDetails {
  /** Dotted path of the offending field, e.g. `policy.choiceCount` or `endpoints[2].port`. */
  readonly field: string;
  /** Human-readable description of the allowed values, e.g. `an integer from 2 to 100`. */
  readonly allowed: string;
  /** The value that was given (as received). */
  readonly received?: unknown;
}

/**
 * Thrown for invalid options, at construction time, never later and never swallowed: switchyard does not fall back
 * silently to a default when a configuration is wrong (grpc-js silently falls back to pick_first; we refuse).
 * The message names the field, the allowed range and the received value.
 */
export class ConfigError extends SwitchyardError {
  static readonly code = 'SY_ERR_CONFIG';
  readonly field: string;
  readonly allowed: string;
  readonly received: unknown;

  constructor(details: ConfigErrorDetails) {
    super(
      `${details.field}: expected ${details.allowed}, got ${describe(details.received)}`,
      ConfigError.code,
    );
    this.name = 'ConfigError';
    this.field = details.field;
    this.allowed = details.allowed;
    this.received = details.received;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, ConfigError.code);
  }
}

/** Type guard for {@link ConfigError}. */
export function isConfigError(value: unknown): value is ConfigError {
  return hasErrorCode(value, ConfigError.code);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
