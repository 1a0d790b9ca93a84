export { ConfigError, type ConfigErrorDetails, isConfigError } from './config-error.js';
export { brandFor, hasErrorCode, SwitchyardError } from './switchyard-error.js';
