/**
 * `switchyard-lb/grpc` — switchyard as a grpc-js LB policy and resolver schemes.
 *
 * ```ts
 * import { channelOptions, setStaticEndpoints } from 'switchyard-lb/grpc';
 * setStaticEndpoints('orders', ['10.0.0.1:50051', '10.0.0.2:50051']);
 * const client = new OrdersClient('switchyard-static:///orders', credentials.createInsecure(),
 *   channelOptions({ policy: 'p2c_peak_ewma', balancer: { name: 'orders' } }));
 * ```
 *
 * @module switchyard-lb/grpc
 */
export type { ChannelConfig, ChannelOptionsExtras } from './channel-options.js';
export { channelOptions } from './channel-options.js';
export type { GrpcLbOptions, SwitchyardLbJson } from './config.js';
export { defaultGrpcLbOptions, LB_POLICY_NAME, parseGrpcLbOptions, SwitchyardLbConfig } from './config.js';
export type { DnsSchemeOptions } from './dns-scheme.js';
export { DNS_SCHEME, dnsResolverFactory } from './dns-scheme.js';
export type { GrpcEndpoint } from './endpoints.js';
export { SWITCHYARD_ENDPOINT } from './endpoints.js';
export {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  GrpcProber,
  grpcHealthProber,
  HEALTH_CHECK_METHOD,
  SERVING_STATUS,
} from './health-check.js';
export { switchyardInterceptor } from './interceptor.js';
export { activeBalancers, SwitchyardLoadBalancer } from './lb-policy.js';
export type { OrcaOptions, OrcaReport } from './orca.js';
export { decodeOrcaReport, defaultOrcaOptions, ORCA_TRAILER, OrcaWeights, parseOrcaOptions } from './orca.js';
export { hashKeyOf, SwitchyardPicker } from './picker.js';
export type { ResolverFactory, ResolverTarget } from './resolver-schemes.js';
export {
  deleteStaticEndpoints,
  registerResolverScheme,
  STATIC_SCHEME,
  setStaticEndpoints,
  staticResolverFactory,
} from './resolver-schemes.js';
export { clearRetainedState, retainedEndpointCount } from './retained-state.js';
export type { GrpcResilienceOptions, GrpcRetryOptions } from './retry-config.js';
export { defaultGrpcRetryOptions } from './retry-config.js';
export { setup } from './setup.js';
export { DEFAULT_FAILURE_STATUSES, parseStatusList, StatusClassifier, statusName } from './status.js';
export type { XdsSchemeOptions } from './xds-scheme.js';
export { XDS_SCHEME, xdsResolverFactory } from './xds-scheme.js';
