import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { Outcome } from '../../src/balancer/outcome.js';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import {
  defaultOutlierDetectionOptions,
  type OutlierDetectionConfig,
  parseOutlierDetection,
} from '../../src/health/options.js';
import { OutlierDetector } from '../../src/health/outlier-detection.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { boundedFind, boundedWhile } from '../helpers/bounded.js';
import { collect, harness } from './harness.js';

const ERROR_500: Outcome = { ok: false, failure: 'status', status: 500 };
const ERROR_503: Outcome = { ok: false, failure: 'status', status: 503 };
const CONNECT: Outcome = { ok: false, failure: 'connect' };
const OK: Outcome = { ok: true };

function setup(options: object, count = 10, seed = 1) {
  const detector = new OutlierDetector(parseOutlierDetection(options, 'outlierDetection')!);
  const h = harness(detector, count, seed);
  const report = (i: number, outcome: Outcome, times = 1) => {
    for (let k = 0; k < times; k++) detector.outcome(h.states[i]!, outcome, 1, h.clock.now());
  };
  return { detector, ...h, report };
}

describe('options', () => {
  it('true gives the Envoy defaults, false and undefined turn detection off', () => {
    expect(parseOutlierDetection(true, 'o')).toEqual(defaultOutlierDetectionOptions);
    expect(parseOutlierDetection(false, 'o')).toBeUndefined();
    expect(parseOutlierDetection(undefined, 'o')).toBeUndefined();
    expect(defaultOutlierDetectionOptions).toMatchObject({
      consecutive5xx: 5,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionTimeMs: 300_000,
      maxEjectionPercent: 10,
      enforcingConsecutiveGatewayFailure: 0,
      successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 },
      failurePercentage: { threshold: 85, minimumHosts: 5, requestVolume: 50, enforcing: 0 },
    });
  });

  it.each([
    [{ consecutive5xx: 0 }, 'outlierDetection.consecutive5xx: expected an integer from 1 to 1000000, got 0'],
    [
      { maxEjectionPercent: 101 },
      'outlierDetection.maxEjectionPercent: expected a number from 0 to 100, got 101',
    ],
    [{ intervalMs: 0 }, 'outlierDetection.intervalMs: expected a number from 1 to 86400000, got 0'],
    [
      { successRate: { stdevFactor: -1 } },
      'outlierDetection.successRate.stdevFactor: expected a number from 0 to 100, got -1',
    ],
    [
      { failurePercentage: { threshold: 'x' } },
      'outlierDetection.failurePercentage.threshold: expected a number from 0 to 100, got "x"',
    ],
    [
      { splitExternalLocalOriginErrors: 1 },
      'outlierDetection.splitExternalLocalOriginErrors: expected a boolean, got 1',
    ],
  ])('rejects %j', (options, message) => {
    expect(() => parseOutlierDetection(options, 'outlierDetection')).toThrow(ConfigError);
    expect(() => parseOutlierDetection(options, 'outlierDetection')).toThrow(message);
  });

  it('rejects unknown keys, naming them', () => {
    expect(() => parseOutlierDetection({ consecutive5XX: 3 }, 'outlierDetection')).toThrow(
      /outlierDetection\.consecutive5XX: expected one of the known options/,
    );
  });

  it('the Balancer validates outlierDetection at construction', () => {
    expect(
      () => new Balancer({ endpoints: ['127.0.0.1:1'], outlierDetection: { consecutive5xx: -1 } }),
    ).toThrow(/outlierDetection\.consecutive5xx/);
  });
});

describe('consecutive 5xx', () => {
  it('ejects on the 5th failure in a row, not the 4th', () => {
    const t = setup({});
    t.report(0, ERROR_500, 4);
    expect(t.states[0]!.ejected).toBe(false);
    t.report(0, ERROR_500);
    expect(t.states[0]!.ejected).toBe(true);
    expect(t.invalidations()).toBe(1);
  });

  it('a success in between resets the count', () => {
    const t = setup({});
    t.report(0, ERROR_500, 4);
    t.report(0, OK);
    t.report(0, ERROR_500, 4);
    expect(t.states[0]!.ejected).toBe(false);
    t.report(0, ERROR_500);
    expect(t.states[0]!.ejected).toBe(true);
  });

  it('counts locally originated failures unless split', () => {
    const t = setup({});
    t.report(0, CONNECT, 2);
    t.report(0, { ok: false, failure: 'timeout' }, 2);
    t.report(0, { ok: false, failure: 'reset' });
    expect(t.states[0]!.ejected).toBe(true);
  });

  it('enforcingConsecutive5xx 0 detects but never ejects', () => {
    const t = setup({ enforcingConsecutive5xx: 0 });
    t.report(0, ERROR_500, 20);
    expect(t.states[0]!.ejected).toBe(false);
  });
});

