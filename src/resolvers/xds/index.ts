/**
 * `switchyard-lb/xds`: the xDS-lite resolver. A separate entry point because it loads `@grpc/grpc-js` and
 * `protobufjs` (optional peer dependencies), which `import 'switchyard-lb'` must not require.
 *
 * @module switchyard-lb/xds
 */

export type { XdsResourceErrorDetails, XdsResourceProblem } from '../../errors/xds-resource-error.js';
export { isXdsResourceError, XdsResourceError } from '../../errors/xds-resource-error.js';
export type { XdsStreamErrorDetails } from '../../errors/xds-stream-error.js';
export { isXdsStreamError, XdsStreamError } from '../../errors/xds-stream-error.js';
export type { AdsBackoffOptions } from './ads-client.js';
export { defaultAdsBackoff } from './ads-client.js';
export type {
  XdsBootstrap,
  XdsBootstrapInput,
  XdsChannelCredentials,
  XdsNode,
  XdsNodeLocality,
} from './bootstrap.js';
export { loadXdsBootstrap, parseXdsBootstrap } from './bootstrap.js';
export type { XdsCluster } from './cds.js';
export { decodeCluster } from './cds.js';
export type { XdsAssignment } from './eds.js';
export { decodeAssignment } from './eds.js';
export { ADS_METHOD, TYPE_URL as XDS_TYPE_URL } from './proto/codec.js';
export type { XdsResolverOptions } from './xds-resolver.js';
export { defaultXdsResolverOptions, XdsResolver } from './xds-resolver.js';
