/**
 * Base class of every error switchyard throws or hands to a callback.
 *
 * Match on {@link SwitchyardError.code} (a stable string such as `SY_ERR_CONFIG`) rather than on the class or the
 * message: codes never change between versions, messages may. `instanceof` also works across two copies of the
 * package in one process, because each subclass checks a `Symbol.for` brand rather than the prototype chain
 * (the same trick undici uses for its errors).
 */
export class SwitchyardError extends Error {
  /** Stable machine-readable code, e.g. `SY_ERR_CONFIG`. */
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwitchyardError';
    this.code = code;
    (this as unknown as Record<symbol, boolean>)[brandFor(code)] = true;
    (this as unknown as Record<symbol, boolean>)[BASE_BRAND] = true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BASE_BRAND] === true
    );
  }
}

const BASE_BRAND = Symbol.for('switchyard.error');

/** The brand symbol of one error code; subclasses use it in their own `Symbol.hasInstance`. */
export function brandFor(code: string): symbol {
  return Symbol.for(`switchyard.error.${code}`);
}

/** True when `value` is a switchyard error carrying `code` (works across duplicate package copies). */
export function hasErrorCode(value: unknown, code: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brandFor(code)] === true
  );
}
