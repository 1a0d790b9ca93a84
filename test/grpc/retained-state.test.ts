/**
 * Retained endpoint state on a ManualClock: the store's expiry, bounds and take-once rule, and save → restore through
 * real Balancers compared with a control Balancer that lived through the same time without being destroyed.
 */
import { describe, expect, it } from 'vitest';
import { Balancer, type BalancerOptions } from '../../src/balancer/balancer.js';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import { ManualClock } from '../../src/clock.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { channelOptions } from '../../src/grpc/index.js';
import {
  RETENTION_KEY_OPTION,
  type RetainedEndpoint,
  RetainedStateStore,
  RTT_FIELDS,
  retentionKey,
  saveEndpoint,
} from '../../src/grpc/retained-state.js';
import { StateKeeper } from '../../src/grpc/state-keeper.js';
import { OutlierRecord } from '../../src/health/outlier-record.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { collect } from '../health/harness.js';

const ADDRESSES = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'];
const SLOW = ADDRESSES[1]!;

function saved(at = 0): RetainedEndpoint {
  return saveEndpoint(new EndpointState(parseEndpoint(ADDRESSES[0]!, 'e'), at, 30), at);
}

describe('RetainedStateStore', () => {
  it('keeps an entry until its TTL, then a sweep frees it and no timer is left', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    for (const address of ADDRESSES) store.keep('k', address, saved(), 5_000);
    expect(store.size).toBe(3);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(4_999);
    expect(store.take('k', ADDRESSES[0]!)).toBeDefined();
    clock.advance(1);
    // Expired but not yet swept: never handed out.
    expect(store.take('k', ADDRESSES[1]!)).toBeUndefined();
    clock.advance(1_000);
    expect(store.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hands an entry out once, only for its own key, and keeps nothing with a TTL of 0', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const entry = saved();
    store.keep('k', ADDRESSES[0]!, entry, 1_000);
    store.keep('k', ADDRESSES[1]!, saved(), 0);
    expect(store.size).toBe(1);
    expect(store.take('other', ADDRESSES[0]!)).toBeUndefined();
    expect(store.take('k', ADDRESSES[0]!)).toBe(entry);
    // A second channel with the same key starts afresh: the state went to the first.
    expect(store.take('k', ADDRESSES[0]!)).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('holds at most maxEndpoints, dropping the oldest save first; a new save of an address replaces the old', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock, maxEndpoints: 3 });
    store.keep('k', 'a:1', saved(), 60_000);
    store.keep('k', 'b:1', saved(), 60_000);
    store.keep('k', 'c:1', saved(), 60_000);
    const newer = saved(5);
    store.keep('k', 'a:1', newer, 60_000);
    store.keep('k', 'd:1', saved(), 60_000);
    expect(store.size).toBe(3);
    expect(store.take('k', 'b:1')).toBeUndefined();
    expect(store.take('k', 'a:1')).toBe(newer);
    expect(store.take('k', 'c:1')).toBeDefined();
    expect(store.take('k', 'd:1')).toBeDefined();
  });

  it('sweeps entries with different TTLs each at its own expiry, at most one sweep a second', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    store.keep('k', 'a:1', saved(), 10_000);
    store.keep('k', 'b:1', saved(), 3_000);
    clock.advance(3_000);
    expect(store.size).toBe(1);
    clock.advance(7_000);
    expect(store.size).toBe(0);
    store.keep('k', 'c:1', saved(), 1);
    clock.advance(999);
    expect(store.size).toBe(1);
    clock.advance(1);
    expect(store.size).toBe(0);
    store.keep('k', 'd:1', saved(), 1_000);
    store.clear();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retention key', () => {
  it('is the channelOptions() token (one per call) with the balancer options', () => {
    const one = channelOptions({ balancer: { name: 'x' } });
    const two = channelOptions({ balancer: { name: 'x' } });
    expect(one[RETENTION_KEY_OPTION]).not.toEqual(two[RETENTION_KEY_OPTION]);
    expect(retentionKey(one, { name: 'x' })).not.toBe(retentionKey(two, { name: 'x' }));
    expect(retentionKey(one, { name: 'x' })).not.toBe(retentionKey(one, { name: 'y' }));
    // A hand-written service config (no token): the config alone.
    expect(retentionKey({}, { name: 'x' })).toBe(retentionKey({}, { name: 'x' }));
  });
});

it('copies every estimator field of EndpointState (a new rtt* field must be added to RTT_FIELDS)', () => {
  const state = new EndpointState(parseEndpoint(ADDRESSES[0]!, 'e'), 0, 30);
  const rttFields = Object.keys(state).filter((k) => k.startsWith('rtt'));
  expect([...rttFields].sort()).toEqual([...RTT_FIELDS].sort());
});

