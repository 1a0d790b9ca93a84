import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { Outcome } from '../../src/balancer/outcome.js';
import { ManualClock } from '../../src/clock.js';
import { parseSlowStart } from '../../src/health/options.js';
import { slowStartFactor } from '../../src/health/slow-start.js';
import { seededRandom } from '../../src/random.js';
import { boundedWhile } from '../helpers/bounded.js';

const options = (o: object) => parseSlowStart({ windowMs: 10_000, ...o }, 'slowStart')!;

describe('slowStartFactor (Envoy: max(min%, (t / window)^(1 / aggression)))', () => {
  it('linear with aggression 1, floored at minWeightPercent, 1 from the end of the window', () => {
    const o = options({});
    expect(slowStartFactor(0, o)).toBe(0.1);
    expect(slowStartFactor(999, o)).toBe(0.1);
    expect(slowStartFactor(1_000, o)).toBe(0.1);
    expect(slowStartFactor(2_500, o)).toBe(0.25);
    expect(slowStartFactor(5_000, o)).toBe(0.5);
    expect(slowStartFactor(9_999, o)).toBeCloseTo(0.9999, 6);
    expect(slowStartFactor(10_000, o)).toBe(1);
  });

  it('aggression 2 ramps faster early (square root)', () => {
    const o = options({ aggression: 2 });
    expect(slowStartFactor(2_500, o)).toBeCloseTo(0.5, 10);
    expect(slowStartFactor(6_400, o)).toBeCloseTo(0.8, 10);
  });

  it('aggression 0.5 ramps slowly (square), min weight 1 %', () => {
    const o = options({ aggression: 0.5, minWeightPercent: 1 });
    expect(slowStartFactor(5_000, o)).toBeCloseTo(0.25, 10);
    expect(slowStartFactor(500, o)).toBeCloseTo(0.01, 10);
  });

  it('validates: windowMs is required, ranges are named', () => {
    expect(() => parseSlowStart({}, 'slowStart')).toThrow(
      'slowStart.windowMs: expected a number from 1 to 86400000',
    );
    expect(() => parseSlowStart({ windowMs: 1000, aggression: 0 }, 'slowStart')).toThrow(
      'slowStart.aggression: expected a number > 0 and <= 100, got 0',
    );
    expect(parseSlowStart({ windowMs: 60_000 }, 'slowStart')!.updateIntervalMs).toBe(1_000);
    expect(parseSlowStart({ windowMs: 2_000 }, 'slowStart')!.updateIntervalMs).toBe(200);
  });
});

describe('slow start in the Balancer', () => {
  function weightOf(b: Balancer, address: string): number {
    return b.stats().endpoints.find((e) => e.address === address)!.effectiveWeight;
  }

  it('a newly added endpoint ramps 10 % → 100 % over the window, rebuilt every updateIntervalMs', () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: ['10.0.0.1:80', '10.0.0.2:80'],
      policy: 'weighted_round_robin',
      clock,
      random: seededRandom(1),
      slowStart: { windowMs: 10_000 },
    });
    clock.advance(20_000);
    expect(weightOf(b, '10.0.0.1:80')).toBe(1);
    b.setEndpoints(['10.0.0.1:80', '10.0.0.2:80', { host: '10.0.0.3', port: 80, weight: 4 }]);
    const pickers: number[] = [];
    b.on('picker', () => pickers.push(clock.now()));
    const curve: number[] = [];
    for (let t = 0; t <= 10_000; t += 2_000) {
      curve.push(weightOf(b, '10.0.0.3:80'));
      clock.advance(2_000);
    }
    // Weight 4 × max(0.1, t / 10 s), recomputed at each rebuild.
    expect(curve.map((w) => Math.round(w * 1000) / 1000)).toEqual([0.4, 0.8, 1.6, 2.4, 3.2, 4]);
    // Rebuilt once a second during the window, then no more.
    expect(pickers.length).toBe(10);
    clock.advance(10_000);
    expect(pickers.length).toBe(10);
  });

  it('the ramp shows in the traffic share', () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: ['10.0.0.1:80'],
      policy: 'random',
      clock,
      random: seededRandom(2),
      slowStart: { windowMs: 10_000 },
    });
    clock.advance(20_000);
    b.setEndpoints(['10.0.0.1:80', '10.0.0.2:80']);
    clock.advance(3_000);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) {
      const lease = b.pick()!;
      if (lease.endpoint.address === '10.0.0.2:80') hits++;
      lease.release();
    }
    // Weights 1 : 0.3 → 23.1 %.
    expect(Math.abs(hits / 10_000 - 0.3 / 1.3)).toBeLessThan(0.015);
  });

  it('an endpoint returning from ejection re-enters slow start', () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'],
      policy: 'round_robin',
      clock,
      random: seededRandom(3),
      slowStart: { windowMs: 10_000 },
      outlierDetection: { intervalMs: 1_000, maxEjectionPercent: 50 },
    });
    clock.advance(20_000);
    const fail: Outcome = { ok: false, failure: 'status', status: 500 };
    let failures = 0;
    boundedWhile(
      () => failures < 5,
      () => {
        const lease = b.pick()!;
        if (lease.endpoint.address === '10.0.0.1:80') {
          lease.release(fail);
          failures++;
        } else lease.release();
      },
      1_000,
      'failing 10.0.0.1 five times',
    );
    expect(b.stats().endpoints[0]!.condition).toBe('ejected');
    clock.advance(30_000);
    expect(b.stats().endpoints[0]!.condition).toBe('routable');
    expect(weightOf(b, '10.0.0.1:80')).toBe(0.1);
    clock.advance(5_000);
    expect(weightOf(b, '10.0.0.1:80')).toBe(0.5);
    clock.advance(5_000);
    expect(weightOf(b, '10.0.0.1:80')).toBe(1);
  });

  it('close() cancels the rebuild timer', async () => {
    const clock = new ManualClock();
    const b = new Balancer({ endpoints: ['10.0.0.1:80'], clock, slowStart: { windowMs: 10_000 } });
    expect(clock.pendingTimers).toBe(1);
    await b.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('slow start memory under endpoint churn (defect 9)', () => {
  it('remembers only listed endpoints after 20,000 endpoint-set replacements', () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: ['10.0.0.1:80'],
      policy: 'random',
      clock,
      random: seededRandom(5),
      slowStart: { windowMs: 10_000 },
    });
    const slowStart = b.health.slowStart!;
    for (let i = 0; i < 20_000; i++) {
      const a = i % 250;
      b.setEndpoints([`10.1.${a}.${i % 200}:80`, `10.2.${a}.${(i + 1) % 200}:80`, '10.0.0.1:80']);
    }
    expect(b.stats().endpoints).toHaveLength(3);
    expect(slowStart.trackedCount).toBeLessThanOrEqual(3);
    // Still works: a fresh endpoint ramps, an old one is at full weight.
    clock.advance(5_000);
    b.setEndpoints(['10.0.0.1:80', '10.9.9.9:80']);
    const weights = Object.fromEntries(b.stats().endpoints.map((e) => [e.address, e.effectiveWeight]));
    expect(weights['10.9.9.9:80']).toBeLessThan(1);
    void b.close();
  });
});
