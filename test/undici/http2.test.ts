/**
 * HTTP/2 upstreams over TLS (`pool: { allowH2: true }`), with real node:http2 servers (defect 10): per-request
 * balancing over multiplexed connections, and stream resets retried — REFUSED_STREAM for every request (RFC 9113
 * §8.7: the server did not process it), INTERNAL_ERROR, CANCEL and destroyed streams for idempotent requests only.
 */
import { constants, createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/random.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { failureOfError } from '../../src/undici/classify.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { makeCertificate } from '../helpers/certificates.js';

const tls = makeCertificate();

interface H2Backend {
  readonly address: string;
  readonly server: Http2SecureServer;
  /** Streams answered with 200. */
  answered: number;
  /** TLS sessions opened by clients. */
  sessions: number;
}

/** Resets a stream as `/refuse`, `/internal`, `/cancel` or `/destroy` ask — when `misbehaving` — else answers 200. */
async function startH2(name: string, misbehaving: boolean): Promise<H2Backend> {
  const server = createSecureServer({ key: tls!.key, cert: tls!.cert });
  const backend = { address: '', server, answered: 0, sessions: 0 };
  server.on('session', () => backend.sessions++);
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    const path = headers[':path'];
    stream.on('error', () => {}); // the server side of a reset stream errors too: expected here
    if (misbehaving && path === '/refuse') return stream.close(constants.NGHTTP2_REFUSED_STREAM);
    if (misbehaving && path === '/internal') return stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    if (misbehaving && path === '/cancel') return stream.close(constants.NGHTTP2_CANCEL);
    if (misbehaving && path === '/destroy') return stream.destroy();
    stream.on('data', () => {});
    stream.on('end', () => {
      backend.answered++;
      stream.respond({ ':status': 200 });
      stream.end(name);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return backend;
}

let bad: H2Backend;
let good: H2Backend[];

beforeAll(async () => {
  if (tls === undefined) return;
  bad = await startH2('bad', true);
  good = [await startH2('good0', false), await startH2('good1', false)];
});

afterAll(async () => {
  for (const b of tls === undefined ? [] : [bad, ...good]) await new Promise((r) => b.server.close(r));
});

function h2Dispatcher(
  backends: readonly H2Backend[],
  retry: boolean,
  pool: undici.Pool.Options = {},
): BalancedDispatcher {
  return new BalancedDispatcher({
    balancer: {
      endpoints: backends.map((b) => b.address),
      policy: 'round_robin',
      random: seededRandom(2),
      outlierDetection: false,
    },
    protocol: 'https:',
    pool: { allowH2: true, connect: { ca: tls!.cert }, ...pool },
    ...(retry ? { retry: new RetryPolicy({ budget: false }, { random: seededRandom(4) }) } : {}),
  });
}

async function send(d: undici.Dispatcher, path: string, method = 'GET'): Promise<string | Error> {
  try {
    const res = await undici.request(`https://orders.internal${path}`, {
      dispatcher: d,
      method: method as 'GET',
      ...(method === 'POST' ? { body: 'order' } : {}),
    });
    return await res.body.text();
  } catch (error) {
    return error as Error;
  }
}

describe('stream errors are classified as resets', () => {
  it('maps HTTP/2 stream errors and undici’s HTTP/2 informational errors to `reset`', () => {
    const h2 = Object.assign(new Error('Stream closed with error code NGHTTP2_INTERNAL_ERROR'), {
      code: 'ERR_HTTP2_STREAM_ERROR',
    });
    expect(failureOfError(h2)).toBe('reset');
    expect(
      failureOfError(
        new undici.errors.InformationalError('HTTP/2: stream closed before the response was complete'),
      ),
    ).toBe('reset');
  });
});

describe.skipIf(tls === undefined)(
  'HTTP/2 upstreams (skipped without the openssl CLI, unless CI is set)',
  () => {
    it('balances requests per request over one multiplexed connection per endpoint', async () => {
      // One connection per endpoint's Pool: every stream of that endpoint shares it.
      const d = h2Dispatcher(good, false, { connections: 1 });
      const before = good.map((b) => [b.answered, b.sessions]);
      try {
        const bodies = await Promise.all(Array.from({ length: 40 }, () => send(d, '/')));
        expect(bodies.filter((b) => b instanceof Error)).toEqual([]);
        expect(good.map((b, i) => b.answered - before[i]![0]!)).toEqual([20, 20]);
        expect(good.map((b, i) => b.sessions - before[i]![1]!)).toEqual([1, 1]);
      } finally {
        await d.close();
      }
    });

    for (const path of ['/refuse', '/internal', '/cancel', '/destroy']) {
      it(`retries idempotent requests whose stream was reset (${path})`, async () => {
        const d = h2Dispatcher([bad, ...good], true);
        try {
          const results = await Promise.all(Array.from({ length: 30 }, () => send(d, path)));
          expect(results.filter((r) => r instanceof Error)).toEqual([]);
          expect(
            d.balancer.stats().endpoints.find((e) => e.address === bad.address)!.failures,
          ).toBeGreaterThan(0);
        } finally {
          await d.close();
        }
      });
    }

    it('retries a non-idempotent request refused with REFUSED_STREAM (never processed)', async () => {
      const d = h2Dispatcher([bad, ...good], true);
      try {
        const results = await Promise.all(Array.from({ length: 12 }, () => send(d, '/refuse', 'POST')));
        expect(results.filter((r) => r instanceof Error)).toEqual([]);
      } finally {
        await d.close();
      }
    });

    it('does not retry a non-idempotent request whose stream was reset with INTERNAL_ERROR (maybe processed)', async () => {
      const d = h2Dispatcher([bad, ...good], true);
      try {
        const results = await Promise.all(Array.from({ length: 12 }, () => send(d, '/internal', 'POST')));
        // Round robin sends a third of first attempts to the bad endpoint: those fail, the rest succeed.
        expect(results.filter((r) => r instanceof Error)).toHaveLength(4);
      } finally {
        await d.close();
      }
    });
  },
);
