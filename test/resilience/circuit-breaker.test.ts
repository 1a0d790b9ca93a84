import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { Lease } from '../../src/balancer/lease.js';
import { PendingLimit } from '../../src/balancer/limits.js';
import { ManualClock } from '../../src/clock.js';
import { isOverflowError, OverflowError } from '../../src/errors/overflow-error.js';
import { SwitchyardError } from '../../src/errors/switchyard-error.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { execute } from '../../src/resilience/executor.js';
import { ExecutorStats } from '../../src/resilience/executor-stats.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { classifyFake, expectConfigError, type FakeReply, fakeBalancer } from './helpers.js';

function leases(balancer: Balancer, n: number): Lease[] {
  const out: Lease[] = [];
  for (let i = 0; i < n; i++) {
    const lease = balancer.tryPick();
    if (typeof lease === 'string') throw new Error(`pick ${i} failed: ${lease}`);
    out.push(lease);
  }
  return out;
}

describe('Balancer circuitBreaker option', () => {
  it('is off when absent, and applies Envoy defaults (1024 each) when given as {}', () => {
    const off = fakeBalancer(1).balancer;
    expect(off.limits).toEqual({
      maxRequests: Number.POSITIVE_INFINITY,
      maxRequestsPerEndpoint: Number.POSITIVE_INFINITY,
      maxPending: Number.POSITIVE_INFINITY,
    });
    const on = fakeBalancer(1, { circuitBreaker: {} }).balancer;
    expect(on.limits).toEqual({ maxRequests: 1024, maxRequestsPerEndpoint: 1024, maxPending: 1024 });
  });

  it.each([
    [{ maxRequests: 0 }, 'circuitBreaker.maxRequests: expected an integer from 1 to 1000000000, got 0'],
    [
      { maxRequestsPerEndpoint: 1.5 },
      'circuitBreaker.maxRequestsPerEndpoint: expected an integer from 1 to 1000000000',
    ],
    [{ maxPending: -1 }, 'circuitBreaker.maxPending: expected an integer from 0 to 1000000000, got -1'],
    [{ maxRetries: 3 }, 'circuitBreaker.maxRetries: expected one of the known options'],
    [1024, 'circuitBreaker: expected an object, got 1024'],
  ])('rejects %j', (circuitBreaker, message) => {
    expectConfigError(
      () => new Balancer({ endpoints: ['127.0.0.1:1'], circuitBreaker: circuitBreaker as never }),
      message,
    );
  });

  it('maxRequests: tryPick answers overflow at the balancer-wide limit, and recovers on release', () => {
    const { balancer } = fakeBalancer(3, { circuitBreaker: { maxRequests: 4 } });
    const held = leases(balancer, 4);
    expect(balancer.tryPick()).toBe('overflow');
    expect(balancer.overflowLimit).toBe('maxRequests');
    expect(balancer.pick()).toBeUndefined();
    held[0]!.release();
    expect(typeof balancer.tryPick()).toBe('object');
  });

  it('maxRequestsPerEndpoint: picks skip full endpoints, overflow only when all are full', () => {
    const { balancer } = fakeBalancer(3, { circuitBreaker: { maxRequestsPerEndpoint: 2 } });
    const held = leases(balancer, 6);
    const perEndpoint = balancer.stats().endpoints.map((e) => e.inFlight);
    expect(perEndpoint).toEqual([2, 2, 2]);
    expect(balancer.tryPick()).toBe('overflow');
    expect(balancer.overflowLimit).toBe('maxRequestsPerEndpoint');
    held[4]!.release();
    const next = balancer.tryPick();
    expect(typeof next).toBe('object');
    expect((next as Lease).endpoint.address).toBe(held[4]!.endpoint.address);
  });

  it('applies the per-endpoint limit to endpoints added later', () => {
    const { balancer } = fakeBalancer(1, { circuitBreaker: { maxRequestsPerEndpoint: 1 } });
    balancer.setEndpoints(['10.0.0.1:80', '10.0.0.9:80']);
    leases(balancer, 2);
    expect(balancer.tryPick()).toBe('overflow');
  });
});

