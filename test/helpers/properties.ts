/**
 * fast-check runs for the suite: every property runs once with its fixed seed (reproducible, the regression net) and
 * once with a fresh seed (so CI explores new cases over time). A failure of the fresh run names its seed; replay it
 * with `FC_SEED=<seed> npx vitest run <file>` (the fresh run then uses that seed). `FC_FRESH=0` skips fresh runs.
 */
import { randomInt } from 'node:crypto';
import fc from 'fast-check';

export interface PropertyRunOptions {
  /** The fixed seed of the reproducible run. */
  readonly seed: number;
  /** Runs per seed. Default 100 (fast-check's). */
  readonly numRuns?: number;
}

/** The fresh seed of this process: `FC_SEED` when set, else random. */
export const freshSeed: number =
  process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : randomInt(2 ** 31);

/** Asserts `property` with the fixed seed, then with {@link freshSeed} (named in the error when that run fails). */
export function checkProperty<Ts>(property: fc.IProperty<Ts>, options: PropertyRunOptions): void {
  const numRuns = options.numRuns ?? 100;
  fc.assert(property, { seed: options.seed, numRuns });
  if (process.env.FC_FRESH === '0') return;
  try {
    fc.assert(property, { seed: freshSeed, numRuns });
  } catch (error) {
    const message = `property failed with fresh seed ${freshSeed} (replay: FC_SEED=${freshSeed})`;
    console.error(message);
    throw new Error(`${message}\n${(error as Error).message}`, { cause: error });
  }
}

/** Async variant of {@link checkProperty}. */
export async function checkAsyncProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  options: PropertyRunOptions,
): Promise<void> {
  const numRuns = options.numRuns ?? 100;
  await fc.assert(property, { seed: options.seed, numRuns });
  if (process.env.FC_FRESH === '0') return;
  try {
    await fc.assert(property, { seed: freshSeed, numRuns });
  } catch (error) {
    const message = `property failed with fresh seed ${freshSeed} (replay: FC_SEED=${freshSeed})`;
    console.error(message);
    throw new Error(`${message}\n${(error as Error).message}`, { cause: error });
  }
}
