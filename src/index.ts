/**
 * switchyard — client-side load balancing for Node.js.
 *
 * The core: {@link Balancer}, the policy registry, resolvers, and the building blocks the adapters
 * (`switchyard-lb/undici`, `switchyard-lb/grpc`) use.
 *
 * @module switchyard-lb
 */

export * from './affinity/index.js';
export type {
  BalancerEvents,
  BalancerOptions,
  EndpointHandle,
  PickFailure,
  UpdateEvent,
} from './balancer/balancer.js';
export { Balancer, defaultBalancerOptions } from './balancer/balancer.js';
export { EndpointState } from './balancer/endpoint-state.js';
export type { LatencyEstimator } from './balancer/estimator.js';
export type { BalancerExtension, ExtensionContext } from './balancer/extension.js';
export type { HealthExtensions, HealthMechanism, HealthPeers } from './balancer/health/mechanism.js';
export { healthMechanisms, registerHealthMechanism } from './balancer/health/registry.js';
export { Lease } from './balancer/lease.js';
export type { FailureKind, Outcome } from './balancer/outcome.js';
export { CANCELLED, isLocalFailure, LOCAL_FAILURES, SUCCESS } from './balancer/outcome.js';
export { type ParsedBalancerOptions, parseBalancerOptions } from './balancer/parse-options.js';
export type {
  PickContext,
  Picker,
  Policy,
  PolicyDefinition,
  PolicyEnvironment,
  SharedLoad,
} from './balancer/policy/picker.js';
export { EMPTY_PICKER } from './balancer/policy/picker.js';
export type { ParsedPolicy, PolicyConfig } from './balancer/policy/registry.js';
export {
  getPolicyDefinition,
  parsePolicyConfig,
  registeredPolicies,
  registerPolicy,
} from './balancer/policy/registry.js';
// The resolver contract (docs/resolvers.md): implement `Resolver` to feed a Balancer from your own discovery.
export type {
  Resolver,
  ResolverClusterConfig,
  ResolverListener,
  ResolverUpdate,
} from './balancer/resolver.js';
export type { BalancerStats, EndpointCondition, EndpointStats } from './balancer/stats.js';
export type { Clock, TimerHandle } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export type { Endpoint, EndpointInput, Locality, ReportedHealth } from './endpoint.js';
export { formatAddress, parseEndpoint, parseEndpoints } from './endpoint.js';
export * from './errors/index.js';
export * from './hash/index.js';
// Areas: each keeps its public surface in its own index file.
export * from './health/index.js';
export * from './observability/index.js';
export { builtinPolicies } from './pickers/builtin.js';
export type { LeastRequestOptions } from './pickers/least-request.js';
export { defaultLeastRequestOptions } from './pickers/least-request.js';
export type { MaglevOptions } from './pickers/maglev.js';
export { defaultMaglevOptions, MAX_MAGLEV_TABLE_SIZE } from './pickers/maglev.js';
export type { MultiprobeOptions } from './pickers/multiprobe.js';
export { defaultMultiprobeOptions } from './pickers/multiprobe.js';
export type { P2cPeakEwmaOptions } from './pickers/p2c-peak-ewma.js';
export { defaultP2cPeakEwmaOptions } from './pickers/p2c-peak-ewma.js';
export type { P2cRobustEwmaOptions } from './pickers/p2c-robust-ewma.js';
export { defaultP2cRobustEwmaOptions } from './pickers/p2c-robust-ewma.js';
export type { RingHashOptions } from './pickers/ring-hash.js';
export { defaultRingHashOptions, MAX_RING_SIZE } from './pickers/ring-hash.js';
export type { RandomSource } from './random.js';
export { defaultRandom, seededRandom } from './random.js';
// resilience (issue 5): retries, budgets, backoff, hedging, throttling, circuit breaking, the executor
export * from './resilience/index.js';
export * from './resolvers/dns/index.js';
export { StaticResolver } from './resolvers/static.js';
// request semantics shared by every adapter (GRPC_STATUS_CODES and parseRetryAfter come through resilience/)
export {
  DEFAULT_GRPC_FAILURE_CODES,
  defaultFailureStatus,
  type FailureStatusPredicate,
  failureOfGrpcCode,
  failureOfHttpStatus,
  grpcCodeName,
  grpcCodeOf,
  isGatewayStatus,
  isGrpcCode,
  isHttpStatus,
  isIdempotent,
  isReplayableBody,
  MAX_GRPC_CODE,
  parseGrpcPushback,
} from './semantics/index.js';
export * from './subsetting/index.js';
