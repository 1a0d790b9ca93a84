/**
 * A control plane's outlier detection, circuit breaker and slow start (ResolverUpdate.cluster, in the xDS
 * resolver's flat shapes) reaching a Balancer: applied, reconfigured only on a real change, rejected whole when
 * invalid, and layered over the Balancer's own options (control plane wins per setting; code options are the default).
 */
import { describe, expect, it } from 'vitest';
import { Balancer, type BalancerOptions } from '../../src/balancer/balancer.js';
import { circuitBreakerFromCluster } from '../../src/balancer/cluster-settings.js';
import type { Lease } from '../../src/balancer/lease.js';
import type { Resolver, ResolverClusterConfig, ResolverListener } from '../../src/balancer/resolver.js';
import { ManualClock } from '../../src/clock.js';
import type { ConfigError } from '../../src/errors/config-error.js';
import { parseOutlierDetection } from '../../src/health/options.js';
import { outlierDetectionFromCluster } from '../../src/health/outlier-mechanism.js';
import { seededRandom } from '../../src/random.js';

const ENDPOINTS = ['a:1', 'b:1', 'c:1', 'd:1'];
/** What the xDS resolver emits for `outlier_detection { consecutive_5xx: 5, max_ejection_percent: 100 }`. */
const OUTLIER = { consecutive5xx: 5, maxEjectionPercent: 100, baseEjectionTimeMs: 30_000 };

/** A Balancer driven by a fake control plane: `push()` delivers one state-of-the-world update. */
function setup(options: Partial<BalancerOptions> = {}) {
  let listener: ResolverListener | undefined;
  const resolver: Resolver = { start: (l) => (listener = l), refresh() {}, close() {} };
  const clock = new ManualClock(1_000);
  const b = new Balancer({
    resolver,
    policy: 'round_robin',
    clock,
    random: seededRandom(7),
    ...options,
  });
  const errors: ConfigError[] = [];
  b.on('resolver-error', (e) => errors.push(e as ConfigError));
  let pickers = 0;
  b.on('picker', () => pickers++);
  const push = (cluster?: ResolverClusterConfig, endpoints: string[] = ENDPOINTS) =>
    listener!.onUpdate({ endpoints, ...(cluster === undefined ? {} : { cluster }) });
  /** Releases `n` failed requests on `address`. */
  const fail = (address: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const lease = pickOn(b, address);
      lease.release({ ok: false, failure: 'status', status: 500 });
    }
  };
  const condition = (address: string) => b.stats().endpoints.find((e) => e.address === address)?.condition;
  return { b, clock, push, fail, errors, condition, pickers: () => pickers };
}

/** A lease on `address`: round robin reaches every routable endpoint within one turn. */
function pickOn(b: Balancer, address: string): Lease {
  for (let i = 0; i < 16; i++) {
    const lease = b.pick();
    if (lease === undefined) break;
    if (lease.endpoint.address === address) return lease;
    lease.release({ ok: false, failure: 'cancelled' });
  }
  throw new Error(`${address} is not routable`);
}

