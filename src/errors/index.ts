export { ConfigError, type ConfigErrorDetails, isConfigError } from './config-error.js';
// resilience errors
export {
  DeadlineExceededError,
  type DeadlineExceededErrorDetails,
  isDeadlineExceededError,
} from './deadline-exceeded-error.js';
export { isNoEndpointError, NoEndpointError, type NoEndpointErrorDetails } from './no-endpoint-error.js';
export {
  isOverflowError,
  OverflowError,
  type OverflowErrorDetails,
  type OverflowLimit,
} from './overflow-error.js';
export { brandFor, hasErrorCode, SwitchyardError } from './switchyard-error.js';
export { isThrottledError, ThrottledError, type ThrottledErrorDetails } from './throttled-error.js';
