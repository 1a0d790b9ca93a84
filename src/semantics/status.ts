/**
 * One failure model for every adapter: HTTP statuses and gRPC status codes map into the {@link FailureKind}s the
 * balancer is fed (balancer/outcome.ts), and the same rules decide what health modules and retry policies read from
 * an outcome's `status`.
 *
 * One number space carries both protocols: gRPC codes are 0–16 and HTTP statuses 100–599, so the ranges never
 * overlap and `Outcome.status` needs no protocol tag. {@link isGrpcCode} and {@link isHttpStatus} are the one place
 * that says so; nothing else compares a status against 100.
 */
import type { FailureKind } from '../balancer/outcome.js';

/** gRPC status codes by name (grpc/doc/statuscodes.md). Kept here so the core needs no `@grpc/grpc-js` import. */
export const GRPC_STATUS_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status code name. */
export type GrpcCodeName = keyof typeof GRPC_STATUS_CODES;

/** Highest gRPC status code (`UNAUTHENTICATED` = 16). */
export const MAX_GRPC_CODE = 16;

/** True when `status` is a gRPC status code (an integer 0–16) rather than an HTTP status. */
export function isGrpcCode(status: number): boolean {
  return Number.isInteger(status) && status >= 0 && status <= MAX_GRPC_CODE;
}

/** True when `status` is an HTTP status (an integer 100–599). */
export function isHttpStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599;
}

/** The name of a gRPC status code (`14` → `UNAVAILABLE`); the number as text for anything else. */
export function grpcCodeName(code: number): string {
  // Looked up when asked (messages, serialisation), not at load: bundles that never name a code leave the table out.
  return isGrpcCode(code) ? Object.keys(GRPC_STATUS_CODES)[code]! : String(code);
}

/** The code of a gRPC status name (`"UNAVAILABLE"` → 14), or `undefined` for an unknown name. */
export function grpcCodeOf(name: string): number | undefined {
  return Object.hasOwn(GRPC_STATUS_CODES, name) ? GRPC_STATUS_CODES[name as GrpcCodeName] : undefined;
}

/**
 * gRPC codes that count as endpoint failures unless configured otherwise: what gRPC itself treats as transport- or
 * server-health signals (gRFC A6's retryable `UNAVAILABLE`, plus `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`,
 * `INTERNAL`). Every other code is the application answering and counts as a success.
 */
export const DEFAULT_GRPC_FAILURE_CODES: readonly number[] = /* @__PURE__ */ Object.freeze([
  GRPC_STATUS_CODES.UNAVAILABLE,
  GRPC_STATUS_CODES.DEADLINE_EXCEEDED,
  GRPC_STATUS_CODES.RESOURCE_EXHAUSTED,
  GRPC_STATUS_CODES.INTERNAL,
]);

/** The {@link FailureKind} of a gRPC code that the configuration counts as a failure. */
export function failureOfGrpcCode(code: number): FailureKind {
  switch (code) {
    case GRPC_STATUS_CODES.DEADLINE_EXCEEDED:
      return 'timeout';
    case GRPC_STATUS_CODES.RESOURCE_EXHAUSTED:
      return 'overloaded';
    case GRPC_STATUS_CODES.CANCELLED:
    case GRPC_STATUS_CODES.UNKNOWN:
      return 'other';
    default:
      // UNAVAILABLE, INTERNAL, …: the server (or the connection to it) answered with a failure status.
      return 'status';
  }
}

/** Which HTTP response statuses count as failures of the endpoint. */
export type FailureStatusPredicate = (status: number) => boolean;

/**
 * Default HTTP failure statuses: 5xx (Envoy's outlier detection counts 5xx as gateway failures) and 429 (the endpoint
 * is shedding load; fed as `overloaded`, which health modules may treat differently from an error).
 */
export const defaultFailureStatus: FailureStatusPredicate = (status) => status >= 500 || status === 429;

/**
 * The failure kind of a failing HTTP status: `overloaded` for 429, and for 503 with Retry-After (the endpoint asks us
 * to back off, as Envoy's `retriable-status-codes` + Retry-After handling does); `status` otherwise.
 */
export function failureOfHttpStatus(status: number, retryAfter: string | undefined): FailureKind {
  return status === 429 || (status === 503 && retryAfter !== undefined) ? 'overloaded' : 'status';
}

/**
 * Gateway statuses in Envoy's sense: HTTP 502, 503, 504, and the gRPC codes Envoy maps onto them
 * (`UNAVAILABLE` → 503, `DEADLINE_EXCEEDED` → 504).
 */
export function isGatewayStatus(status: number | undefined): boolean {
  return (
    status === 502 ||
    status === 503 ||
    status === 504 ||
    status === GRPC_STATUS_CODES.UNAVAILABLE ||
    status === GRPC_STATUS_CODES.DEADLINE_EXCEEDED
  );
}