/** A policy instance's Balancer: a keeper as its extension, endpoints added after construction (as the feed does). */
function instance(
  clock: ManualClock,
  store: RetainedStateStore,
  options: Partial<BalancerOptions>,
): { balancer: Balancer; keeper: StateKeeper } {
  const keeper = new StateKeeper(store);
  keeper.configure('key', 60_000);
  const balancer = new Balancer({
    name: 'kept',
    clock,
    random: seededRandom(7),
    endpoints: [],
    extensions: [keeper],
    ...options,
  } as BalancerOptions);
  keeper.use(balancer);
  for (const address of ADDRESSES) keeper.take(address);
  balancer.setEndpoints(ADDRESSES);
  return { balancer, keeper };
}

function control(clock: ManualClock, options: Partial<BalancerOptions>): Balancer {
  return new Balancer({
    name: 'control',
    clock,
    random: seededRandom(7),
    endpoints: ADDRESSES,
    ...options,
  } as BalancerOptions);
}

/** `n` picks on each Balancer at `stepMs` apart, each answered by its endpoint's behaviour. */
function traffic(
  clock: ManualClock,
  balancers: Balancer[],
  n: number,
  answer: (address: string) => { ok: boolean; latencyMs: number },
): void {
  for (let i = 0; i < n; i++) {
    for (const balancer of balancers) {
      const lease = balancer.pick()!;
      const { ok, latencyMs } = answer(lease.endpoint.address);
      const now = clock.now();
      lease.release(
        ok ? { ok: true, latencyMs, now } : { ok: false, failure: 'status', status: 503, latencyMs, now },
      );
    }
    clock.advance(10);
  }
}

const byAddress = (b: Balancer) => new Map(b.stats().endpoints.map((e) => [e.address, e]));

