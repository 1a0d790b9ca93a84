/**
 * The HTTP probe against real node:http servers on 127.0.0.1: healthy, 503, hanging, refusing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { HttpProber } from '../../src/health/active/http-check.js';
import { parseHealthCheck } from '../../src/health/options.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { collect } from './harness.js';

interface Seen {
  path: string | undefined;
  host: string | undefined;
}

function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

const seen: Seen[] = [];
let healthy: { server: http.Server; port: number };
let failing: { server: http.Server; port: number };
let hanging: { server: http.Server; port: number };
let hangingRequests = 0;
let refusedPort = 0;

beforeAll(async () => {
  healthy = await listen((req, res) => {
    seen.push({ path: req.url, host: req.headers.host });
    res.statusCode = req.url === '/healthz' || req.url === '/ready' ? 200 : 404;
    res.end('ok');
  });
  failing = await listen((_req, res) => {
    res.statusCode = 503;
    res.end('draining');
  });
  hanging = await listen(() => {
    hangingRequests++;
  });
  const closed = await listen(() => {});
  refusedPort = closed.port;
  await new Promise<void>((r) => closed.server.close(() => r()));
});

afterAll(async () => {
  for (const s of [healthy, failing, hanging]) {
    s.server.closeAllConnections();
    await new Promise<void>((r) => s.server.close(() => r()));
  }
});

const endpoint = (port: number) => parseEndpoint(`127.0.0.1:${port}`, 'e');
const options = (o: object = {}) => parseHealthCheck(o, 'healthCheck')!;

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

describe('HttpProber against real servers', () => {
  it('healthy: GET /healthz → 200 passes, with the endpoint as Host header', async () => {
    const prober = new HttpProber(options());
    const result = await prober.probe(endpoint(healthy.port), new AbortController().signal);
    expect(result).toEqual({ healthy: true, detail: 'status 200' });
    expect(seen.at(-1)).toEqual({ path: '/healthz', host: `127.0.0.1:${healthy.port}` });
    prober.close();
  });

  it('path and hostHeader are configurable; a status outside expectedStatuses fails', async () => {
    const prober = new HttpProber(options({ path: '/ready', hostHeader: 'svc.internal' }));
    expect(await prober.probe(endpoint(healthy.port), new AbortController().signal)).toEqual({
      healthy: true,
      detail: 'status 200',
    });
    expect(seen.at(-1)).toEqual({ path: '/ready', host: 'svc.internal' });
    const wrongPath = new HttpProber(options({ path: '/nope' }));
    expect(await wrongPath.probe(endpoint(healthy.port), new AbortController().signal)).toEqual({
      healthy: false,
      detail: 'status 404',
    });
    prober.close();
    wrongPath.close();
  });

  it('503 fails by default and passes when listed in expectedStatuses', async () => {
    const strict = new HttpProber(options());
    expect(await strict.probe(endpoint(failing.port), new AbortController().signal)).toEqual({
      healthy: false,
      detail: 'status 503',
    });
    const lenient = new HttpProber(options({ expectedStatuses: [200, 503] }));
    expect((await lenient.probe(endpoint(failing.port), new AbortController().signal)).healthy).toBe(true);
    strict.close();
    lenient.close();
  });

  it('hanging: the abort signal (the checker timeout) ends the probe with "timeout"', async () => {
    const prober = new HttpProber(options());
    const controller = new AbortController();
    const before = hangingRequests;
    const pending = prober.probe(endpoint(hanging.port), controller.signal);
    await waitFor(() => hangingRequests > before);
    controller.abort();
    expect(await pending).toEqual({ healthy: false, detail: 'timeout' });
    prober.close();
  });

  it('refusing: ECONNREFUSED', async () => {
    const prober = new HttpProber(options());
    expect(await prober.probe(endpoint(refusedPort), new AbortController().signal)).toEqual({
      healthy: false,
      detail: 'ECONNREFUSED',
    });
    prober.close();
  });

  it('reuses one keep-alive connection per endpoint', async () => {
    const connections = new Set<unknown>();
    const counter = (socket: unknown) => connections.add(socket);
    healthy.server.on('connection', counter);
    const prober = new HttpProber(options());
    for (let i = 0; i < 3; i++) await prober.probe(endpoint(healthy.port), new AbortController().signal);
    healthy.server.off('connection', counter);
    expect(connections.size).toBe(1);
    prober.close();
  });
});

describe('healthCheck in the Balancer (real servers, ManualClock for the schedule and the timeout)', () => {
  it('routes only to endpoints whose probes pass; a hanging probe times out on the clock', async () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: [healthy.port, failing.port, hanging.port, refusedPort].map((p) => `127.0.0.1:${p}`),
      policy: 'round_robin',
      clock,
      random: seededRandom(1),
      panicThreshold: 0,
      healthCheck: { unhealthyThreshold: 1, timeoutMs: 2_000 },
    });
    const checker = b.health.healthChecker!;
    const checks = collect(channelNames.healthCheck);
    const before = hangingRequests;
    const round = checker.checkAll();
    // Let the three answering endpoints settle before the fake clock fires the hanging probe's timeout.
    await waitFor(() => hangingRequests > before && checks.length === 3);
    clock.advance(2_000);
    await round;
    const conditions = Object.fromEntries(b.stats().endpoints.map((e) => [e.port, e.condition]));
    expect(conditions).toEqual({
      [healthy.port]: 'routable',
      [failing.port]: 'unhealthy',
      [hanging.port]: 'unhealthy',
      [refusedPort]: 'unhealthy',
    });
    for (let i = 0; i < 5; i++) {
      const lease = b.pick()!;
      expect(lease.endpoint.port).toBe(healthy.port);
      lease.release();
    }
    expect(await b.close()).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('active checks and outlier detection together', () => {
  /** Ejects the endpoint with five 500s, runs one probe round, and says how many endpoints are still ejected. */
  async function ejectedAfterCheck(uneject: boolean): Promise<number> {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: [`127.0.0.1:${healthy.port}`],
      clock,
      random: seededRandom(2),
      outlierDetection: { successfulActiveHealthCheckUnejectHost: uneject },
      healthCheck: {},
    });
    for (let i = 0; i < 5; i++) b.pick()!.release({ ok: false, failure: 'status', status: 500 });
    expect(b.health.outlierDetector!.ejectedCount).toBe(1);
    await b.health.healthChecker!.checkAll();
    const ejected = b.health.outlierDetector!.ejectedCount;
    await b.close();
    return ejected;
  }

  it('a passing probe ends an ejection (Envoy successful_active_health_check_uneject_host)', async () => {
    expect(await ejectedAfterCheck(true)).toBe(0);
  });

  it('unless successfulActiveHealthCheckUnejectHost is false', async () => {
    expect(await ejectedAfterCheck(false)).toBe(1);
  });
});

describe('on the system clock', () => {
  it('probes on its own (unref’d timers) and follows the server going down and up', async () => {
    let status = 200;
    const server = await listen((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const b = new Balancer({
      endpoints: [`127.0.0.1:${server.port}`],
      panicThreshold: 0,
      healthCheck: { intervalMs: 20, unhealthyThreshold: 2, timeoutMs: 500 },
    });
    const routableIs = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (b.stats().routable === n) {
            b.off('picker', check);
            resolve();
          }
        };
        b.on('picker', check);
        check();
      });
    expect(b.stats().routable).toBe(1);
    status = 503;
    await routableIs(0);
    status = 200;
    await routableIs(1);
    expect(await b.close()).toBe(true);
    server.server.closeAllConnections();
    await new Promise<void>((r) => server.server.close(() => r()));
  });
});
