import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/balancer/outcome.js';
import { StatusClassifier } from '../../src/grpc/status.js';
import { isGatewayFailure } from '../../src/health/outlier-record.js';
import {
  DEFAULT_GRPC_FAILURE_CODES,
  defaultFailureStatus,
  failureOfGrpcCode,
  failureOfHttpStatus,
  GRPC_STATUS_CODES,
  grpcCodeName,
  grpcCodeOf,
  isGatewayStatus,
  isGrpcCode,
  isHttpStatus,
} from '../../src/semantics/index.js';
import { failureOfStatus } from '../../src/undici/classify.js';

describe('one status space for HTTP and gRPC', () => {
  it('our gRPC code table matches grpc-js, name for name', () => {
    for (const [name, code] of Object.entries(GRPC_STATUS_CODES)) {
      expect(GrpcStatus[name as keyof typeof GrpcStatus]).toBe(code);
      expect(grpcCodeName(code)).toBe(name);
      expect(grpcCodeOf(name)).toBe(code);
    }
    expect(grpcCodeOf('NOT_A_CODE')).toBeUndefined();
    expect(grpcCodeOf('toString')).toBeUndefined();
    expect(grpcCodeName(404)).toBe('404');
  });

  it('gRPC codes and HTTP statuses never overlap', () => {
    for (let s = -1; s <= 700; s++) expect(isGrpcCode(s) && isHttpStatus(s)).toBe(false);
    expect([0, 16, 17, 1.5].map(isGrpcCode)).toEqual([true, true, false, false]);
    expect([99, 100, 599, 600].map(isHttpStatus)).toEqual([false, true, true, false]);
  });

  it('gateway statuses: HTTP 502/503/504 and the gRPC codes Envoy maps onto them', () => {
    const gateway = [];
    for (let s = 0; s <= 599; s++) if (isGatewayStatus(s)) gateway.push(s);
    expect(gateway).toEqual([
      GRPC_STATUS_CODES.DEADLINE_EXCEEDED,
      GRPC_STATUS_CODES.UNAVAILABLE,
      502,
      503,
      504,
    ]);
    expect(isGatewayStatus(undefined)).toBe(false);
  });

  it('gRPC failure kinds: DEADLINE_EXCEEDED is a timeout, RESOURCE_EXHAUSTED overload, the rest a status', () => {
    expect(failureOfGrpcCode(GRPC_STATUS_CODES.DEADLINE_EXCEEDED)).toBe('timeout');
    expect(failureOfGrpcCode(GRPC_STATUS_CODES.RESOURCE_EXHAUSTED)).toBe('overloaded');
    expect(failureOfGrpcCode(GRPC_STATUS_CODES.UNAVAILABLE)).toBe('status');
    expect(failureOfGrpcCode(GRPC_STATUS_CODES.UNKNOWN)).toBe('other');
    expect(DEFAULT_GRPC_FAILURE_CODES).toEqual([14, 4, 8, 13]);
  });

  it('HTTP failure kinds: 429 and 503 with Retry-After are overload', () => {
    expect([200, 404, 429, 500, 599].map(defaultFailureStatus)).toEqual([false, false, true, true, true]);
    expect(failureOfHttpStatus(429, undefined)).toBe('overloaded');
    expect(failureOfHttpStatus(503, '5')).toBe('overloaded');
    expect(failureOfHttpStatus(503, undefined)).toBe('status');
    expect(failureOfStatus).toBe(failureOfHttpStatus);
  });

  it('both adapters classify into outcomes that outlier detection reads the same way', () => {
    const grpc = new StatusClassifier();
    const http = (status: number): Outcome & { ok: false } => ({
      ok: false,
      failure: failureOfHttpStatus(status, undefined),
      status,
    });
    // gRPC UNAVAILABLE ≡ HTTP 503; DEADLINE_EXCEEDED ≡ 504; INTERNAL ≡ 500 (not a gateway failure)
    const unavailable = grpc.outcome(GRPC_STATUS_CODES.UNAVAILABLE) as Outcome & { ok: false };
    const internal = grpc.outcome(GRPC_STATUS_CODES.INTERNAL) as Outcome & { ok: false };
    expect(isGatewayFailure(unavailable)).toBe(isGatewayFailure(http(503)));
    expect(isGatewayFailure(unavailable)).toBe(true);
    expect(isGatewayFailure(internal)).toBe(isGatewayFailure(http(500)));
    expect(isGatewayFailure(internal)).toBe(false);
  });
});
