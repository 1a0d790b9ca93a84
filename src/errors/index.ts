export { ConfigError, type ConfigErrorDetails, isConfigError } from './config-error.js';
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
export { brandFor, hasErrorCode, SwitchyardError } from './switchyard-error.js';
