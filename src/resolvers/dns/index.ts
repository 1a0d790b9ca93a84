/** Resolvers: DNS (A/AAAA/SRV) and the shared refresh limiter (docs/resolvers.md). */

export type { RefreshLimiterOptions } from '../refresh-limiter.js';
export { RefreshLimiter } from '../refresh-limiter.js';
export type {
  AddressRecord,
  DnsAnswerOptions,
  DnsEndpoint,
  DnsEndpointSet,
  FamilyRecords,
  SrvRecord,
} from './answer.js';
export {
  addressAnswerToEndpoints,
  checkSrvRecords,
  SRV_ZERO_WEIGHT,
  srvAnswerToEndpoints,
} from './answer.js';
export { DnsResolver } from './dns-resolver.js';
export type {
  DnsBackoffOptions,
  DnsFamily,
  DnsFamilyPreference,
  DnsNotFoundPolicy,
  DnsResolverOptions,
} from './options.js';
export { defaultDnsResolverOptions } from './options.js';
