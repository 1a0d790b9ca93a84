/**
 * switchyard — client-side load balancing for Node.js.
 *
 * The core: {@link Balancer}, the policy registry, resolvers, and the building blocks the adapters
 * (`switchyard/undici`, `switchyard/grpc`) use.
 */

export type { BalancerEvents, BalancerOptions, PickFailure, UpdateEvent } from './balancer/balancer.js';
export { Balancer, defaultBalancerOptions } from './balancer/balancer.js';
export { EndpointState } from './balancer/endpoint-state.js';
export type { BalancerExtension, ExtensionContext } from './balancer/extension.js';
export { Lease } from './balancer/lease.js';
export type { FailureKind, Outcome } from './balancer/outcome.js';
export { LOCAL_FAILURES, SUCCESS } from './balancer/outcome.js';
export type { BalancerStats, EndpointCondition, EndpointStats } from './balancer/stats.js';
export type { Clock, TimerHandle } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export type { Endpoint, EndpointInput, Locality, ReportedHealth } from './endpoint.js';
export { formatAddress, parseEndpoint, parseEndpoints } from './endpoint.js';
export type {
  ConfigErrorDetails,
  DnsAnswerErrorDetails,
  DnsFailureKind,
  DnsResolutionErrorDetails,
} from './errors/index.js';
export {
  ConfigError,
  DnsAnswerError,
  DnsResolutionError,
  isConfigError,
  isDnsAnswerError,
  isDnsResolutionError,
  SwitchyardError,
} from './errors/index.js';
// --- xDS resolver (issue 8). The resolver itself lives at `switchyard/xds` (it loads @grpc/grpc-js and
// protobufjs, optional peers); its error classes are grpc-free and exported here so callers can match on them.
export type {
  XdsResourceErrorDetails,
  XdsResourceProblem,
} from './errors/xds-resource-error.js';
export { isXdsResourceError, XdsResourceError } from './errors/xds-resource-error.js';
export type { XdsStreamErrorDetails } from './errors/xds-stream-error.js';
export { isXdsStreamError, XdsStreamError } from './errors/xds-stream-error.js';
export { builtinPolicies } from './pickers/index.js';
export type { LeastRequestOptions } from './pickers/least-request.js';
export { defaultLeastRequestOptions } from './pickers/least-request.js';
export type { P2cPeakEwmaOptions } from './pickers/p2c-peak-ewma.js';
export { defaultP2cPeakEwmaOptions } from './pickers/p2c-peak-ewma.js';
export type {
  PickContext,
  Picker,
  Policy,
  PolicyDefinition,
  PolicyEnvironment,
  SharedLoad,
} from './pickers/picker.js';
export { EMPTY_PICKER } from './pickers/picker.js';
export type { ParsedPolicy, PolicyConfig } from './pickers/registry.js';
export {
  getPolicyDefinition,
  parsePolicyConfig,
  registeredPolicies,
  registerPolicy,
} from './pickers/registry.js';
export type { RandomSource } from './random.js';
export { defaultRandom, seededRandom } from './random.js';

// Resolvers: DNS (A/AAAA/SRV) and the shared refresh limiter.
export type {
  AddressRecord,
  DnsAnswerOptions,
  DnsEndpoint,
  DnsEndpointSet,
  FamilyRecords,
  SrvRecord,
} from './resolvers/dns/answer.js';
export {
  addressAnswerToEndpoints,
  checkSrvRecords,
  SRV_ZERO_WEIGHT,
  srvAnswerToEndpoints,
} from './resolvers/dns/answer.js';
export { DnsResolver } from './resolvers/dns/dns-resolver.js';
export type {
  DnsBackoffOptions,
  DnsFamily,
  DnsFamilyPreference,
  DnsNotFoundPolicy,
  DnsResolverOptions,
} from './resolvers/dns/options.js';
export { defaultDnsResolverOptions } from './resolvers/dns/options.js';
export type { RefreshLimiterOptions } from './resolvers/refresh-limiter.js';
export { RefreshLimiter } from './resolvers/refresh-limiter.js';
export type {
  Resolver,
  ResolverClusterConfig,
  ResolverListener,
  ResolverUpdate,
} from './resolvers/resolver.js';
export { StaticResolver } from './resolvers/static.js';
