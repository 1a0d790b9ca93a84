/**
 * Validation of the injectable collaborators many components take: a {@link Clock} and a {@link RandomSource}.
 * Shared so a Balancer, a resolver or a health checker reject a bad `clock`/`random` with the same message.
 */
import { type Clock, systemClock } from '../clock.js';
import { ConfigError } from '../errors/config-error.js';
import { defaultRandom, type RandomSource } from '../random.js';

/** `undefined` → {@link systemClock}; anything without `now()` and `setTimer()` → {@link ConfigError} at `path`. */
export function checkClock(clock: unknown, path = 'clock'): Clock {
  if (clock === undefined) return systemClock;
  const c = clock as Partial<Clock> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.now !== 'function' ||
    typeof c.setTimer !== 'function'
  ) {
    throw new ConfigError({
      field: path,
      allowed: 'an object with now() and setTimer(fn, ms)',
      received: clock,
    });
  }
  return clock as Clock;
}

/** `undefined` → {@link defaultRandom}; a non-function → {@link ConfigError} at `path`. */
export function checkRandom(random: unknown, path = 'random'): RandomSource {
  if (random === undefined) return defaultRandom();
  if (typeof random !== 'function')
    throw new ConfigError({ field: path, allowed: 'a function returning [0, 1)', received: random });
  return random as RandomSource;
}
