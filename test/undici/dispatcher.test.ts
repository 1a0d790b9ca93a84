import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { seededRandom } from '../../src/random.js';
import { BalancedDispatcher, POOL_ACCEPTS_LEGACY_HANDLERS } from '../../src/undici/dispatcher.js';
import { NoEndpointAvailableError } from '../../src/undici/errors.js';
import { deadServer, slowServer, type TestServer } from '../helpers/http-servers.js';
import { useFixture, waitFor } from './fixture.js';

const { errors, request } = undici;

const fx = useFixture();

function dispatcherFor(
  backends: readonly TestServer[],
  extra: Partial<ConstructorParameters<typeof BalancedDispatcher>[0]> = {},
) {
  const d = new BalancedDispatcher({
    balancer: {
      endpoints: backends.map((s) => s.address),
      policy: 'round_robin',
      random: seededRandom(1),
      name: 'orders',
    },
    ...extra,
  });
  fx.dispatcher(d);
  return d;
}

describe('BalancedDispatcher options', () => {
  it('rejects a missing balancer, unknown keys and bad values with ConfigError naming the field', () => {
    expect(() => new BalancedDispatcher({} as never)).toThrow(ConfigError);
    expect(() => new BalancedDispatcher({} as never)).toThrow(
      /balancer: expected a Balancer or Balancer options/,
    );
    expect(() => new BalancedDispatcher({ balancer: { endpoints: [] }, nope: 1 } as never)).toThrow(/nope/);
    expect(() => new BalancedDispatcher({ balancer: { endpoints: [] }, protocol: 'ftp:' as never })).toThrow(
      /protocol: expected one of "http:", "https:"/,
    );
    expect(
      () =>
        new BalancedDispatcher({
          balancer: { endpoints: [] },
          hashKey: { header: 'a', cookie: 'b' } as never,
        }),
    ).toThrow(/hashKey: expected a function, \{ header: name \} or \{ cookie: name \}/);
    expect(() => new BalancedDispatcher({ balancer: { endpoints: ['nope'] } })).toThrow(/endpoints\[0\]/);
  });
});

