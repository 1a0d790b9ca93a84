/** Moved to balancer/policy/picker.ts (issue 15); this re-export is a compatibility path, to be removed later. */
export * from '../balancer/policy/picker.js';
