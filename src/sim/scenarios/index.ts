/**
 * The built-in scenarios, by name.
 */
import { oneSlowBackend } from './one-slow-backend.js';
import type { Scenario } from './scenario.js';
import { unluckyServer } from './unlucky-server.js';

export type { Scenario } from './scenario.js';

/** Every built-in scenario, in the order the docs present them. */
export const scenarios: readonly Scenario[] = [unluckyServer, oneSlowBackend];

/** Looks a scenario up by name. */
export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}