describe('overflow through execute', () => {
  it('fails fast with a typed OverflowError, makes no call, and publishes it', async () => {
    const { balancer } = fakeBalancer(2, { circuitBreaker: { maxRequests: 2 } });
    const held = leases(balancer, 2);
    const overflows: unknown[] = [];
    const listener = (m: unknown) => overflows.push(m);
    diagnosticsChannel.subscribe(channelNames.overflow, listener);
    const retry = new RetryPolicy({}, { random: seededRandom(1) });
    let calls = 0;
    const error = await execute<FakeReply>({
      balancer,
      attempt: async () => {
        calls++;
        throw new Error('unreachable');
      },
      classify: classifyFake,
      idempotent: true,
      replayable: true,
      retry,
    }).catch((e: unknown) => e);
    diagnosticsChannel.unsubscribe(channelNames.overflow, listener);
    expect(isOverflowError(error)).toBe(true);
    expect(error).toBeInstanceOf(OverflowError);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({ code: 'SY_ERR_OVERFLOW', balancer: 'default', limit: 'maxRequests' });
    expect(calls).toBe(0);
    expect(overflows).toEqual([{ balancer: 'default', limit: 'maxRequests', hedge: false }]);
    expect(retry.stats().overflow).toBe(1);
    for (const lease of held) lease.release();
  });

  it('names the per-endpoint limit when every endpoint is full', async () => {
    const { balancer } = fakeBalancer(2, { circuitBreaker: { maxRequestsPerEndpoint: 1 } });
    leases(balancer, 2);
    const error = await execute<FakeReply>({
      balancer,
      attempt: async () => ({ status: 200, address: '', discarded: false }),
      classify: classifyFake,
      idempotent: true,
      replayable: true,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SY_ERR_OVERFLOW', limit: 'maxRequestsPerEndpoint' });
  });

  it("counts into the caller's ExecutorStats when given, else into the retry policy's (compatible stats())", async () => {
    const { balancer } = fakeBalancer(1, { circuitBreaker: { maxRequests: 1 } });
    const held = leases(balancer, 1);
    const retry = new RetryPolicy({}, { random: seededRandom(1) });
    const run = (stats?: ExecutorStats) =>
      execute<FakeReply>({
        balancer,
        attempt: async () => ({ status: 200, address: '', discarded: false }),
        classify: classifyFake,
        idempotent: true,
        replayable: true,
        retry,
        ...(stats === undefined ? {} : { stats }),
      }).catch((e: unknown) => e);
    const own = new ExecutorStats();
    await run(own);
    await run(own);
    expect(own.snapshot()).toEqual({ overflow: 2, noEndpoint: 0, throttled: 0, deadlineExceeded: 0 });
    expect(retry.stats().overflow).toBe(0);
    await run();
    expect(retry.stats().overflow).toBe(1);
    expect(retry.counters).toBe(retry.executorStats);
    expect(own.overflow).toBe(2);
    held[0]!.release();
  });

  it('a retry that overflows fails with OverflowError carrying the previous failure as cause', async () => {
    const clock = new ManualClock();
    const { balancer } = fakeBalancer(2, { clock, circuitBreaker: { maxRequests: 1 } });
    const retry = new RetryPolicy({ backoff: { baseMs: 1, maxMs: 1 } }, { random: seededRandom(2) });
    const first = new Error('reset');
    const run = execute<FakeReply>({
      balancer,
      attempt: async () => {
        throw Object.assign(first, { code: 'ECONNRESET' });
      },
      classify: classifyFake,
      idempotent: true,
      replayable: true,
      retry,
    }).catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    // The failed attempt's lease is back; someone else takes the only slot before the retry fires.
    const other = balancer.pick();
    expect(other).toBeDefined();
    clock.advance(1);
    const error = await run;
    expect(error).toMatchObject({ code: 'SY_ERR_OVERFLOW', limit: 'maxRequests' });
    expect((error as Error).cause).toBe(first);
    other?.release();
  });
});

describe('PendingLimit', () => {
  it('admits up to max pending requests and counts refusals', () => {
    const limit = new PendingLimit(2);
    expect(limit.tryEnter()).toBe(true);
    expect(limit.tryEnter()).toBe(true);
    expect(limit.tryEnter()).toBe(false);
    expect(limit.pending).toBe(2);
    limit.leave();
    expect(limit.tryEnter()).toBe(true);
    expect(limit.overflowed).toBe(1);
    limit.leave();
    limit.leave();
    limit.leave();
    expect(limit.pending).toBe(0);
  });

  it('maxPending 0 refuses every queued request', () => {
    expect(new PendingLimit(0).tryEnter()).toBe(false);
  });
});
