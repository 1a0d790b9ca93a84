/**
 * Hardening of the undici adapter (issue 14, defects 1–4 and 7): shutdown while requests wait between attempts,
 * who gets blamed for errors the client made itself, leases on every failure path, and the caller's abort reason.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import * as undici from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { failureOfError } from '../../src/undici/classify.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { slowServer } from '../helpers/http-servers.js';
import { useFixture, waitFor } from './fixture.js';

const { errors, request } = undici;
const fx = useFixture();

/** A backend answering 503 with `Retry-After: 1` while `failing`, 200 otherwise (the retry delay is then exact). */
async function overloadedServer(): Promise<{
  address: string;
  failing: boolean;
  hits: number;
  server: Server;
}> {
  const state = { failing: true, hits: 0 };
  const server = createServer((_req, res) => {
    state.hits++;
    if (state.failing) res.writeHead(503, { 'retry-after': '1' }).end('busy');
    else res.writeHead(200).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  servers.push(server);
  return Object.assign(state, { address: `127.0.0.1:${port}`, server });
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Counts `switchyard:retry` events (a retry was scheduled: the request now waits in its backoff). */
function countRetries(): { readonly count: number; stop(): void } {
  const counter = { count: 0, stop: () => diagnosticsChannel.unsubscribe(channelNames.retry, listener) };
  const listener = () => counter.count++;
  diagnosticsChannel.subscribe(channelNames.retry, listener);
  return counter;
}

function retryingDispatcher(address: string, backoffMs: number): BalancedDispatcher {
  return fx.dispatcher(
    new BalancedDispatcher({
      balancer: { endpoints: [address], name: 'svc', outlierDetection: false },
      retry: new RetryPolicy(
        { maxAttempts: 3, budget: false, backoff: { maxRetryAfterMs: backoffMs } },
        { random: seededRandom(1) },
      ),
    }),
  );
}

const get = (d: undici.Dispatcher, opts: Partial<undici.Dispatcher.RequestOptions> = {}) =>
  request('http://svc.internal/', { dispatcher: d, ...opts } as never).then(async (res) => ({
    status: res.statusCode,
    body: await res.body.text(),
  }));

describe('shutdown while requests wait between attempts (defect 1)', () => {
  it('close() lets every accepted request finish, including those in a retry backoff', async () => {
    const backend = await overloadedServer();
    const d = retryingDispatcher(backend.address, 300);
    const retries = countRetries();
    try {
      const pending = Array.from({ length: 30 }, () => get(d).catch((e: unknown) => e));
      await waitFor(() => retries.count >= 30);
      const closed = d.close();
      backend.failing = false;
      const results = await Promise.all(pending);
      expect(results).toEqual(Array.from({ length: 30 }, () => ({ status: 200, body: 'ok' })));
      await closed;
      expect(d.balancer.stats().closed).toBe(true);
      expect(d.balancer.stats().totalInFlight).toBe(0);
      // New requests after close() are refused with undici's error.
      await expect(get(d)).rejects.toBeInstanceOf(errors.ClientClosedError);
    } finally {
      retries.stop();
    }
  });

  it('a second close() shares the first; destroy() during a close fails what is left and ends the close', async () => {
    const backend = await overloadedServer();
    const d = retryingDispatcher(backend.address, 300);
    const retries = countRetries();
    try {
      const first = Array.from({ length: 5 }, () => get(d).catch((e: unknown) => e));
      await waitFor(() => retries.count >= 5);
      const closing = [d.close(), d.close()];
      backend.failing = false;
      expect(await Promise.all(first)).toEqual(
        Array.from({ length: 5 }, () => ({ status: 200, body: 'ok' })),
      );
      await Promise.all(closing);

      backend.failing = true;
      const e = retryingDispatcher(backend.address, 5_000);
      const second = Array.from({ length: 5 }, () => get(e).catch((err: unknown) => err));
      await waitFor(() => retries.count >= 10);
      const closed = e.close();
      await e.destroy();
      await closed;
      for (const r of await Promise.all(second)) expect(r).toBeInstanceOf(errors.ClientDestroyedError);
      expect(e.balancer.stats().closed).toBe(true);
    } finally {
      retries.stop();
    }
  });

  it('destroy() fails requests waiting in a backoff with ClientDestroyedError, at once', async () => {
    const backend = await overloadedServer();
    const d = retryingDispatcher(backend.address, 5_000);
    const retries = countRetries();
    try {
      const pending = Array.from({ length: 10 }, () => get(d).catch((e: unknown) => e));
      await waitFor(() => retries.count >= 10);
      const started = performance.now();
      await d.destroy();
      const results = await Promise.all(pending);
      expect(performance.now() - started).toBeLessThan(2_000);
      for (const r of results) expect(r).toBeInstanceOf(errors.ClientDestroyedError);
      expect(d.balancer.stats().totalInFlight).toBe(0);
    } finally {
      retries.stop();
    }
  });
});

describe('errors the client made itself never count against endpoints (defects 2, 3)', () => {
  it('classifies undici caller-side and shutdown errors as not the endpoint’s fault', () => {
    expect(failureOfError(new errors.ClientClosedError())).toBe('cancelled');
    expect(failureOfError(new errors.ClientDestroyedError())).toBe('cancelled');
    expect(failureOfError(new errors.InvalidArgumentError('invalid header'))).toBe('cancelled');
    expect(failureOfError(new errors.NotSupportedError('nope'))).toBe('cancelled');
    expect(failureOfError(new errors.RequestContentLengthMismatchError())).toBe('cancelled');
    // The endpoint's own misbehaviour still counts.
    expect(failureOfError(new errors.ResponseContentLengthMismatchError())).not.toBe('cancelled');
  });

  it('destroying one dispatcher of a shared Balancer does not eject its endpoints', async () => {
    const slow = fx.server(await slowServer(400, 'slow'));
    const shared = new Balancer({
      endpoints: [slow.address],
      outlierDetection: { consecutive5xx: 2, maxEjectionPercent: 100 },
    });
    const a = new BalancedDispatcher({ balancer: shared });
    const b = fx.dispatcher(new BalancedDispatcher({ balancer: shared }));
    const pending = Array.from({ length: 4 }, () => get(a).catch((e: unknown) => e));
    await waitFor(() => slow.hits >= 4);
    await a.destroy();
    for (const r of await Promise.all(pending)) expect(r).toBeInstanceOf(Error);
    const stats = shared.stats().endpoints[0]!;
    expect(stats.failures).toBe(0);
    expect(shared.health.outlierDetector?.ejectedCount).toBe(0);
    expect(await get(b)).toEqual({ status: 200, body: 'slow' });
    await shared.close();
  });

  for (const retry of [false, true]) {
    it(`a header with CR LF fails the request without touching endpoint health (retry ${retry})`, async () => {
      const backends = await fx.fast(2);
      const d = fx.dispatcher(
        new BalancedDispatcher({
          balancer: {
            endpoints: backends.map((s) => s.address),
            outlierDetection: { consecutive5xx: 2, maxEjectionPercent: 100 },
          },
          ...(retry ? { retry: {} } : {}),
        }),
      );
      for (let i = 0; i < 10; i++) {
        const err = await get(d, { headers: { 'x-bad': 'a\r\nb' } }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(errors.InvalidArgumentError);
      }
      const stats = d.balancer.stats();
      expect(stats.endpoints.map((e) => e.failures)).toEqual([0, 0]);
      expect(stats.routable).toBe(2);
      expect(stats.totalInFlight).toBe(0);
      expect(await get(d)).toMatchObject({ status: 200 });
    });
  }
});

describe('Pool options and leases (defect 4)', () => {
  it('rejects invalid `pool` options at construction with ConfigError naming the field', () => {
    expect(() => new BalancedDispatcher({ balancer: { endpoints: [] }, pool: { connections: -1 } })).toThrow(
      ConfigError,
    );
    expect(
      () => new BalancedDispatcher({ balancer: { endpoints: [] }, pool: { headersTimeout: 'x' as never } }),
    ).toThrow(/pool: expected undici Pool options/);
  });
});

describe('leases when a Pool cannot be built (defect 4)', () => {
  for (const retry of [false, true]) {
    it(`releases the lease and blames nobody when undici refuses the endpoint's origin (retry ${retry})`, async () => {
      // An IPv6 zone id is a valid endpoint but not a valid URL host: `new Pool` throws for it.
      const d = fx.dispatcher(
        new BalancedDispatcher({
          balancer: { endpoints: ['[fe80::1%eth0]:8080'], outlierDetection: false },
          ...(retry ? { retry: {} } : {}),
        }),
      );
      for (let i = 0; i < 3; i++) await expect(get(d)).rejects.toThrow();
      const stats = d.balancer.stats();
      expect(stats.totalInFlight).toBe(0);
      expect(stats.endpoints[0]!.failures).toBe(0);
      const started = performance.now();
      await d.close();
      expect(performance.now() - started).toBeLessThan(1_000);
    });
  }
});

describe('the caller’s abort reason (defect 7)', () => {
  for (const retry of [false, true]) {
    it(`comes back as the very object, untouched, and is not blamed on the endpoint (retry ${retry})`, async () => {
      const slow = fx.server(await slowServer(2_000, 'slow'));
      const d = fx.dispatcher(
        new BalancedDispatcher({
          balancer: { endpoints: [slow.address] },
          ...(retry ? { retry: {} } : {}),
        }),
      );
      const reason = new Error('my reason');
      const controller = new AbortController();
      const pending = get(d, { signal: controller.signal }).catch((e: unknown) => e);
      await waitFor(() => slow.hits >= 1);
      controller.abort(reason);
      const err = await pending;
      expect(err).toBe(reason);
      expect(reason.message).toBe('my reason');
      expect(Object.keys(reason)).toEqual([]);
      const stats = d.balancer.stats();
      expect(stats.endpoints[0]!.failures).toBe(0);
      expect(stats.totalInFlight).toBe(0);
    });
  }
});