describe('consecutive gateway failures', () => {
  it('are not enforced by default (Envoy enforcing 0)', () => {
    const t = setup({ consecutive5xx: 100, consecutiveGatewayFailure: 3 });
    t.report(0, ERROR_503, 10);
    expect(t.states[0]!.ejected).toBe(false);
  });

  it('eject on 502/503/504, gRPC UNAVAILABLE and overloaded when enforced; a non-gateway 5xx resets', () => {
    const t = setup({
      consecutive5xx: 100,
      consecutiveGatewayFailure: 3,
      enforcingConsecutiveGatewayFailure: 100,
    });
    t.report(0, ERROR_503, 2);
    t.report(0, ERROR_500);
    t.report(0, { ok: false, failure: 'status', status: 502 });
    t.report(0, { ok: false, failure: 'status', status: 14 });
    expect(t.states[0]!.ejected).toBe(false);
    t.report(0, { ok: false, failure: 'overloaded', status: 429 });
    expect(t.states[0]!.ejected).toBe(true);
  });
});

describe('split external / local origin errors', () => {
  const split = { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 3 };

  it('local failures eject through their own counter, not through consecutive5xx', () => {
    const t = setup({ ...split, consecutiveLocalOriginFailure: 100 });
    t.report(0, CONNECT, 20);
    expect(t.states[0]!.ejected).toBe(false);
    const u = setup(split);
    u.report(0, CONNECT, 2);
    expect(u.states[0]!.ejected).toBe(false);
    u.report(0, { ok: false, failure: 'timeout' });
    expect(u.states[0]!.ejected).toBe(true);
  });

  it('an answer from the endpoint (even a 5xx) resets the local counter', () => {
    const t = setup(split);
    t.report(0, CONNECT, 2);
    t.report(0, ERROR_500);
    t.report(0, CONNECT, 2);
    expect(t.states[0]!.ejected).toBe(false);
  });

  it('externally originated failures still count toward consecutive5xx', () => {
    const t = setup(split);
    t.report(0, ERROR_500, 5);
    expect(t.states[0]!.ejected).toBe(true);
  });
});

describe('ejection time, backoff and return', () => {
  it('returns at the first sweep at or after base × 1 (boundary: 29,999 ms still ejected)', () => {
    const returned = collect(channelNames.endpointReturned);
    const t = setup({ intervalMs: 1_000 });
    t.report(0, ERROR_500, 5);
    t.clock.advance(29_999);
    expect(t.states[0]!.ejected).toBe(true);
    t.clock.advance(1);
    expect(t.states[0]!.ejected).toBe(false);
    expect(returned).toEqual([{ balancer: 'test', address: t.states[0]!.address, ejectedForMs: 30_000 }]);
  });

  it('with the default 10 s interval, an ejection mid-interval lasts until the next sweep after 30 s', () => {
    const t = setup({});
    t.clock.advance(1_000);
    t.report(0, ERROR_500, 5);
    t.clock.set(30_000);
    expect(t.states[0]!.ejected).toBe(true);
    t.clock.set(40_000);
    expect(t.states[0]!.ejected).toBe(false);
  });

  it('grows base × n for repeated ejections, capped at maxEjectionTimeMs, and shrinks per healthy interval', () => {
    const ejected = collect(channelNames.endpointEjected);
    const t = setup({ intervalMs: 1_000, baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 35_000 });
    const durations: number[] = [];
    for (let n = 0; n < 5; n++) {
      t.report(0, ERROR_500, 5);
      const start = t.clock.now();
      boundedWhile(
        () => t.states[0]!.ejected,
        () => t.clock.advance(1_000),
        400,
        'waiting for the return',
      );
      durations.push(t.clock.now() - start);
    }
    expect(durations).toEqual([10_000, 20_000, 30_000, 35_000, 35_000]);
    expect(ejected.map((m) => (m as { ejectionMs: number }).ejectionMs)).toEqual([
      10_000, 20_000, 30_000, 35_000, 35_000,
    ]);
    // The multiplier is now 5 (it grows while base × n < max + base, as in Envoy). Each healthy sweep takes one
    // off: after 3 quiet sweeps it is 2, so the next ejection lasts base × 3.
    t.clock.advance(3_000);
    t.report(0, ERROR_500, 5);
    const start = t.clock.now();
    boundedWhile(
      () => t.states[0]!.ejected,
      () => t.clock.advance(1_000),
      400,
      'waiting for the return',
    );
    expect(t.clock.now() - start).toBe(30_000);
  });

  it('adds uniform jitter up to maxEjectionTimeJitterMs', () => {
    const t = setup({ intervalMs: 100, maxEjectionTimeJitterMs: 5_000 });
    t.report(0, ERROR_500, 5);
    boundedWhile(
      () => t.states[0]!.ejected,
      () => t.clock.advance(100),
      1_000,
      'waiting for the return',
    );
    expect(t.clock.now()).toBeGreaterThanOrEqual(30_000);
    expect(t.clock.now()).toBeLessThanOrEqual(35_100);
  });

  it('resets the consecutive counters on return, so one failure after return does not re-eject', () => {
    const t = setup({ intervalMs: 1_000 });
    t.report(0, ERROR_500, 5);
    t.clock.advance(30_000);
    t.report(0, ERROR_500, 4);
    expect(t.states[0]!.ejected).toBe(false);
  });

  it('returnEndpoint ends an ejection early (a passing active check)', () => {
    const t = setup({});
    t.report(0, ERROR_500, 5);
    t.detector.returnEndpoint(t.states[0]!);
    expect(t.states[0]!.ejected).toBe(false);
    expect(t.detector.ejectedCount).toBe(0);
  });
});

