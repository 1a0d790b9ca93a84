/**
 * Re-issuing another module's {@link ConfigError} under the path where its options sit in a fleet file, so that a
 * bad Balancer or retry option is reported as `configurations[2].balancer.panicThreshold`, not `panicThreshold`.
 */
import { join } from '../config/validate.js';
import { ConfigError, isConfigError } from '../errors/config-error.js';

/**
 * Runs `build`; a {@link ConfigError} it throws is re-thrown with its field rewritten by `rename` and prefixed with
 * `path`. Other errors pass through.
 */
export function withFieldPrefix<T>(build: () => T, path: string, rename: (field: string) => string): T {
  try {
    return build();
  } catch (error) {
    if (!isConfigError(error)) throw error;
    throw new ConfigError({
      field: join(path, rename(error.field)),
      allowed: error.allowed,
      received: error.received,
    });
  }
}
