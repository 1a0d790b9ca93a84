/**
 * The retry path's direct first attempt (src/undici/retried-request.ts): a request that succeeds at once never
 * enters the executor, yet everything the executor guarantees still holds — retries on failures before the
 * headers and on failing statuses, no retry once the caller has body bytes, the budget deposit per request, the
 * deadline, hedging's latency window — and every lease is released exactly once, by one owner.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Balancer } from '../../src/balancer/balancer.js';
import { Lease } from '../../src/balancer/lease.js';
import { type Clock, systemClock, type TimerHandle } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { HedgingPolicy } from '../../src/resilience/hedging.js';
import { RetryPolicy, type RetryPolicyOptions } from '../../src/resilience/retry-policy.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { RequestTimeoutError } from '../../src/undici/errors.js';
import type { BalancedDispatcherOptions } from '../../src/undici/options.js';
import {
  blackHoleServer,
  deadServer,
  fastServer,
  flakyServer,
  slowServer,
  type TestServer,
} from '../helpers/http-servers.js';
import { useFixture, waitFor } from './fixture.js';

const { request } = undici;
const fx = useFixture();

function retrying(
  backends: readonly { address: string }[],
  retry: RetryPolicyOptions | RetryPolicy = {},
  extra: Partial<BalancedDispatcherOptions> = {},
): BalancedDispatcher {
  return fx.dispatcher(
    new BalancedDispatcher({
      balancer: {
        endpoints: backends.map((s) => s.address),
        policy: 'round_robin',
        random: seededRandom(7),
        name: 'svc',
      },
      retry: retry instanceof RetryPolicy ? retry : new RetryPolicy(retry, { random: seededRandom(3) }),
      ...extra,
    }),
  );
}

async function get(d: undici.Dispatcher, opts: Partial<undici.Dispatcher.RequestOptions> = {}) {
  const res = await request('http://svc.internal/', { dispatcher: d, ...opts } as never);
  return { status: res.statusCode, body: await res.body.text() };
}

/** A server that sends 200 headers and part of the body, then cuts the connection. */
async function truncatingServer(): Promise<{ address: string; hits: number; close(): Promise<void> }> {
  const state = { hits: 0 };
  const server: Server = createServer((req, res) => {
    state.hits++;
    req.resume();
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial-', () => setTimeout(() => res.socket?.destroy(), 10));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server answering 200 with mixed-case and repeated headers. */
async function headerServer(): Promise<{ address: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.setHeader('X-Mixed-Case', 'yes');
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.end('headers');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends one GET with a new-API handler (as compose() interceptors and undici 8 do); resolves with what it saw. */
function newApiGet(
  d: BalancedDispatcher,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    d.dispatch({ origin: 'http://svc.internal', path: '/', method: 'GET' }, {
      onRequestStart() {},
      onResponseStart(_c, statusCode, h) {
        status = statusCode;
        headers = h as Record<string, unknown>;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ status, headers, body: Buffer.concat(chunks).toString() });
      },
      onResponseError(_c, error) {
        reject(error);
      },
    } as undici.Dispatcher.DispatchHandler);
  });
}

