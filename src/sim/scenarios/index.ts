/**
 * The built-in scenarios, by name.
 */
import { busyConcurrentFleet } from './busy-concurrent-fleet.js';
import { cascadingFailure } from './cascading-failure.js';
import { hotKeys } from './hot-keys.js';
import { noisyFleet, slowdownUnderNoise } from './noisy-fleet.js';
import { oneSlowBackend } from './one-slow-backend.js';
import { retryStorm } from './retry-storm.js';
import type { Scenario } from './scenario.js';
import { thunderingHerd } from './thundering-herd.js';
import { unluckyServer } from './unlucky-server.js';

export type { Scenario } from './scenario.js';

/** Every built-in scenario, in the order the docs present them. */
export const scenarios: readonly Scenario[] = [
  unluckyServer,
  oneSlowBackend,
  noisyFleet,
  slowdownUnderNoise,
  busyConcurrentFleet,
  thunderingHerd,
  cascadingFailure,
  retryStorm,
  hotKeys,
];

/** Looks a scenario up by name. */
export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}
