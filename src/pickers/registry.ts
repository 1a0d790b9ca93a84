/** Moved to balancer/policy/registry.ts (issue 15); this re-export is a compatibility path, to be removed later. */
export * from '../balancer/policy/registry.js';
