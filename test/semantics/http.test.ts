import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter as fromBackoff } from '../../src/resilience/backoff.js';
import {
  isIdempotent,
  isReplayableBody,
  parseGrpcPushback,
  parseRetryAfter,
} from '../../src/semantics/index.js';
import { isIdempotentRequest } from '../../src/undici/options.js';

describe('HTTP request semantics', () => {
  it('idempotency: the explicit flag wins, else the RFC 9110 method set (case-sensitive)', () => {
    expect(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'].every((m) => isIdempotent(m))).toBe(true);
    expect(['POST', 'PATCH', 'CONNECT', 'get'].some((m) => isIdempotent(m))).toBe(false);
    expect(isIdempotent('POST', true)).toBe(true);
    expect(isIdempotent('GET', false)).toBe(false);
    expect(isIdempotent('GET', 'yes')).toBe(true); // a non-boolean flag is ignored
    // the undici adapter reads the same rule from its dispatch options
    expect(isIdempotentRequest({ method: 'POST', path: '/', idempotent: true } as never)).toBe(true);
    expect(isIdempotentRequest({ method: 'PATCH', path: '/' } as never)).toBe(false);
  });

  it('replayable bodies: none, strings and bytes; never streams or iterables', () => {
    expect(
      [undefined, null, 'x', new Uint8Array(1), Buffer.from('x'), new ArrayBuffer(1)].map(isReplayableBody),
    ).toEqual([true, true, true, true, true, true]);
    expect(isReplayableBody(Readable.from(['x']))).toBe(false);
    expect(isReplayableBody((function* () {})())).toBe(false);
  });

  it('Retry-After: seconds or an HTTP-date; the old resilience export is the same function', () => {
    expect(fromBackoff).toBe(parseRetryAfter);
    expect(parseRetryAfter('2')).toBe(2000);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'])).toBe(3000);
    expect([undefined, '', 'soon', '-1', 'May 5'].map((v) => parseRetryAfter(v))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('grpc-retry-pushback-ms: a delay in ms, or stop for a negative or malformed value (gRFC A6)', () => {
    expect(parseGrpcPushback('250')).toBe(250);
    expect(parseGrpcPushback(['0'])).toBe(0);
    expect(parseGrpcPushback('-1')).toBe('stop');
    expect(parseGrpcPushback('abc')).toBe('stop');
    expect(parseGrpcPushback(undefined)).toBeUndefined();
  });
});
