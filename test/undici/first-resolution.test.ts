/**
 * Requests sent before the first resolution (defect 8): they wait for the resolver's first answer, bounded by the
 * dispatcher's `readyTimeoutMs` and the request's own `headersTimeout`; `ready()` waits explicitly.
 */
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { NoEndpointAvailableError } from '../../src/undici/errors.js';
import { manualResolver } from '../helpers/manual-resolver.js';
import { useFixture } from './fixture.js';

const { errors, request } = undici;
const fx = useFixture();

const get = (d: undici.Dispatcher, opts: Partial<undici.Dispatcher.RequestOptions> = {}) =>
  request('http://svc.internal/', { dispatcher: d, ...opts } as never).then(async (res) => ({
    status: res.statusCode,
    body: await res.body.text(),
  }));

describe('Balancer.ready()', () => {
  it('resolves true at once for static endpoints, and on the first good update for a resolver', async () => {
    expect(await new Balancer({ endpoints: [] }).ready()).toBe(true);
    const clock = new ManualClock();
    const resolver = manualResolver();
    const balancer = new Balancer({ resolver, clock });
    expect(balancer.resolved).toBe(false);
    const waiting = balancer.ready(1_000);
    resolver.listener!.onUpdate({ endpoints: 'bad' as never }); // rejected: still not resolved
    resolver.listener!.onUpdate({ endpoints: ['10.0.0.1:80'] });
    expect(await waiting).toBe(true);
    expect(balancer.resolved).toBe(true);
  });

  it('resolves false on timeout, on a resolver error before the first answer, and on close', async () => {
    const clock = new ManualClock();
    const resolver = manualResolver();
    const balancer = new Balancer({ resolver, clock });
    const timedOut = balancer.ready(500);
    clock.advance(499);
    const erred = balancer.ready(10_000);
    clock.advance(1);
    expect(await timedOut).toBe(false);
    resolver.listener!.onError(new Error('SERVFAIL'));
    expect(await erred).toBe(false);
    const closing = balancer.ready(10_000);
    await balancer.close();
    expect(await closing).toBe(false);
    expect(() => balancer.ready(-1)).toThrow(/timeoutMs/);
  });
});

describe('BalancedDispatcher before the first resolution', () => {
  for (const retry of [false, true]) {
    it(`holds requests until the resolver answers, then sends them (retry ${retry})`, async () => {
      const [backend] = await fx.fast(1);
      const resolver = manualResolver();
      const d = fx.dispatcher(
        new BalancedDispatcher({ balancer: { resolver }, ...(retry ? { retry: {} } : {}) }),
      );
      const pending = Promise.all(Array.from({ length: 5 }, () => get(d)));
      setTimeout(() => resolver.listener!.onUpdate({ endpoints: [backend!.address] }), 50);
      expect(await pending).toEqual(Array.from({ length: 5 }, () => ({ status: 200, body: 's0' })));
      expect(await d.ready()).toBe(true);
    });
  }

  it('gives up after readyTimeoutMs, or the request’s own headersTimeout when shorter', async () => {
    const d = fx.dispatcher(
      new BalancedDispatcher({ balancer: { resolver: manualResolver() }, readyTimeoutMs: 100 }),
    );
    let started = performance.now();
    await expect(get(d)).rejects.toBeInstanceOf(NoEndpointAvailableError);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(2_000);
    const patient = fx.dispatcher(new BalancedDispatcher({ balancer: { resolver: manualResolver() } }));
    started = performance.now();
    await expect(get(patient, { headersTimeout: 50 })).rejects.toBeInstanceOf(NoEndpointAvailableError);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(() => new BalancedDispatcher({ balancer: { endpoints: [] }, readyTimeoutMs: -1 })).toThrow(
      /readyTimeoutMs/,
    );
  });

  it('close() lets waiting requests finish once the resolver answers; destroy() fails them at once', async () => {
    const [backend] = await fx.fast(1);
    const resolver = manualResolver();
    const d = fx.dispatcher(new BalancedDispatcher({ balancer: { resolver } }));
    const pending = get(d);
    const closed = d.close();
    setTimeout(() => resolver.listener!.onUpdate({ endpoints: [backend!.address] }), 30);
    expect(await pending).toEqual({ status: 200, body: 's0' });
    await closed;

    const shared = new Balancer({ resolver: manualResolver() });
    const e = new BalancedDispatcher({ balancer: shared });
    const doomed = get(e).catch((err: unknown) => err);
    const started = performance.now();
    await e.destroy();
    expect(await doomed).toBeInstanceOf(errors.ClientDestroyedError);
    expect(performance.now() - started).toBeLessThan(1_000);
    await shared.close();
  });
});
