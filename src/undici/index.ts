/**
 * `switchyard-lb/undici`: client-side load balancing for undici and fetch.
 *
 * - {@link BalancedDispatcher}: one logical service over its endpoints, usable with `undici.request`, `fetch`,
 *   Node's built-in fetch and as the base of `compose()` interceptors.
 * - {@link BalancedAgent}: many services in one dispatcher, everything else to a plain Agent (`setGlobalDispatcher`).
 * - {@link createFetch}: a fetch function with balancing built in.
 *
 * @module switchyard-lb/undici
 */
export { BalancedAgent, type BalancedAgentOptions } from './agent.js';
export {
  defaultFailureStatus,
  type FailureStatusPredicate,
  failureOfError,
  failureOfStatus,
} from './classify.js';
export { BalancedDispatcher } from './dispatcher.js';
export {
  type EndpointErrorFields,
  NoEndpointAvailableError,
  type NoEndpointReason,
  RequestTimeoutError,
} from './errors.js';
export { type BalancedFetch, type CreateFetchOptions, createFetch } from './fetch.js';
export {
  type BalancedDispatcherOptions,
  type HashKeyFunction,
  type HashKeySource,
  isIdempotentRequest,
} from './options.js';
export { isReplayableBody } from './retried-request.js';
