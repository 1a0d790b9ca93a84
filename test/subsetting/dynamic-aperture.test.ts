/**
 * Dynamic aperture (src/subsetting/dynamic-aperture.ts) through a real Balancer on a manual clock: the subset widens
 * while its members are busy, up to maxAperture, keeps its members when it widens, narrows back when idle, and holds
 * still inside the load band.
 */
import { describe, expect, it } from 'vitest';
import { backendAddresses } from '../../benchmarks/subsetting/fleet.js';
import { Balancer } from '../../src/balancer/balancer.js';
import type { Lease } from '../../src/balancer/lease.js';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { grpcSubset } from '../../src/grpc/subset.js';

function dynamicBalancer(clock: ManualClock, dynamic: object = {}) {
  return new Balancer({
    endpoints: backendAddresses(40),
    clock,
    subset: {
      kind: 'aperture',
      coordinate: { index: 3, count: 1000 },
      minAperture: 4,
      maxAperture: 10,
      dynamic,
    },
  });
}

/** Advances in sample steps until `done` or `maxSteps`; returns the steps taken. */
function advanceUntil(clock: ManualClock, done: () => boolean, maxSteps: number): number {
  for (let step = 1; step <= maxSteps; step++) {
    clock.advance(500);
    if (done()) return step;
  }
  return maxSteps + 1;
}

describe('dynamic aperture', () => {
  it('widens while the subset is busy, up to maxAperture, keeping its members; narrows back when idle', () => {
    const clock = new ManualClock();
    const balancer = dynamicBalancer(clock);
    const subset = balancer.subset!;
    const initial = [...subset.members];
    expect(subset.aperture).toBe(4);
    const leases: Lease[] = [];
    for (let i = 0; i < 40; i++) leases.push(balancer.pick()!);
    expect(advanceUntil(clock, () => subset.aperture === 10, 200)).toBeLessThanOrEqual(200);
    expect(subset.members.length).toBeGreaterThanOrEqual(10);
    for (const address of initial) expect(subset.members).toContain(address);
    // Stays within its bound while still busy.
    advanceUntil(clock, () => false, 20);
    expect(subset.aperture).toBe(10);
    for (const lease of leases) lease.release({ ok: true, latencyMs: 1 });
    expect(advanceUntil(clock, () => subset.aperture === 4, 400)).toBeLessThanOrEqual(400);
    expect(subset.members).toEqual(initial);
    void balancer.close();
  });

  it('holds still while the load per member stays inside the band', () => {
    const clock = new ManualClock();
    const balancer = dynamicBalancer(clock);
    // 4 in flight on an aperture of 4: one per member, between lowLoad 0.5 and highLoad 2.
    for (let i = 0; i < 4; i++) balancer.pick();
    advanceUntil(clock, () => false, 60);
    expect(balancer.subset!.aperture).toBe(4);
    expect(balancer.subset!.load).toBeGreaterThan(0.5);
    void balancer.close();
  });

  it('stops with the Balancer', async () => {
    const clock = new ManualClock();
    const balancer = dynamicBalancer(clock, { sampleMs: 100 });
    for (let i = 0; i < 40; i++) balancer.pick();
    // The leases stay out, so close() waits for them (until its timeout on the manual clock); its first steps,
    // closing the resolver and the subset, run at once.
    const closing = balancer.close();
    await new Promise((resolve) => setImmediate(resolve));
    const aperture = balancer.subset!.aperture;
    advanceUntil(clock, () => false, 40);
    expect(balancer.subset!.aperture).toBe(aperture);
    clock.advance(60_000);
    expect(await closing).toBe(false);
  });

  it('rejects bad bounds, naming the field, and the grpc-js policy refuses it', () => {
    const clock = new ManualClock();
    expect(() => dynamicBalancer(clock, { lowLoad: 2, highLoad: 1 })).toThrow(/subset\.dynamic\.highLoad/);
    expect(() => dynamicBalancer(clock, { smoothingMs: 10 })).toThrow(/subset\.dynamic\.smoothingMs/);
    expect(() => dynamicBalancer(clock, { band: 1 })).toThrow(ConfigError);
    expect(() => grpcSubset({ kind: 'aperture', dynamic: {} })).toThrow(/balancer\.subset\.dynamic/);
  });
});
