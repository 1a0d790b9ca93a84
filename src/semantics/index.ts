/**
 * Request semantics shared by every adapter: how protocol facts (HTTP statuses, gRPC codes, methods, bodies,
 * server-requested delays) become the outcomes and retry inputs of the core. Affinity-key extraction lives in
 * affinity/ for the same reason: one rule for every adapter.
 */
export { isIdempotent, isReplayableBody, parseGrpcPushback, parseRetryAfter } from './http.js';
export {
  DEFAULT_GRPC_FAILURE_CODES,
  defaultFailureStatus,
  type FailureStatusPredicate,
  failureOfGrpcCode,
  failureOfHttpStatus,
  GRPC_STATUS_CODES,
  type GrpcCodeName,
  grpcCodeName,
  grpcCodeOf,
  isGatewayStatus,
  isGrpcCode,
  isHttpStatus,
  MAX_GRPC_CODE,
} from './status.js';
