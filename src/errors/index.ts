export { ConfigError, type ConfigErrorDetails, isConfigError } from './config-error.js';
// resilience errors
export {
  DeadlineExceededError,
  type DeadlineExceededErrorDetails,
  isDeadlineExceededError,
} from './deadline-exceeded-error.js';
// DNS resolver errors.
export {
  DnsAnswerError,
  type DnsAnswerErrorDetails,
  isDnsAnswerError,
} from './dns-answer-error.js';
export {
  type DnsFailureKind,
  DnsResolutionError,
  type DnsResolutionErrorDetails,
  isDnsResolutionError,
} from './dns-resolution-error.js';
export { isNoEndpointError, NoEndpointError, type NoEndpointErrorDetails } from './no-endpoint-error.js';
export {
  isOverflowError,
  OverflowError,
  type OverflowErrorDetails,
  type OverflowLimit,
} from './overflow-error.js';
export { brandFor, hasErrorCode, SwitchyardError } from './switchyard-error.js';
export { isThrottledError, ThrottledError, type ThrottledErrorDetails } from './throttled-error.js';
// xDS resolver errors (the resolver itself is at `switchyard-lb/xds`; these load neither grpc-js nor protobufjs).
export {
  isXdsResourceError,
  XdsResourceError,
  type XdsResourceErrorDetails,
  type XdsResourceProblem,
} from './xds-resource-error.js';
export { isXdsStreamError, XdsStreamError, type XdsStreamErrorDetails } from './xds-stream-error.js';