describe('outlier detection from the control plane', () => {
  it('turns on when the control plane sends it: 5 consecutive failures then eject', () => {
    const t = setup();
    t.push({});
    t.fail('a:1', 5);
    expect(t.condition('a:1')).toBe('routable');
    expect(t.b.health.outlierDetector).toBeUndefined();

    t.push({ outlierDetection: OUTLIER });
    expect(t.b.health.outlierDetector?.options.consecutive5xx).toBe(5);
    t.fail('a:1', 4);
    expect(t.condition('a:1')).toBe('routable');
    t.fail('a:1', 1);
    expect(t.condition('a:1')).toBe('ejected');
    expect(t.b.health.outlierDetector?.ejectedCount).toBe(1);
    // Ejected for base_ejection_time: back at the sweep 30 s later (sweeps every 10 s from the update).
    t.clock.advance(29_999);
    expect(t.condition('a:1')).toBe('ejected');
    t.clock.advance(1);
    expect(t.condition('a:1')).toBe('routable');
  });

  it('maps the flat xDS fields onto the nested options', () => {
    const t = setup();
    t.push({
      outlierDetection: {
        successRateStdevFactor: 1.5,
        successRateMinimumHosts: 3,
        enforcingSuccessRate: 90,
        failurePercentageThreshold: 70,
        enforcingFailurePercentage: 100,
        intervalMs: 2_000,
      },
    });
    const options = t.b.health.outlierDetector!.options;
    expect(options.intervalMs).toBe(2_000);
    expect(options.successRate).toMatchObject({ stdevFactor: 1.5, minimumHosts: 3, enforcing: 90 });
    expect(options.failurePercentage).toMatchObject({ threshold: 70, enforcing: 100 });
  });

  it('a resent, unchanged cluster rebuilds nothing: same detector, counters and ejections kept', () => {
    const t = setup();
    t.push({ outlierDetection: OUTLIER });
    const detector = t.b.health.outlierDetector;
    t.fail('a:1', 5);
    t.fail('b:1', 4);
    // The control plane resends the cluster (a new, equal object) with every update.
    t.push({ outlierDetection: { ...OUTLIER } });
    t.push({ outlierDetection: { ...OUTLIER } });
    expect(t.b.health.outlierDetector).toBe(detector);
    expect(t.condition('a:1')).toBe('ejected');
    // b's four failures survived the resends: one more ejects it.
    t.fail('b:1', 1);
    expect(t.condition('b:1')).toBe('ejected');
    expect(detector?.ejectedCount).toBe(2);
  });

  it('changed options replace the detector and keep current ejections; removal returns them at once', () => {
    const t = setup();
    t.push({ outlierDetection: OUTLIER });
    const first = t.b.health.outlierDetector;
    t.fail('a:1', 5);
    t.fail('b:1', 3);

    t.push({ outlierDetection: { ...OUTLIER, consecutive5xx: 4, baseEjectionTimeMs: 5_000 } });
    const second = t.b.health.outlierDetector;
    expect(second).not.toBe(first);
    expect(second?.options.consecutive5xx).toBe(4);
    expect(second?.ejectedCount).toBe(1);
    expect(t.condition('a:1')).toBe('ejected');
    // b's counter carried over: its fourth failure meets the new threshold.
    t.fail('b:1', 1);
    expect(t.condition('b:1')).toBe('ejected');
    // The old detector's timer is stopped; the new one returns a:1 on the new schedule (5 s, swept every 10 s).
    t.clock.advance(10_000);
    expect(t.condition('a:1')).toBe('routable');
    t.fail('c:1', 4);
    expect(t.condition('c:1')).toBe('ejected');

    t.push({});
    expect(t.b.health.outlierDetector).toBeUndefined();
    expect(t.b.stats().endpoints.map((e) => e.condition)).toEqual(Array(4).fill('routable'));
    t.fail('a:1', 20);
    expect(t.condition('a:1')).toBe('routable');
  });

  it('rejects an invalid value whole, naming the field, and keeps the last good state', () => {
    const t = setup();
    t.push({ outlierDetection: OUTLIER, policy: 'round_robin' });
    const detector = t.b.health.outlierDetector;
    t.push({ outlierDetection: { ...OUTLIER, consecutive5xx: 0 }, policy: 'random' }, ['a:1']);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]!.field).toBe('resolver.cluster.outlierDetection.consecutive5xx');
    expect(t.b.stats().endpoints).toHaveLength(4);
    expect(t.b.policy).toBe('round_robin');
    expect(t.b.health.outlierDetector).toBe(detector);
    t.push({ outlierDetection: { ...OUTLIER, successRateStdevFactor: -1 } });
    expect(t.errors[1]!.field).toBe('resolver.cluster.outlierDetection.successRate.stdevFactor');
    t.push({ outlierDetection: { ...OUTLIER, consecutive5xxx: 3 } });
    expect(t.errors[2]!.field).toBe('resolver.cluster.outlierDetection.consecutive5xxx');
    // The good config still works.
    t.fail('d:1', 5);
    expect(t.condition('d:1')).toBe('ejected');
  });

  it('control plane wins per setting; fields it leaves out take Envoy defaults; code options are the fallback', () => {
    const t = setup({ outlierDetection: { consecutive5xx: 3, baseEjectionTimeMs: 1_000 } });
    t.push({});
    const code = t.b.health.outlierDetector;
    expect(code?.options.consecutive5xx).toBe(3);
    t.push({ outlierDetection: { intervalMs: 5_000 } });
    const controlPlane = t.b.health.outlierDetector;
    expect(controlPlane?.options).toEqual(parseOutlierDetection({ intervalMs: 5_000 }, 'o'));
    expect(controlPlane?.options.consecutive5xx).toBe(5);
    t.push({});
    expect(t.b.health.outlierDetector?.options.consecutive5xx).toBe(3);
    expect(t.b.health.outlierDetector?.options.baseEjectionTimeMs).toBe(1_000);
  });
});

