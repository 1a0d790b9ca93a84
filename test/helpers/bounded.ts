/**
 * Bounded loops for tests: a loop over the code under test must fail when that code is broken, never hang.
 */

/**
 * Runs `body` while `condition()` holds, at most `maxIterations` times; throws naming `what` when the bound is hit.
 * Returns the number of iterations run.
 */
export function boundedWhile(
  condition: () => boolean,
  body: () => void,
  maxIterations: number,
  what: string,
): number {
  let n = 0;
  while (condition()) {
    if (n >= maxIterations)
      throw new Error(
        `${what}: still looping after ${maxIterations} iterations (the code under test never ended it)`,
      );
    body();
    n++;
  }
  return n;
}

/** Calls `attempt` until it returns a value other than `undefined`, at most `maxIterations` times. */
export function boundedFind<T>(attempt: () => T | undefined, maxIterations: number, what: string): T {
  for (let n = 0; n < maxIterations; n++) {
    const found = attempt();
    if (found !== undefined) return found;
  }
  throw new Error(`${what}: not found in ${maxIterations} attempts (the code under test never produced it)`);
}
