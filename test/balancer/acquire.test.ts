/**
 * The Lease-free path (`acquire` / `tryAcquire` / `complete`) keeps the Lease's semantics: the same picks, counts,
 * latency estimates, health verdicts and drain/close behaviour, driven by the same requests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer, type EndpointHandle } from '../../src/balancer/balancer.js';
import type { Lease } from '../../src/balancer/lease.js';
import { CANCELLED, type FailureKind, type Outcome } from '../../src/balancer/outcome.js';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { checkProperty } from '../helpers/properties.js';

function balancer(extra: Record<string, unknown> = {}, endpoints = ['a:1', 'b:1', 'c:1']) {
  const clock = new ManualClock(0);
  const b = new Balancer({ endpoints, random: seededRandom(3), clock, ...extra });
  return { b, clock };
}

describe('acquire / complete', () => {
  it('counts the request in flight from acquire to complete, and in the lifetime counters', () => {
    const { b } = balancer({ policy: 'round_robin' }, ['a:1']);
    const handle = b.acquire({ now: 0 })!;
    expect(handle.address).toBe('a:1');
    expect(handle.endpoint.port).toBe(1);
    expect(b.stats()).toMatchObject({ totalInFlight: 1, endpoints: [{ inFlight: 1, picks: 1 }] });
    b.complete(handle, { ok: true, latencyMs: 5, now: 5 }, 0);
    const second = b.acquire()!;
    b.complete(second, CANCELLED, 5);
    const third = b.acquire()!;
    b.complete(third, { ok: false, failure: 'status', status: 503 }, 5);
    expect(b.stats()).toMatchObject({
      totalInFlight: 0,
      endpoints: [{ inFlight: 0, picks: 3, successes: 1, failures: 1 }],
    });
  });

  it('says why nothing was acquired: unavailable, or overflow naming the limit', async () => {
    const { b } = balancer({ circuitBreaker: { maxRequests: 2, maxRequestsPerEndpoint: 1 } }, ['a:1']);
    const first = b.tryAcquire({ now: 0 }) as EndpointHandle;
    expect(typeof first).toBe('object');
    expect(b.tryAcquire({ now: 0 })).toBe('overflow');
    expect(b.overflowLimit).toBe('maxRequestsPerEndpoint');
    expect(b.acquire({ now: 0 })).toBeUndefined();
    b.complete(first, { ok: true, latencyMs: 1 }, 0);
    b.setEndpoints([]);
    expect(b.tryAcquire({ now: 0 })).toBe('unavailable');
    expect(b.acquire()).toBeUndefined();
    const { b: full } = balancer({ circuitBreaker: { maxRequests: 1 } });
    full.acquire({ now: 0 });
    expect(full.tryAcquire({ now: 0 })).toBe('overflow');
    expect(full.overflowLimit).toBe('maxRequests');
    await b.close();
    expect(b.tryAcquire()).toBe('unavailable');
  });

  it('a completion on an endpoint with nothing in flight throws outside production and changes no count', () => {
    const { b } = balancer({ policy: 'round_robin' }, ['a:1']);
    const handle = b.acquire({ now: 0 })!;
    b.complete(handle, { ok: true, latencyMs: 1, now: 1 }, 0);
    expect(() => b.complete(handle, { ok: true, latencyMs: 1, now: 1 }, 0)).toThrow(
      /complete\(\) on a:1 with no request in flight/,
    );
    expect(b.stats()).toMatchObject({ totalInFlight: 0, endpoints: [{ inFlight: 0, successes: 1 }] });
  });

  it('feeds outlier detection: five consecutive failures eject the endpoint', () => {
    const { b } = balancer({ policy: 'round_robin', outlierDetection: true }, ['a:1', 'b:1']);
    for (let i = 0; i < 10; i++) {
      const handle = b.acquire({ now: i })!;
      const outcome: Outcome =
        handle.address === 'a:1'
          ? { ok: false, failure: 'connect', latencyMs: 1, now: i + 1 }
          : { ok: true, latencyMs: 1, now: i + 1 };
      b.complete(handle, outcome, i);
    }
    expect(b.health.outlierDetector?.ejectedCount).toBe(1);
    expect(b.stats().endpoints.find((e) => e.address === 'a:1')!.condition).toBe('ejected');
  });

  it('measures the latency from startedAt with the clock when the outcome carries none', () => {
    const { b, clock } = balancer({ policy: 'p2c_peak_ewma' }, ['a:1']);
    const startedAt = clock.now();
    const handle = b.acquire({ now: startedAt })!;
    clock.advance(40);
    b.complete(handle, { ok: true }, startedAt);
    expect(b.stats().endpoints[0]!.latencyEstimateMs).toBeCloseTo(40, 6);
  });

  it('a removed endpoint drains when its last acquired request completes, and close() waits for it', async () => {
    const { b } = balancer({ policy: 'round_robin' }, ['a:1']);
    const drained: string[] = [];
    b.on('drained', (e) => drained.push(e.address));
    const handle = b.acquire({ now: 0 })!;
    b.setEndpoints([]);
    expect(drained).toEqual([]);
    let closed: boolean | undefined;
    const closing = b.close().then((r) => (closed = r));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(closed).toBeUndefined();
    b.complete(handle, { ok: true, latencyMs: 1, now: 1 }, 0);
    expect(drained).toEqual(['a:1']);
    await closing;
    expect(closed).toBe(true);
  });

  type Step =
    | { kind: 'start'; hashKey: number }
    | { kind: 'end'; index: number; outcome: number; latencyMs: number; givesNow: boolean }
    | { kind: 'advance'; ms: number }
    | { kind: 'remove' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('start' as const), hashKey: fc.nat(50) }),
    fc.record({
      kind: fc.constant('end' as const),
      index: fc.nat(),
      outcome: fc.nat(7),
      latencyMs: fc.double({ min: 0, max: 500, noNaN: true }),
      givesNow: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 2_000 }) }),
    fc.constant({ kind: 'remove' as const }),
  );
  const FAILURES: readonly FailureKind[] = [
    'connect',
    'reset',
    'timeout',
    'status',
    'overloaded',
    'cancelled',
  ];

  function outcomeOf(s: Step & { kind: 'end' }, now: number): Outcome {
    const timing = s.givesNow ? { latencyMs: s.latencyMs, now: now + s.latencyMs } : {};
    if (s.outcome >= FAILURES.length) return { ok: true, ...timing };
    const failure = FAILURES[s.outcome]!;
    return { ok: false, failure, ...timing, ...(failure === 'status' ? { status: 503 } : {}) };
  }

  it.each(['round_robin', 'least_request', 'p2c_robust_ewma', 'ring_hash'])(
    '%s: any sequence of requests leaves the same state through acquire/complete as through leases',
    (policy) => {
      checkProperty(
        fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
          const options = { policy, outlierDetection: { consecutive5xx: 3 }, slowStart: { windowMs: 5_000 } };
          const endpoints = ['a:1', 'b:1', 'c:1', 'd:1', 'e:1'];
          const withLease = balancer(options, endpoints);
          const withHandle = balancer(options, endpoints);
          const drained: string[][] = [[], []];
          withLease.b.on('drained', (e) => drained[0]!.push(e.address));
          withHandle.b.on('drained', (e) => drained[1]!.push(e.address));
          const leases: Lease[] = [];
          const handles: { handle: EndpointHandle; startedAt: number }[] = [];
          for (const s of steps) {
            const now = withLease.clock.now();
            if (s.kind === 'start') {
              const ctx = { now, hashKey: `k${s.hashKey}` };
              const lease = withLease.b.tryPick(ctx);
              const handle = withHandle.b.tryAcquire(ctx);
              if (typeof lease === 'string') {
                expect(handle).toBe(lease);
                continue;
              }
              expect((handle as EndpointHandle).address).toBe(lease.endpoint.address);
              leases.push(lease);
              handles.push({ handle: handle as EndpointHandle, startedAt: now });
            } else if (s.kind === 'end' && leases.length > 0) {
              const i = s.index % leases.length;
              const outcome = outcomeOf(s, now);
              leases.splice(i, 1)[0]!.release(outcome);
              const { handle, startedAt } = handles.splice(i, 1)[0]!;
              withHandle.b.complete(handle, outcome, startedAt);
            } else if (s.kind === 'advance') {
              withLease.clock.advance(s.ms);
              withHandle.clock.advance(s.ms);
            } else if (s.kind === 'remove') {
              const keep = endpoints.slice(1 + (steps.indexOf(s) % 3));
              withLease.b.setEndpoints(keep);
              withHandle.b.setEndpoints(keep);
            }
            expect(withHandle.b.stats()).toEqual(withLease.b.stats());
          }
          expect(drained[1]).toEqual(drained[0]);
        }),
        { seed: 17, numRuns: 60 },
      );
    },
  );
});
