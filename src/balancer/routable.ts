/** Moved to balancer/routing/routable.ts (issue 15); this re-export is a compatibility path, to be removed later. */
export * from './routing/routable.js';