describe('save and restore through Balancers (ManualClock)', () => {
  it('latency estimates come back decayed over the time in between, exactly as a Balancer that never stopped', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const options = { policy: 'p2c_peak_ewma' as const };
    const first = instance(clock, store, options);
    const ctl = control(clock, options);
    traffic(clock, [first.balancer, ctl], 200, (a) => ({ ok: true, latencyMs: a === SLOW ? 80 : 4 }));
    first.keeper.saveAll();
    void first.balancer.close();
    expect(store.size).toBe(3);
    clock.advance(7_000);
    const second = instance(clock, store, options);
    expect(store.size).toBe(0);
    const [got, want] = [byAddress(second.balancer), byAddress(ctl)];
    for (const address of ADDRESSES) {
      expect(got.get(address)!.latencyEstimateMs).toBeCloseTo(want.get(address)!.latencyEstimateMs, 9);
      expect(got.get(address)!.picks).toBe(want.get(address)!.picks);
      expect(got.get(address)!.successes).toBe(want.get(address)!.successes);
      expect(got.get(address)!.inFlight).toBe(0);
    }
    expect(got.get(SLOW)!.latencyEstimateMs).toBeGreaterThan(3 * got.get(ADDRESSES[0]!)!.latencyEstimateMs);
  });

  it('in-flight counts are not carried: a call outstanding at destroy is not counted by the next instance', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const first = instance(clock, store, { policy: 'round_robin' });
    const outstanding = first.balancer.pick()!;
    first.keeper.saveAll();
    const second = instance(clock, store, { policy: 'round_robin' });
    expect(second.balancer.stats().totalInFlight).toBe(0);
    // Lifetime picks are derived from finished calls (successes + failures + cancels) and in-flight ones, so the call
    // still outstanding at destroy is in neither instance's count: its outcome reaches only the destroyed Balancer.
    expect(byAddress(second.balancer).get(outstanding.endpoint.address)!.picks).toBe(0);
    outstanding.release();
    expect(second.balancer.stats().totalInFlight).toBe(0);
  });

  it('an ejection stays with its remaining time, and ends when it would have', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const options = { policy: 'round_robin' as const, outlierDetection: { intervalMs: 1_000 } };
    const first = instance(clock, store, options);
    traffic(clock, [first.balancer], 15, (a) => ({ ok: a !== SLOW, latencyMs: 2 }));
    const ejectedAt = clock.now();
    expect(byAddress(first.balancer).get(SLOW)!.condition).toBe('ejected');
    first.keeper.saveAll();
    void first.balancer.close();
    clock.advance(12_000);
    const second = instance(clock, store, options);
    expect(byAddress(second.balancer).get(SLOW)!.condition).toBe('ejected');
    expect(second.balancer.health.outlierDetector!.ejectedCount).toBe(1);
    expect(second.balancer.stats().routable).toBe(2);
    // Envoy's base ejection time, 30 s, from the original ejection (the sweep returns it within one interval).
    clock.set(ejectedAt + 29_000);
    expect(byAddress(second.balancer).get(SLOW)!.condition).toBe('ejected');
    clock.set(ejectedAt + 30_000 + 1_000);
    expect(byAddress(second.balancer).get(SLOW)!.condition).toBe('routable');
    expect(second.balancer.health.outlierDetector!.ejectedCount).toBe(0);
  });

  it('adopting a record in place of an ejected one counts the ejection once', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const options = { policy: 'round_robin' as const, outlierDetection: { intervalMs: 1_000 } };
    const first = instance(clock, store, options);
    traffic(clock, [first.balancer], 15, (a) => ({ ok: a !== SLOW, latencyMs: 2 }));
    const detector = first.balancer.health.outlierDetector!;
    expect(detector.ejectedCount).toBe(1);
    // An endpoint joining with a kept ejection, whose record is then adopted a second time (both ejected).
    const joining = new EndpointState(parseEndpoint('10.0.0.9:80', 'joining'), clock.now(), 30);
    detector.endpointAdded(joining);
    const kept = () => Object.assign(new OutlierRecord(), { ejectedAt: clock.now(), ejections: 1 });
    detector.adopt(joining, kept());
    detector.adopt(joining, kept());
    expect(detector.ejectedCount).toBe(2);
    detector.endpointRemoved(joining);
    expect(detector.ejectedCount).toBe(1);
    expect(byAddress(first.balancer).get(SLOW)!.condition).toBe('ejected');
  });

  it('an ejection that ran out while the channel was idle is over, and the multiplier was forgiven meanwhile', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const options = { policy: 'round_robin' as const, outlierDetection: { intervalMs: 1_000 } };
    const first = instance(clock, store, options);
    const ctl = control(clock, options);
    const ejected = collect(channelNames.endpointEjected) as { balancer: string; ejectionMs: number }[];
    const failing = (a: string) => ({ ok: a !== SLOW, latencyMs: 2 });
    traffic(clock, [first.balancer, ctl], 15, failing);
    first.keeper.saveAll();
    void first.balancer.close();
    // Past the 30 s ejection and 20 healthy intervals: the control returned it and forgave its multiplier.
    clock.advance(50_000);
    const second = instance(clock, store, options);
    expect(byAddress(second.balancer).get(SLOW)!.condition).toBe('routable');
    expect(second.balancer.health.outlierDetector!.ejectedCount).toBe(0);
    // Fail again: the next ejection lasts the same on both (multiplier 1 again, not 2).
    traffic(clock, [second.balancer, ctl], 15, failing);
    const last = (name: string) => ejected.filter((e) => e.balancer === name).at(-1)!;
    expect(last('kept').ejectionMs).toBe(30_000);
    expect(last('kept').ejectionMs).toBe(last('control').ejectionMs);
  });

  it("slow start's ramp goes on over the time in between", () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const options = { policy: 'random' as const, slowStart: { windowMs: 10_000 } };
    const first = instance(clock, store, options);
    const ctl = control(clock, options);
    clock.advance(3_000);
    first.keeper.saveAll();
    void first.balancer.close();
    clock.advance(4_000);
    const second = instance(clock, store, options);
    const [got, want] = [byAddress(second.balancer), byAddress(ctl)];
    for (const address of ADDRESSES) {
      expect(got.get(address)!.effectiveWeight).toBeCloseTo(want.get(address)!.effectiveWeight, 9);
      expect(got.get(address)!.effectiveWeight).toBeLessThan(1);
      expect(got.get(address)!.effectiveWeight).toBeGreaterThan(0.5);
    }
  });

  it('without retention (TTL 0) the next instance starts afresh', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    const first = instance(clock, store, { policy: 'p2c_peak_ewma' });
    first.keeper.configure('key', 0);
    traffic(clock, [first.balancer], 50, (a) => ({ ok: true, latencyMs: a === SLOW ? 80 : 4 }));
    first.keeper.saveAll();
    expect(store.size).toBe(0);
    const second = instance(clock, store, { policy: 'p2c_peak_ewma' });
    expect(byAddress(second.balancer).get(SLOW)!.picks).toBe(0);
  });

  it('a saved state taken but never used (endpoint never connected) goes back to the store on destroy', () => {
    const clock = new ManualClock();
    const store = new RetainedStateStore({ clock });
    store.keep('key', 'never:1', saved(), 60_000);
    const keeper = new StateKeeper(store);
    keeper.configure('key', 60_000);
    keeper.take('never:1');
    expect(store.size).toBe(0);
    keeper.saveAll();
    expect(store.take('key', 'never:1')).toBeDefined();
  });
});