describe('circuit breaker from the control plane', () => {
  it('changed limits take effect at once, per balancer and per endpoint', () => {
    const t = setup({ circuitBreaker: { maxRequestsPerEndpoint: 1 } });
    t.push({}, ['a:1', 'b:1']);
    expect(t.b.limits.maxRequestsPerEndpoint).toBe(1);

    t.push({ circuitBreaker: { maxRequests: 3, maxPendingRequests: 7, maxConnections: 9 } }, ['a:1', 'b:1']);
    expect(t.b.limits).toEqual({ maxRequests: 3, maxPending: 7, maxRequestsPerEndpoint: 1 });
    const leases = [t.b.tryPick(), t.b.tryPick()];
    // Both endpoints hold their one request: the code's per-endpoint limit (xDS has none) still applies.
    expect(t.b.tryPick()).toBe('overflow');

    t.push({ circuitBreaker: { maxRequests: 2 } }, ['a:1', 'b:1', 'c:1']);
    // c:1 is new and empty, but the balancer-wide limit of 2 is reached.
    expect(t.b.tryPick()).toBe('overflow');
    for (const lease of leases) (lease as Lease).release();
    expect(typeof t.b.tryPick()).toBe('object');
  });

  it('without a code option, the per-endpoint limit is the cluster limit; Istio "unlimited" uint32 max is clamped', () => {
    const t = setup();
    t.push({ circuitBreaker: { maxRequests: 4_294_967_295, maxPendingRequests: 4_294_967_295 } });
    expect(t.errors).toEqual([]);
    expect(t.b.limits).toEqual({
      maxRequests: 1_000_000_000,
      maxRequestsPerEndpoint: 1_000_000_000,
      maxPending: 1_000_000_000,
    });
    t.push({ circuitBreaker: { maxRequests: 1 } });
    expect(t.b.limits).toEqual({ maxRequests: 1, maxRequestsPerEndpoint: 1, maxPending: 1024 });
    const lease = t.b.tryPick();
    expect(t.b.tryPick()).toBe('overflow');
    (lease as Lease).release();
    // The control plane stops sending limits: the code's (none) apply again.
    t.push({});
    expect(t.b.limits.maxRequests).toBe(Number.POSITIVE_INFINITY);
    expect(t.b.stats().endpoints.every((e) => e.inFlight === 0)).toBe(true);
    for (let i = 0; i < 10; i++) expect(typeof t.b.tryPick()).toBe('object');
  });

  it('rejects bad limits, naming the field, keeping the last good ones', () => {
    const t = setup();
    t.push({ circuitBreaker: { maxRequests: 5 } });
    t.push({ circuitBreaker: { maxRequests: 0 } }, ['a:1']);
    t.push({ circuitBreaker: { maxRequests: 5, maxStreams: 1 } }, ['a:1']);
    expect(t.errors.map((e) => e.field)).toEqual([
      'resolver.cluster.circuitBreaker.maxRequests',
      'resolver.cluster.circuitBreaker.maxStreams',
    ]);
    expect(t.b.limits.maxRequests).toBe(5);
    expect(t.b.stats().endpoints).toHaveLength(4);
  });

  it('mapping: xDS names onto Balancer names', () => {
    expect(
      circuitBreakerFromCluster({ maxRequests: 10, maxPendingRequests: 3, maxRetries: 2 }, undefined),
    ).toEqual({
      maxRequests: 10,
      maxPending: 3,
      maxRequestsPerEndpoint: 10,
    });
    expect(outlierDetectionFromCluster({ failurePercentageRequestVolume: 9, consecutive5xx: 2 })).toEqual({
      consecutive5xx: 2,
      failurePercentage: { requestVolume: 9 },
    });
  });
});

describe('slow start from the control plane', () => {
  it('ramps endpoints added after it is turned on; a config without a window turns it off', () => {
    const t = setup({ policy: 'weighted_round_robin' });
    t.push({});
    t.clock.advance(60_000);
    t.push({ slowStart: { windowMs: 10_000, minWeightPercent: 10 } });
    expect(t.b.health.slowStart?.options.windowMs).toBe(10_000);
    const weight = (address: string) =>
      t.b.stats().endpoints.find((e) => e.address === address)!.effectiveWeight;
    // The endpoints already there have been up for long enough; a new one starts at the floor.
    t.push({ slowStart: { windowMs: 10_000, minWeightPercent: 10 } }, [...ENDPOINTS, 'e:1']);
    expect(weight('a:1')).toBe(1);
    expect(weight('e:1')).toBeCloseTo(0.1);
    t.clock.advance(5_000);
    expect(weight('e:1')).toBeCloseTo(0.5);
    // Envoy: slow start without slow_start_window is off. Weights go back to the resolver's.
    t.push({ slowStart: {} }, [...ENDPOINTS, 'e:1']);
    expect(t.b.health.slowStart).toBeUndefined();
    expect(weight('e:1')).toBe(1);
    t.push({ slowStart: { windowMs: 10_000, aggression: 0 } }, [...ENDPOINTS, 'e:1']);
    expect(t.errors[0]!.field).toBe('resolver.cluster.slowStart.aggression');
  });
});

describe('reconfiguration cost', () => {
  it('an unchanged cluster resent 100 times rebuilds the picker once per update, nothing more', () => {
    const t = setup();
    const cluster = {
      outlierDetection: OUTLIER,
      circuitBreaker: { maxRequests: 50 },
      slowStart: { windowMs: 1 },
    };
    t.push(cluster);
    const detector = t.b.health.outlierDetector;
    const slowStart = t.b.health.slowStart;
    const limits = t.b.limits;
    const before = t.pickers();
    for (let i = 0; i < 100; i++) t.push(structuredClone(cluster));
    expect(t.pickers() - before).toBe(100);
    expect(t.b.health.outlierDetector).toBe(detector);
    expect(t.b.health.slowStart).toBe(slowStart);
    expect(t.b.limits).toBe(limits);
  });
});
