/** Moved to balancer/routing/locality.ts (issue 15); this re-export is a compatibility path, to be removed later. */
export * from '../balancer/routing/locality.js';