describe('max ejection percent', () => {
  it('10 % of 10 endpoints: the second ejection waits until the first returns', () => {
    const t = setup({ intervalMs: 1_000 });
    t.report(0, ERROR_500, 5);
    t.report(1, ERROR_500, 5);
    expect(t.states.map((s) => s.ejected).filter(Boolean)).toHaveLength(1);
    t.clock.advance(30_000);
    expect(t.states[0]!.ejected).toBe(false);
    t.report(1, ERROR_500, 5);
    expect(t.states[1]!.ejected).toBe(true);
  });

  it('always allows one ejection, even when one endpoint is more than the percentage', () => {
    const t = setup({ maxEjectionPercent: 0 }, 3);
    t.report(0, ERROR_500, 5);
    expect(t.states[0]!.ejected).toBe(true);
    t.report(1, ERROR_500, 5);
    expect(t.states[1]!.ejected).toBe(false);
  });

  it('compares the share already ejected: 50 % of 4 allows two, not three', () => {
    const t = setup({ maxEjectionPercent: 50 }, 4);
    for (let i = 0; i < 4; i++) t.report(i, ERROR_500, 5);
    expect(t.states.map((s) => s.ejected)).toEqual([true, true, false, false]);
  });

  it('a removed endpoint frees its ejection slot', () => {
    const t = setup({}, 10);
    t.report(0, ERROR_500, 5);
    t.states[0]!.removed = true;
    t.detector.endpointRemoved(t.states[0]!);
    t.report(1, ERROR_500, 5);
    expect(t.states[1]!.ejected).toBe(true);
  });
});

/** Reports `ok` successes and `failed` failures on endpoint i. */
function load(t: ReturnType<typeof setup>, i: number, ok: number, failed: number) {
  t.report(i, OK, ok);
  // Interleave so that no consecutive rule trips.
  for (let k = 0; k < failed; k++) {
    t.report(i, ERROR_500);
    t.report(i, OK, 0);
  }
}

describe('success rate', () => {
  const noConsecutive = { consecutive5xx: 1_000_000, intervalMs: 1_000, maxEjectionPercent: 100 };

  it("ejects below mean − 1.9 × stdev (Envoy's example: {50, 100, 100, 100, 100})", () => {
    const t = setup(noConsecutive, 5);
    load(t, 0, 50, 50);
    for (let i = 1; i < 5; i++) load(t, i, 100, 0);
    t.clock.advance(1_000);
    expect(t.states.map((s) => s.ejected)).toEqual([true, false, false, false, false]);
  });

  it('needs minimumHosts endpoints with requestVolume requests each (boundary: 99 requests)', () => {
    const t = setup(noConsecutive, 5);
    load(t, 0, 50, 50);
    for (let i = 1; i < 4; i++) load(t, i, 100, 0);
    load(t, 4, 99, 0);
    t.clock.advance(1_000);
    expect(t.states.some((s) => s.ejected)).toBe(false);
  });

  it('evaluates each interval on its own counts', () => {
    const t = setup(noConsecutive, 5);
    load(t, 0, 50, 50);
    for (let i = 1; i < 5; i++) load(t, i, 60, 0);
    t.clock.advance(1_000);
    for (let i = 1; i < 5; i++) load(t, i, 40, 0);
    t.clock.advance(1_000);
    expect(t.states.some((s) => s.ejected)).toBe(false);
  });
});

