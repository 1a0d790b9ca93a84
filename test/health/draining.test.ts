/**
 * Draining: a removed endpoint gets no new picks, its outstanding leases release normally, `drained` fires when the
 * last one is back; `close()` waits for leases up to `closeTimeoutMs`.
 */
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { Lease } from '../../src/balancer/lease.js';
import { ManualClock } from '../../src/clock.js';
import type { Endpoint } from '../../src/endpoint.js';
import { seededRandom } from '../../src/random.js';
import { boundedFind } from '../helpers/bounded.js';

function leaseOn(b: Balancer, address: string): Lease {
  const others: Lease[] = [];
  const lease = boundedFind(
    () => {
      const picked = b.pick()!;
      if (picked.endpoint.address === address) return picked;
      others.push(picked);
      return undefined;
    },
    1_000,
    `picking ${address}`,
  );
  for (const o of others) o.release();
  return lease;
}

describe('draining a removed endpoint', () => {
  it('no new picks; outstanding leases finish; drained fires after the last release', () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: ['10.0.0.1:80', '10.0.0.2:80'],
      policy: 'round_robin',
      clock,
      random: seededRandom(1),
    });
    const drained: Endpoint[] = [];
    b.on('drained', (e) => drained.push(e));
    const first = leaseOn(b, '10.0.0.1:80');
    const second = leaseOn(b, '10.0.0.1:80');
    b.setEndpoints(['10.0.0.2:80']);
    expect(b.stats().endpoints.find((e) => e.address === '10.0.0.1:80')!.condition).toBe('draining');
    for (let i = 0; i < 20; i++) {
      const lease = b.pick()!;
      expect(lease.endpoint.address).toBe('10.0.0.2:80');
      lease.release();
    }
    first.release({ ok: false, failure: 'reset' });
    expect(drained).toHaveLength(0);
    second.release();
    expect(drained.map((e) => e.address)).toEqual(['10.0.0.1:80']);
    expect(b.stats().endpoints.map((e) => e.address)).toEqual(['10.0.0.2:80']);
  });

  it('an endpoint with no leases drains at once', () => {
    const b = new Balancer({ endpoints: ['10.0.0.1:80', '10.0.0.2:80'], random: seededRandom(2) });
    const drained: string[] = [];
    b.on('drained', (e) => drained.push(e.address));
    b.setEndpoints(['10.0.0.2:80']);
    expect(drained).toEqual(['10.0.0.1:80']);
  });

  it('released outcomes on a draining endpoint do not reach outlier detection (its record is gone)', () => {
    const b = new Balancer({
      endpoints: ['10.0.0.1:80', '10.0.0.2:80'],
      policy: 'round_robin',
      random: seededRandom(3),
      outlierDetection: { consecutive5xx: 1 },
    });
    const lease = leaseOn(b, '10.0.0.1:80');
    b.setEndpoints(['10.0.0.2:80']);
    lease.release({ ok: false, failure: 'status', status: 500 });
    expect(b.health.outlierDetector!.ejectedCount).toBe(0);
  });
});

describe('close()', () => {
  it('stops picking at once and resolves true when the last lease is released', async () => {
    const clock = new ManualClock();
    const b = new Balancer({ endpoints: ['10.0.0.1:80'], clock, closeTimeoutMs: 5_000 });
    const lease = b.pick()!;
    let result: boolean | undefined;
    const closing = b.close().then((r) => (result = r));
    await Promise.resolve();
    expect(b.pick()).toBeUndefined();
    clock.advance(4_999);
    await Promise.resolve();
    expect(result).toBeUndefined();
    lease.release();
    await closing;
    expect(result).toBe(true);
  });

  it('resolves false at closeTimeoutMs when a lease is never released', async () => {
    const clock = new ManualClock();
    const b = new Balancer({ endpoints: ['10.0.0.1:80'], clock, closeTimeoutMs: 5_000 });
    b.pick();
    let result: boolean | undefined;
    const closing = b.close().then((r) => (result = r));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    clock.advance(4_999);
    await Promise.resolve();
    expect(result).toBeUndefined();
    clock.advance(1);
    await closing;
    expect(result).toBe(false);
  });

  it('resolves true at once with nothing in flight, and closes the health extensions', async () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: ['10.0.0.1:80'],
      clock,
      outlierDetection: true,
      slowStart: { windowMs: 10_000 },
      healthCheck: { intervalMs: 1_000 },
    });
    expect(clock.pendingTimers).toBeGreaterThan(0);
    expect(await b.close()).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});
