/**
 * The built-in policies, registered by name when this module loads.
 */
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import { multiprobe } from './multiprobe.js';
import { p2cPeakEwma } from './p2c-peak-ewma.js';
import { p2cRobustEwma } from './p2c-robust-ewma.js';
import type { PolicyDefinition } from './picker.js';
import { random } from './random.js';
import { getPolicyDefinition, registerPolicy } from './registry.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import { weightedRoundRobin } from './weighted-round-robin.js';

/** Every built-in policy definition. */
export const builtinPolicies: readonly PolicyDefinition<unknown>[] = [
  roundRobin,
  weightedRoundRobin,
  random,
  leastRequest,
  p2cPeakEwma,
  p2cRobustEwma,
  ringHash,
  maglev,
  multiprobe,
] as unknown as readonly PolicyDefinition<unknown>[];

for (const definition of builtinPolicies) {
  if (getPolicyDefinition(definition.name) === undefined) registerPolicy(definition);
}
