import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { defaultFailureStatus, failureOfError, failureOfStatus } from '../../src/undici/classify.js';
import { getHeader, readRetryAfter, withHostHeader } from '../../src/undici/headers.js';
import { isIdempotentRequest } from '../../src/undici/options.js';
import { isReplayableBody } from '../../src/undici/retried-request.js';

const { errors } = undici;

describe('failureOfError', () => {
  it('maps undici and Node errors to failure kinds', () => {
    const sys = (code: string) => Object.assign(new Error(code), { code });
    expect(failureOfError(sys('ECONNREFUSED'))).toBe('connect');
    expect(failureOfError(sys('ENOTFOUND'))).toBe('connect');
    expect(failureOfError(sys('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('connect');
    expect(failureOfError(new errors.ConnectTimeoutError())).toBe('connect');
    expect(failureOfError(new errors.HeadersTimeoutError())).toBe('timeout');
    expect(failureOfError(new errors.BodyTimeoutError())).toBe('timeout');
    expect(failureOfError(new errors.SocketError('closed'))).toBe('reset');
    expect(failureOfError(sys('ECONNRESET'))).toBe('reset');
    expect(failureOfError(new errors.RequestAbortedError())).toBe('cancelled');
    expect(failureOfError(new DOMException('aborted', 'AbortError'))).toBe('cancelled');
    expect(failureOfError(new Error('what'))).toBe('other');
    expect(failureOfError(null)).toBe('other');
  });
});

describe('statuses', () => {
  it('counts 5xx and 429 as failures by default; 429 and 503 with Retry-After as overloaded', () => {
    expect([200, 404, 429, 500, 503].map(defaultFailureStatus)).toEqual([false, false, true, true, true]);
    expect(failureOfStatus(429, undefined)).toBe('overloaded');
    expect(failureOfStatus(503, '5')).toBe('overloaded');
    expect(failureOfStatus(503, undefined)).toBe('status');
    expect(failureOfStatus(500, '5')).toBe('status');
  });
});

describe('headers in every undici shape', () => {
  it('reads a header case-insensitively from objects, flat arrays and iterables', () => {
    expect(getHeader({ Host: 'a' }, 'host')).toBe('a');
    expect(getHeader(['X-A', '1', 'host', 'b'], 'host')).toBe('b');
    expect(getHeader(new Map([['HOST', 'c']]), 'host')).toBe('c');
    expect(getHeader({ host: ['d', 'e'] }, 'host')).toBe('d');
    expect(getHeader(null, 'host')).toBeUndefined();
  });

  it('adds host only when absent, never mutating the input', () => {
    const obj = { accept: '*/*' };
    expect(withHostHeader(obj, 'svc')).toEqual({ accept: '*/*', host: 'svc' });
    expect(obj).toEqual({ accept: '*/*' });
    expect(withHostHeader(['a', '1'], 'svc')).toEqual(['a', '1', 'host', 'svc']);
    expect(withHostHeader(new Map([['a', ['1', '2']]]), 'svc')).toEqual(['a', '1', 'a', '2', 'host', 'svc']);
    const explicit = { HOST: 'mine' };
    expect(withHostHeader(explicit, 'svc')).toBe(explicit);
    expect(withHostHeader(undefined, 'svc')).toEqual({ host: 'svc' });
  });

  it('reads Retry-After from parsed and raw response headers', () => {
    expect(readRetryAfter({ 'retry-after': '3' })).toBe('3');
    expect(readRetryAfter([Buffer.from('Retry-After'), Buffer.from('7')])).toBe('7');
    expect(readRetryAfter({})).toBeUndefined();
  });
});

describe('retry eligibility inputs', () => {
  it('idempotency from the request flag, else the method', () => {
    const opts = (method: string, idempotent?: boolean) => ({
      path: '/',
      method,
      ...(idempotent === undefined ? {} : { idempotent }),
    });
    expect(
      ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'].every((m) => isIdempotentRequest(opts(m))),
    ).toBe(true);
    expect(isIdempotentRequest(opts('POST'))).toBe(false);
    expect(isIdempotentRequest(opts('POST', true))).toBe(true);
    expect(isIdempotentRequest(opts('GET', false))).toBe(false);
  });

  it('replayable bodies: none, strings and bytes; not streams or iterables', async () => {
    const { Readable } = await import('node:stream');
    expect(
      [undefined, null, 'x', Buffer.from('x'), new Uint8Array(1), new ArrayBuffer(1)].every(isReplayableBody),
    ).toBe(true);
    expect(isReplayableBody(Readable.from(['x']))).toBe(false);
    expect(
      isReplayableBody(
        (async function* () {
          yield 'x';
        })(),
      ),
    ).toBe(false);
  });
});
