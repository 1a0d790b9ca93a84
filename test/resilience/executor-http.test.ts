/**
 * The executor against real node:http servers on 127.0.0.1, driven by a plain node:http client: a 503 backend, a
 * healthy one, one that never answers, and a port that refuses connections.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { Lease } from '../../src/balancer/lease.js';
import { seededRandom } from '../../src/random.js';
import { type Classified, execute } from '../../src/resilience/executor.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';

interface Backend {
  readonly address: string;
  hits: number;
  bodies: string[];
  close(): Promise<void>;
}

async function backend(answer: 'ok' | '503' | 'hang'): Promise<Backend> {
  const sockets = new Set<Socket>();
  const state = { hits: 0, bodies: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.hits++;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      state.bodies.push(body);
      if (answer === 'hang') return;
      res.writeHead(answer === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(answer === 'ok' ? 'ok' : 'unavailable');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  });
}

/** A port nothing listens on: bind one, then close it. */
async function refusedAddress(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `127.0.0.1:${port}`;
}

/** One attempt: an HTTP request to the leased endpoint, resolving at response headers. */
function send(method: string, body: string | undefined) {
  return ({ lease, signal }: { lease: Lease; signal: AbortSignal }) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const { host, port } = lease.endpoint;
      const req = request({ host, port, method, path: '/', signal, agent: false }, resolve);
      req.on('error', reject);
      req.end(body);
    });
}

function classify(result: { value: IncomingMessage } | { error: unknown }): Classified {
  if ('value' in result) {
    const status = result.value.statusCode ?? 0;
    return status >= 500
      ? { outcome: { ok: false, failure: 'status', status }, retryable: true }
      : { outcome: { ok: true }, retryable: false };
  }
  const code = (result.error as { code?: string }).code;
  if (code === 'ECONNREFUSED')
    return { outcome: { ok: false, failure: 'connect' }, retryable: true, bodySent: false };
  if (code === 'ECONNRESET') return { outcome: { ok: false, failure: 'reset' }, retryable: true };
  return { outcome: { ok: false, failure: 'other' }, retryable: false };
}

async function readBody(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

describe('execute over real HTTP (127.0.0.1)', () => {
  let failing: Backend;
  let healthy: Backend;
  let hanging: Backend;
  let refused: string;

  beforeAll(async () => {
    [failing, healthy, hanging] = await Promise.all([backend('503'), backend('ok'), backend('hang')]);
    refused = await refusedAddress();
  });
  afterAll(async () => {
    await Promise.all([failing.close(), healthy.close(), hanging.close()]);
  });

  it('retries 503s on the healthy backend; every request succeeds and every lease comes back', async () => {
    const balancer = new Balancer({
      endpoints: [failing.address, healthy.address],
      policy: 'round_robin',
      name: 'http',
    });
    const retry = new RetryPolicy({}, { random: seededRandom(1) });
    const failingBefore = failing.hits;
    for (let i = 0; i < 20; i++) {
      const { value, lease, attempts } = await execute({
        balancer,
        attempt: send('GET', undefined),
        classify,
        discard: (res) => res.resume(),
        retry,
        idempotent: true,
        replayable: true,
      });
      expect(value.statusCode).toBe(200);
      expect(await readBody(value)).toBe('ok');
      lease.release();
      expect(attempts).toBeLessThanOrEqual(2);
    }
    const failingHits = failing.hits - failingBefore;
    expect(failingHits).toBeGreaterThan(0);
    expect(retry.stats().retries).toBe(failingHits);
    const stats = balancer.stats();
    expect(stats.totalInFlight).toBe(0);
    expect(stats.endpoints.find((e) => e.address === failing.address)!.failures).toBe(failingHits);
    await balancer.close();
  });

  it('retries a POST whose connection was refused, sending the body once, to the live backend', async () => {
    const balancer = new Balancer({ endpoints: [refused, healthy.address], policy: 'round_robin' });
    const retry = new RetryPolicy({}, { random: seededRandom(2) });
    const before = healthy.bodies.length;
    for (let i = 0; i < 4; i++) {
      const { value, lease } = await execute({
        balancer,
        attempt: send('POST', `payload-${i}`),
        classify,
        retry,
        idempotent: false,
        replayable: true,
      });
      expect(value.statusCode).toBe(200);
      await readBody(value);
      lease.release();
    }
    expect(healthy.bodies.slice(before)).toEqual(['payload-0', 'payload-1', 'payload-2', 'payload-3']);
    expect(balancer.stats().endpoints.find((e) => e.address === refused)!.failures).toBeGreaterThan(0);
    await balancer.close();
  });

  it('does not retry a POST that got a 503: the caller gets the response', async () => {
    const balancer = new Balancer({ endpoints: [failing.address, healthy.address], policy: 'round_robin' });
    const retry = new RetryPolicy({}, { random: seededRandom(3) });
    // Round robin from a random start: send until one POST lands on the failing backend.
    let saw503 = false;
    for (let i = 0; i < 6 && !saw503; i++) {
      const { value, lease, attempts } = await execute({
        balancer,
        attempt: send('POST', 'x'),
        classify,
        retry,
        idempotent: false,
        replayable: true,
      });
      expect(attempts).toBe(1);
      saw503 = value.statusCode === 503;
      expect(await readBody(value)).toBe(saw503 ? 'unavailable' : 'ok');
      lease.release();
    }
    expect(saw503).toBe(true);
    expect(retry.stats().refused['not-retryable']).toBeGreaterThan(0);
    await balancer.close();
  });

  it('times out a hanging backend per try and answers from the other one', async () => {
    const balancer = new Balancer({ endpoints: [hanging.address, healthy.address], policy: 'round_robin' });
    const retry = new RetryPolicy({ perTryTimeoutMs: 150, deadlineMs: 5_000 }, { random: seededRandom(4) });
    const hangingBefore = hanging.hits;
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const { value, lease, attempts } = await execute({
        balancer,
        attempt: send('GET', undefined),
        classify,
        retry,
        idempotent: true,
        replayable: true,
      });
      expect(value.statusCode).toBe(200);
      await readBody(value);
      lease.release();
      if (attempts === 2) expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    }
    expect(hanging.hits - hangingBefore).toBeGreaterThan(0);
    const stats = balancer.stats();
    expect(stats.totalInFlight).toBe(0);
    expect(stats.endpoints.find((e) => e.address === hanging.address)!.failures).toBe(
      hanging.hits - hangingBefore,
    );
    await balancer.close();
  });
});