describe('failure percentage', () => {
  const base = { consecutive5xx: 1_000_000, intervalMs: 1_000, maxEjectionPercent: 100 };

  it('is not enforced by default (Envoy enforcing 0)', () => {
    const t = setup(base, 5);
    for (let i = 0; i < 5; i++) load(t, i, 10, 90);
    t.clock.advance(1_000);
    expect(t.states.some((s) => s.ejected)).toBe(false);
  });

  it('ejects at ≥ 85 % failures when enforced (boundary: 84 % stays)', () => {
    const t = setup({ ...base, failurePercentage: { enforcing: 100 } }, 6);
    load(t, 0, 15, 85);
    load(t, 1, 16, 84);
    for (let i = 2; i < 6; i++) load(t, i, 50, 0);
    t.clock.advance(1_000);
    expect(t.states.map((s) => s.ejected)).toEqual([true, false, false, false, false, false]);
  });

  it('needs requestVolume (50) requests per endpoint', () => {
    const t = setup({ ...base, failurePercentage: { enforcing: 100 } }, 5);
    load(t, 0, 5, 44);
    for (let i = 1; i < 5; i++) load(t, i, 50, 0);
    t.clock.advance(1_000);
    expect(t.states[0]!.ejected).toBe(false);
  });
});

describe('through the Balancer', () => {
  function balancer(
    options: OutlierDetectionConfig,
    endpoints = ['127.0.0.1:8001', '127.0.0.1:8002', '127.0.0.1:8003', '127.0.0.1:8004'],
  ) {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints,
      policy: 'round_robin',
      clock,
      random: seededRandom(7),
      outlierDetection: options,
    });
    return { b, clock };
  }

  /** Picks until `address` comes up, then releases that lease with `outcome`. */
  function hit(b: Balancer, address: string, outcome: Outcome, times = 1) {
    for (let k = 0; k < times; k++) {
      const lease = boundedFind(
        () => {
          const picked = b.pick()!;
          if (picked.endpoint.address === address) return picked;
          picked.release();
          return undefined;
        },
        1_000,
        `picking ${address}`,
      );
      lease.release(outcome);
    }
  }

  it('is fed by lease.release and ejects from the routable set; cancellations are not failures', () => {
    const { b } = balancer(true);
    hit(b, '127.0.0.1:8001', { ok: false, failure: 'cancelled' }, 10);
    expect(b.stats().routable).toBe(4);
    hit(b, '127.0.0.1:8001', ERROR_500, 5);
    expect(b.stats().routable).toBe(3);
    expect(b.stats().endpoints.find((e) => e.address === '127.0.0.1:8001')!.condition).toBe('ejected');
    for (let k = 0; k < 30; k++) {
      const lease = b.pick()!;
      expect(lease.endpoint.address).not.toBe('127.0.0.1:8001');
      lease.release();
    }
  });

  it('max ejection percent and panic: ejecting below the panic threshold routes across all endpoints', () => {
    const { b, clock } = balancer({ maxEjectionPercent: 100, intervalMs: 1_000 });
    const panics: boolean[] = [];
    b.on('panic', (p) => panics.push(p));
    hit(b, '127.0.0.1:8001', ERROR_500, 5);
    hit(b, '127.0.0.1:8002', ERROR_500, 5);
    // 2 of 4 healthy = 50 %: not below the threshold, so only the healthy two are routable.
    expect(b.stats()).toMatchObject({ routable: 2, panic: false });
    hit(b, '127.0.0.1:8003', ERROR_500, 5);
    // 1 of 4 healthy: panic, all four routable again.
    expect(b.stats()).toMatchObject({ routable: 4, panic: true });
    expect(panics).toEqual([true]);
    clock.advance(30_000);
    expect(b.stats()).toMatchObject({ routable: 4, panic: false });
    expect(panics).toEqual([true, false]);
  });

  it('with the default 10 %, a 4-endpoint balancer never ejects more than one, so never panics', () => {
    const { b } = balancer(true);
    for (const port of [8001, 8002, 8003]) hit(b, `127.0.0.1:${port}`, ERROR_500, 5);
    expect(b.stats()).toMatchObject({ routable: 3, panic: false });
  });

  it('close() stops the sweep timer', async () => {
    const { b, clock } = balancer(true);
    expect(clock.pendingTimers).toBe(1);
    await b.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