/** Counts `Lease.release` calls per lease picked from any of `balancers`. */
function countReleases(...balancers: Balancer[]): Map<Lease, number> {
  const counts = new Map<Lease, number>();
  for (const balancer of balancers) {
    const tryPick = balancer.tryPick.bind(balancer);
    vi.spyOn(balancer, 'tryPick').mockImplementation((ctx) => {
      const picked = tryPick(ctx);
      if (picked instanceof Lease) counts.set(picked, 0);
      return picked;
    });
  }
  const release = Lease.prototype.release;
  vi.spyOn(Lease.prototype, 'release').mockImplementation(function (this: Lease, outcome) {
    if (counts.has(this)) counts.set(this, counts.get(this)! + 1);
    release.call(this, outcome);
  });
  return counts;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('retry path: the direct first attempt', () => {
  it('a success streams straight through without the executor, and still deposits into the budget', async () => {
    const [a, b] = await fx.fast(2);
    const retry = new RetryPolicy({}, { random: seededRandom(3) });
    const d = retrying([a!, b!], retry);
    for (let i = 0; i < 10; i++) expect((await get(d)).status).toBe(200);
    // One deposit per request, as the executor makes: the budget for retries is earned by requests, fast or not.
    expect(retry.budgetFor(d.balancer)!.stats().deposits).toBe(10);
    expect(retry.stats()).toMatchObject({ retries: 0 });
    expect(d.balancer.stats().totalInFlight).toBe(0);
  });

  it('retries elsewhere when attempt 1 fails before the headers (connection refused), POST included', async () => {
    const dead = await deadServer();
    const live = fx.server(await fastServer('a'));
    const d = retrying([dead, live]);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => get(d, { method: 'POST', body: `n${i}` })),
    );
    expect(results.every((r) => r.status === 200 && r.body === 'a')).toBe(true);
    expect(live.hits).toBe(8);
    expect(d.balancer.stats().endpoints.find((e) => e.address === dead.address)!.failures).toBeGreaterThan(0);
  });

  it('retries a failing status (503) on another endpoint: the response is held, not streamed', async () => {
    const flaky = fx.server(await flakyServer('flaky'));
    flaky.failing = true;
    const live = fx.server(await fastServer('a'));
    const d = retrying([flaky, live]);
    expect(await get(d)).toEqual({ status: 200, body: 'a' });
    expect(flaky.hits).toBe(1);
  });

  it('never retries once the caller has response bytes: a body cut short fails the request', async () => {
    const truncating = await truncatingServer();
    const live = fx.server(await fastServer('a'));
    const d = retrying([truncating, live], { maxAttempts: 3 });
    try {
      const res = await request('http://svc.internal/', { dispatcher: d });
      expect(res.statusCode).toBe(200);
      const body = await res.body.text().catch((e: unknown) => e);
      expect(body).toBeInstanceOf(Error);
      expect(truncating.hits).toBe(1);
      expect(live.hits).toBe(0);
      await waitFor(() => d.balancer.stats().totalInFlight === 0);
      const stats = d.balancer.stats().endpoints.find((e) => e.address === truncating.address)!;
      expect(stats.failures).toBe(1);
    } finally {
      await truncating.close();
    }
  });

  it('a deadline without a per-try timeout still bounds a black-hole attempt 1', async () => {
    const hole = fx.server(await blackHoleServer());
    const d = retrying([hole], { deadlineMs: 120, maxAttempts: 3 });
    const started = performance.now();
    const err = await get(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err).toMatchObject({ scope: 'request' });
    expect(performance.now() - started).toBeLessThan(1_500);
    await waitFor(() => d.balancer.stats().totalInFlight === 0);
  });

  it('hedging: fast successes feed the percentile window, and a slow attempt 1 is still hedged', async () => {
    const slow = fx.server(await slowServer(1_500));
    const fast = fx.server(await fastServer('fast'));
    const hedging = new HedgingPolicy({ percentile: 50 });
    const d = fx.dispatcher(
      new BalancedDispatcher({
        balancer: { endpoints: [fast.address], policy: 'round_robin', name: 'svc' },
        hedging,
      }),
    );
    expect(hedging.delayFor(d.balancer)).toBeUndefined();
    for (let i = 0; i < 40; i++) await get(d);
    // Only the direct path observed these latencies: without it the window would stay empty.
    const delay = hedging.delayFor(d.balancer);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThan(500);
    d.balancer.setEndpoints([slow.address, fast.address]);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 4 }, () => get(d)));
    expect(results.every((r) => r.body === 'fast')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_200);
    expect(hedging.stats()).toMatchObject({ hedges: expect.any(Number) });
    expect(hedging.stats().hedges).toBeGreaterThan(0);
  });

  it('both handler APIs get the response headers intact, direct and after a retry', async () => {
    const flaky = fx.server(await flakyServer('flaky'));
    flaky.failing = true;
    const good = await headerServer();
    try {
      const direct = retrying([good]);
      // Round robin from the first endpoint: the 503 one, so these go through the executor.
      const retried = retrying([flaky, good]);
      for (const d of [direct, retried]) {
        // undici.request hands over a legacy handler (undici 7): raw header names keep their case.
        const res = await request('http://svc.internal/', { dispatcher: d });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-mixed-case']).toBe('yes');
        expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
        expect(await res.body.text()).toBe('headers');
        const viaNewApi = await newApiGet(d);
        expect(viaNewApi).toMatchObject({ status: 200, body: 'headers' });
        expect(viaNewApi.headers['x-mixed-case']).toBe('yes');
        expect(viaNewApi.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      }
      expect(flaky.hits).toBeGreaterThanOrEqual(1);
    } finally {
      await good.close();
    }
  });

  it('every lease is released exactly once: successes, refusals, 503s, truncations, timeouts, hedges, aborts', async () => {
    const dead = await deadServer();
    const flaky = fx.server(await flakyServer('flaky'));
    flaky.failing = true;
    const truncating = await truncatingServer();
    const hole = fx.server(await blackHoleServer());
    const slow: TestServer = fx.server(await slowServer(300));
    const [a, b] = await fx.fast(2);
    const d = retrying([dead, flaky, truncating, hole, slow, a!, b!], {
      maxAttempts: 3,
      perTryTimeoutMs: 100,
      backoff: { baseMs: 1, maxMs: 5 },
      budget: false,
    });
    const hedged = retrying(
      [slow, a!, hole],
      { maxAttempts: 3, perTryTimeoutMs: 200 },
      {
        hedging: new HedgingPolicy({ delayMs: 20, budget: false }),
      },
    );
    const counts = countReleases(d.balancer, hedged.balancer);
    try {
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 28; i++) {
        const controller = new AbortController();
        if (i % 7 === 3) setTimeout(() => controller.abort(), 5 + i);
        const dispatcher = i % 2 === 0 ? d : hedged;
        const method = i % 3 === 0 ? 'POST' : 'GET';
        calls.push(
          request('http://svc.internal/', { dispatcher, method, signal: controller.signal })
            .then((res) => res.body.text())
            .catch((e: unknown) => e),
        );
      }
      await Promise.all(calls);
      await waitFor(
        () => d.balancer.stats().totalInFlight === 0 && hedged.balancer.stats().totalInFlight === 0,
      );
    } finally {
      await truncating.close();
    }
    const all = [...counts];
    expect(all.length).toBeGreaterThan(28);
    const notOnce = all.filter(([, n]) => n !== 1).map(([lease, n]) => `${lease.endpoint.address}: ${n}`);
    expect(notOnce).toEqual([]);
  });

  it('hedging and per-try timeouts configured, never due: a stream of fast requests sets a timer per period, not per request', async () => {
    const [a] = await fx.fast(1);
    let timersSet = 0;
    const counting: Clock = {
      now: () => systemClock.now(),
      setTimer(fn: () => void, ms: number): TimerHandle {
        timersSet++;
        return systemClock.setTimer(fn, ms);
      },
    };
    const d = retrying(
      [a!],
      new RetryPolicy({ perTryTimeoutMs: 5_000 }, { random: seededRandom(3), clock: counting }),
      { hedging: new HedgingPolicy({ delayMs: 5_000 }) },
    );
    for (let i = 0; i < 30; i++) expect((await get(d)).status).toBe(200);
    // One clock timer stands for every direct attempt's first deadline (src/undici/due-queue.ts).
    expect(timersSet).toBeLessThanOrEqual(2);
  });

  it('destroy() while direct attempts wait for headers fails each caller with its error, leases released once', async () => {
    const hole = fx.server(await blackHoleServer());
    const d = retrying([hole], { maxAttempts: 3 });
    const counts = countReleases(d.balancer);
    const calls = Array.from({ length: 4 }, () => get(d).catch((e: unknown) => e));
    await waitFor(() => hole.hits === 4);
    const reason = new Error('going away');
    await d.destroy(reason);
    const errors = await Promise.all(calls);
    expect(errors.every((e) => e === reason)).toBe(true);
    expect([...counts.values()]).toEqual([1, 1, 1, 1]);
    expect(d.balancer.stats().totalInFlight).toBe(0);
  });
});
