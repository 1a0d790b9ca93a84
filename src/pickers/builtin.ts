/**
 * The built-in policies, as a plain value. The policy registry is seeded from this list when it is created, so
 * the built-ins never depend on a module being imported for its side effects: a bundler that honours
 * `"sideEffects": false` keeps them whenever the registry (and so the Balancer) is used.
 */

import type { PolicyDefinition } from '../balancer/policy/picker.js';
import { peakEwmaEstimator } from '../load/peak-ewma.js';
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import { multiprobe } from './multiprobe.js';
import { p2cPeakEwma } from './p2c-peak-ewma.js';
import { p2cRobustEwma } from './p2c-robust-ewma.js';
import { random } from './random.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import { weightedRoundRobin } from './weighted-round-robin.js';

/** Every built-in policy definition; each is registered under its `name` before any user registration. */
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

/**
 * The load metric a Balancer keeps for a policy that brings no estimator of its own (`policy.latency.estimator`):
 * classic Peak-EWMA (Finagle/Linkerd) with the policy's decay. It feeds stats and the failure-raise rule.
 */
export const defaultLatencyEstimator = peakEwmaEstimator;
