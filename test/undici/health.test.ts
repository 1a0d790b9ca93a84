import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { blackHoleServer, fastServer, flakyServer } from '../helpers/http-servers.js';
import { useFixture } from './fixture.js';

const fx = useFixture();

async function get(d: BalancedDispatcher): Promise<{ status: number; body: string }> {
  const res = await undici.request('http://svc.internal/', { dispatcher: d });
  return { status: res.statusCode, body: await res.body.text() };
}

function condition(d: BalancedDispatcher, address: string): string | undefined {
  return d.balancer.stats().endpoints.find((e) => e.address === address)?.condition;
}

describe('health through the undici adapter', () => {
  it('ejects a 503-flaky server after consecutive 5xx and returns it after the ejection time', async () => {
    const clock = new ManualClock();
    const flaky = await flakyServer('flaky');
    const fast = await fastServer('fast');
    fx.server(flaky);
    fx.server(fast);
    const d = new BalancedDispatcher({
      balancer: {
        endpoints: [flaky.address, fast.address],
        policy: 'round_robin',
        clock,
        random: seededRandom(2),
        outlierDetection: { consecutive5xx: 3, intervalMs: 1_000, baseEjectionTimeMs: 5_000 },
      },
    });
    fx.dispatcher(d);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(d)).status);
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    expect(condition(d, flaky.address)).toBe('ejected');
    // Ejected: everything goes to the healthy server.
    for (let i = 0; i < 6; i++) expect(await get(d)).toEqual({ status: 200, body: 'fast' });
    expect(flaky.hits).toBe(3);
    // The server recovers; after the ejection time (and the sweep that notices) it takes traffic again.
    flaky.failing = false;
    clock.advance(6_000);
    expect(condition(d, flaky.address)).toBe('routable');
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get(d)).body);
    expect(bodies.sort()).toEqual(['fast', 'fast', 'flaky', 'flaky']);
  });

  it('a black-hole server: bounded latency via the per-try timeout, then ejection', async () => {
    const hole = await blackHoleServer();
    const fast = await fastServer('fast');
    fx.server(hole);
    fx.server(fast);
    const d = new BalancedDispatcher({
      balancer: {
        endpoints: [hole.address, fast.address],
        policy: 'round_robin',
        random: seededRandom(4),
        outlierDetection: { consecutive5xx: 3 },
      },
      retry: new RetryPolicy({ perTryTimeoutMs: 100 }, { random: seededRandom(5) }),
    });
    fx.dispatcher(d);
    const latencies: number[] = [];
    for (let i = 0; i < 12; i++) {
      const started = performance.now();
      expect((await get(d)).body).toBe('fast');
      latencies.push(performance.now() - started);
    }
    // Each request waited at most one per-try timeout (plus a backoff) before going elsewhere.
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    expect(condition(d, hole.address)).toBe('ejected');
    // Once ejected, the hole gets no more attempts: requests are fast again.
    const connectionsBefore = hole.hits;
    for (let i = 0; i < 5; i++) await get(d);
    expect(hole.hits).toBe(connectionsBefore);
    expect(d.balancer.stats().totalInFlight).toBe(0);
  });

  it('without retries, the Pool headersTimeout bounds a black-hole request with undici HeadersTimeoutError', async () => {
    const hole = await blackHoleServer();
    fx.server(hole);
    const d = new BalancedDispatcher({
      balancer: { endpoints: [hole.address] },
      pool: { headersTimeout: 100 },
    });
    fx.dispatcher(d);
    const started = performance.now();
    const err = await get(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(undici.errors.HeadersTimeoutError);
    expect(err).toMatchObject({ endpoint: hole.address });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(d.balancer.stats().endpoints[0]!.failures).toBe(1);
  });
});