describe('BalancedDispatcher with undici.request', () => {
  it('spreads requests round robin, rewrites the origin and keeps the logical Host header', async () => {
    const backends = await fx.fast(3);
    const d = dispatcherFor(backends);
    for (let i = 0; i < 30; i++) {
      const res = await request('http://orders.internal/v1', { dispatcher: d });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    expect(backends.map((s) => s.hits)).toEqual([10, 10, 10]);
    for (const s of backends) expect(new Set(s.hosts)).toEqual(new Set(['orders.internal']));
    const stats = d.balancer.stats();
    expect(stats.endpoints.map((e) => e.successes)).toEqual([10, 10, 10]);
    expect(stats.totalInFlight).toBe(0);
  });

  it('keeps a Host header the caller set', async () => {
    const [backend] = await fx.fast(1);
    const d = dispatcherFor([backend!]);
    const res = await request('http://orders.internal/', {
      dispatcher: d,
      headers: { Host: 'explicit.example' },
    });
    await res.body.text();
    expect(backend!.hosts).toEqual(['explicit.example']);
  });

  it('feeds 5xx as failures and latency to headers as the estimate', async () => {
    const failing = await startStatus(500);
    const d = dispatcherFor([failing]);
    const res = await request('http://orders.internal/', { dispatcher: d });
    expect(res.statusCode).toBe(500);
    await res.body.text();
    const [stats] = d.balancer.stats().endpoints;
    expect(stats!.failures).toBe(1);
    expect(stats!.successes).toBe(0);
  });

  it('a failure status predicate can declare which statuses count', async () => {
    const failing = await startStatus(404);
    const d = dispatcherFor([failing], { failureStatus: (s) => s === 404 });
    const res = await request('http://orders.internal/', { dispatcher: d });
    await res.body.text();
    expect(d.balancer.stats().endpoints[0]!.failures).toBe(1);
  });

  it('surfaces connection errors with their own class and code, the endpoint named', async () => {
    const dead = await deadServer();
    const d = dispatcherFor([dead]);
    const err = await request('http://orders.internal/', { dispatcher: d }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', endpoint: dead.address, balancer: 'orders' });
    expect(d.balancer.stats().endpoints[0]!.failures).toBe(1);
  });

  it('fails with undici BalancedPoolMissingUpstreamError when nothing is routable', async () => {
    const d = dispatcherFor([]);
    const err = await request('http://orders.internal/', { dispatcher: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.BalancedPoolMissingUpstreamError);
    expect(err).toBeInstanceOf(NoEndpointAvailableError);
    expect(err).toMatchObject({
      code: 'UND_ERR_BPL_MISSING_UPSTREAM',
      reason: 'unavailable',
      balancer: 'orders',
    });
  });

  it('closes a removed endpoint Pool only after its in-flight requests finish', async () => {
    const slow = await slowServer(150);
    fx.server(slow);
    const [fast] = await fx.fast(1);
    const balancer = new Balancer({ endpoints: [slow.address], policy: 'round_robin' });
    const d = new BalancedDispatcher({ balancer });
    fx.dispatcher(d);
    const inFlight = request('http://orders.internal/', { dispatcher: d });
    await waitFor(() => slow.hits === 1);
    balancer.setEndpoints([fast!.address]);
    expect(d.poolAddresses()).toContain(slow.address); // still draining
    const res = await inFlight;
    expect(await res.body.text()).toBe('slow');
    expect(d.poolAddresses()).not.toContain(slow.address);
    const next = await request('http://orders.internal/', { dispatcher: d });
    expect(await next.body.text()).toBe('s0');
    await balancer.close();
  });

  it('a request in flight on an endpoint that vanishes (removed, then its process dies) fails at once', async () => {
    const slow = fx.server(await slowServer(10_000));
    const [fast] = await fx.fast(1);
    const balancer = new Balancer({ endpoints: [slow.address], policy: 'round_robin' });
    const d = fx.dispatcher(new BalancedDispatcher({ balancer }));
    const started = performance.now();
    const inFlight = request('http://orders.internal/', { dispatcher: d }).catch((e: unknown) => e);
    await waitFor(() => slow.hits === 1);
    balancer.setEndpoints([fast!.address]);
    slow.kill();
    const err = await inFlight;
    expect(err).toMatchObject({ code: 'UND_ERR_SOCKET', endpoint: slow.address });
    expect(performance.now() - started).toBeLessThan(2_000);
    await waitFor(() => !d.poolAddresses().includes(slow.address));
    expect(await (await request('http://orders.internal/', { dispatcher: d })).body.text()).toBe('s0');
    await balancer.close();
  });

  it('does not close a shared Balancer, closes an owned one', async () => {
    const [backend] = await fx.fast(1);
    const shared = new Balancer({ endpoints: [backend!.address] });
    const a = new BalancedDispatcher({ balancer: shared });
    await a.close();
    expect(shared.stats().closed).toBe(false);
    const b = new BalancedDispatcher({ balancer: { endpoints: [backend!.address] } });
    await b.close();
    expect(b.balancer.stats().closed).toBe(true);
    const err = await request('http://orders.internal/', { dispatcher: b }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.ClientClosedError);
    await shared.close();
  });

  it('serves as the base of compose() interceptors', async () => {
    const backends = await fx.fast(2);
    const d = dispatcherFor(backends);
    const seen: number[] = [];
    const composed = d.compose((dispatch) => (opts, handler) => {
      return dispatch(
        { ...opts, headers: { ...(opts.headers as object), 'x-composed': '1' } },
        {
          ...handler,
          onRequestStart: (c, ctx) => handler.onRequestStart?.(c, ctx),
          onResponseStart: (c, status, headers, msg) => {
            seen.push(status);
            handler.onResponseStart?.(c, status, headers, msg);
          },
          onResponseData: (c, chunk) => handler.onResponseData?.(c, chunk),
          onResponseEnd: (c, t) => handler.onResponseEnd?.(c, t),
          onResponseError: (c, e) => handler.onResponseError?.(c, e),
        },
      );
    });
    for (let i = 0; i < 4; i++) {
      const res = await request('http://orders.internal/', { dispatcher: composed });
      await res.body.text();
    }
    expect(seen).toEqual([200, 200, 200, 200]);
    expect(backends.map((s) => s.hits)).toEqual([2, 2]);
  });

  it('composes with undici retry interceptor, each retry going back through the picker', async () => {
    const dead = await deadServer();
    const [live] = await fx.fast(1);
    const d = dispatcherFor([dead, live!]);
    const composed = d.compose(undici.interceptors.retry({ maxRetries: 2, minTimeout: 1, timeoutFactor: 1 }));
    for (let i = 0; i < 4; i++) {
      const res = await request('http://orders.internal/', { dispatcher: composed });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
  });
});

describe('both handler APIs', () => {
  it.runIf(process.env.SWITCHYARD_UNDICI8_PATH !== undefined)(
    'runs against undici 8 under scripts/test-undici8.mjs',
    () => {
      expect(POOL_ACCEPTS_LEGACY_HANDLERS).toBe(false);
    },
  );

  it('accepts a new-API handler (onRequestStart/onResponseStart/…)', async () => {
    const [backend] = await fx.fast(1);
    const d = dispatcherFor([backend!]);
    const events: string[] = [];
    const body: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      d.dispatch(
        { origin: 'http://orders.internal', path: '/', method: 'GET' },
        {
          onRequestStart: () => events.push('start'),
          onResponseStart: (_c, status, headers) => events.push(`headers ${status} ${headers['x-server']}`),
          onResponseData: (_c, chunk) => body.push(chunk),
          onResponseEnd: () => {
            events.push('end');
            resolve();
          },
          onResponseError: (_c, e) => reject(e),
        },
      );
    });
    expect(events).toEqual(['start', 'headers 200 s0', 'end']);
    expect(Buffer.concat(body).toString()).toBe('s0');
  });

  it('accepts a legacy handler (onConnect/onHeaders/…): natively under undici 7, converted under undici 8', async () => {
    const [backend] = await fx.fast(1);
    const d = dispatcherFor([backend!]);
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      d.dispatch({ origin: 'http://orders.internal', path: '/', method: 'GET' }, {
        onConnect: () => events.push('connect'),
        onHeaders: (status: number, raw: Buffer[]) => {
          events.push(`headers ${status} ${raw.map(String).includes('x-server')}`);
          return true;
        },
        onData: () => true,
        onComplete: () => {
          events.push('complete');
          resolve();
        },
        onError: reject,
      } as never);
    });
    expect(events).toEqual(['connect', 'headers 200 true', 'complete']);
  });

  it('reports a synchronous failure through the new-API handler', () => {
    const d = dispatcherFor([]);
    let error: unknown;
    const result = d.dispatch(
      { origin: 'http://orders.internal', path: '/', method: 'GET' },
      {
        onRequestStart: () => {},
        onResponseError: (_c, e) => {
          error = e;
        },
      },
    );
    expect(result).toBe(true);
    expect(error).toBeInstanceOf(NoEndpointAvailableError);
  });
});

describe('fetch', () => {
  it('works with undici.fetch', async () => {
    const backends = await fx.fast(2);
    const d = dispatcherFor(backends);
    const texts = [];
    for (let i = 0; i < 4; i++)
      texts.push(await (await undici.fetch('http://orders.internal/x', { dispatcher: d })).text());
    expect(texts.sort()).toEqual(['s0', 's0', 's1', 's1']);
  });

  it("works with Node's built-in global fetch", async () => {
    const backends = await fx.fast(2);
    const d = dispatcherFor(backends);
    const res = await globalThis.fetch('http://orders.internal/x', {
      dispatcher: d,
    } as unknown as RequestInit);
    expect(res.status).toBe(200);
    expect(['s0', 's1']).toContain(await res.text());
    expect(backends.flatMap((s) => s.hosts)).toEqual(['orders.internal']);
  });
});

async function startStatus(status: number): Promise<TestServer> {
  const { startServer } = await import('../helpers/http-servers.js');
  const s = await startServer({ name: `status-${status}`, status });
  fx.server(s);
  return s;
}
