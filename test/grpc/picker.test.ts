/**
 * The picker and per-call tracking, against a real Balancer on a ManualClock. Subchannels are opaque here: the
 * picker only hands back the object it was given, which is what these tests check (the lifecycle tests use real ones).
 */
import { experimental, Metadata, status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { headerKey } from '../../src/affinity/keys.js';
import { Balancer } from '../../src/balancer/balancer.js';
import type { BalancerExtension } from '../../src/balancer/extension.js';
import { ManualClock } from '../../src/clock.js';
import { PendingPicks } from '../../src/grpc/call-tracker.js';
import { hashKeyOf, StatusClassifier, SwitchyardPicker } from '../../src/grpc/index.js';
import { seededRandom } from '../../src/random.js';

const { PickResultType } = experimental;
const ADDRESSES = ['10.0.0.1:50051', '10.0.0.2:50051'];

function setup(options: { maxInFlight?: number; eject?: boolean; timeoutMs?: number } = {}) {
  const clock = new ManualClock(1_000);
  const extension: BalancerExtension = {
    endpointAdded(state) {
      if (options.maxInFlight !== undefined) state.maxInFlight = options.maxInFlight;
      if (options.eject) state.ejected = true;
    },
  };
  const balancer = new Balancer({
    endpoints: ADDRESSES,
    policy: 'round_robin',
    clock,
    random: seededRandom(7),
    panicThreshold: 0,
    extensions: [extension],
  });
  const subchannels = new Map(
    ADDRESSES.map((a) => [a, { address: a } as unknown as experimental.SubchannelInterface]),
  );
  const pending = new PendingPicks(clock, options.timeoutMs ?? 5_000);
  const picker = new SwitchyardPicker({
    balancer,
    subchannels,
    pending,
    classifier: new StatusClassifier(),
    hashHeader: undefined,
    unavailableMessage: 'switchyard (test): nothing routable',
  });
  const args = { metadata: new Metadata(), extraPickInfo: {} };
  const stat = (address: string) => balancer.stats().endpoints.find((e) => e.address === address)!;
  return { clock, balancer, subchannels, pending, picker, args, stat };
}

describe('SwitchyardPicker', () => {
  it('returns the subchannel of the picked endpoint and counts the call from pick to end', () => {
    const { picker, args, subchannels, stat } = setup();
    const result = picker.pick(args);
    expect(result.pickResultType).toBe(PickResultType.COMPLETE);
    const address = [...subchannels].find(([, s]) => s === result.subchannel)![0];
    expect(stat(address).inFlight).toBe(1);
    result.onCallStarted!();
    expect(stat(address).inFlight).toBe(1);
    result.onCallEnded!(Status.UNAVAILABLE, 'down', new Metadata());
    expect(stat(address)).toMatchObject({ inFlight: 0, failures: 1, successes: 0 });
    result.onCallEnded!(Status.OK, '', new Metadata()); // a second end is ignored
    expect(stat(address)).toMatchObject({ inFlight: 0, failures: 1, successes: 0 });
  });

  it('callbacks work when a parent policy copies the pick result with object spread', () => {
    const { picker, args, balancer } = setup();
    const copy = { ...picker.pick(args) };
    copy.onCallStarted!();
    copy.onCallEnded!(Status.OK, '', new Metadata());
    expect(balancer.stats().totalInFlight).toBe(0);
    expect(balancer.stats().endpoints.reduce((n, e) => n + e.successes, 0)).toBe(1);
  });

  it('gives back the slot of a pick whose call never starts, after unstartedPickTimeoutMs', () => {
    const { picker, args, balancer, clock, pending } = setup({ timeoutMs: 1_000 });
    const abandoned = picker.pick(args);
    const started = picker.pick(args);
    started.onCallStarted!();
    expect(balancer.stats().totalInFlight).toBe(2);
    clock.advance(999);
    expect(balancer.stats().totalInFlight).toBe(2);
    clock.advance(1);
    expect(balancer.stats().totalInFlight).toBe(1);
    expect(pending.swept).toBe(1);
    // Cancelled: no failure or success recorded for the abandoned pick.
    expect(balancer.stats().endpoints.reduce((n, e) => n + e.failures + e.successes, 0)).toBe(0);
    // A start after the sweep runs untracked rather than double-counting.
    abandoned.onCallStarted!();
    abandoned.onCallEnded!(Status.OK, '', new Metadata());
    started.onCallEnded!(Status.OK, '', new Metadata());
    expect(balancer.stats().totalInFlight).toBe(0);
    expect(balancer.stats().endpoints.reduce((n, e) => n + e.successes, 0)).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('times a call from its start when it starts late (slow call credentials)', () => {
    const { picker, args, clock, stat, subchannels } = setup();
    const result = picker.pick(args);
    const address = [...subchannels].find(([, s]) => s === result.subchannel)![0];
    clock.advance(500);
    result.onCallStarted!();
    clock.advance(20);
    result.onCallEnded!(Status.OK, '', new Metadata());
    // The first observed latency becomes the estimate: 20 ms measured from the start, where timing from
    // the pick would have recorded 520 ms.
    expect(stat(address).latencyEstimateMs).toBeCloseTo(20, 3);
  });

  it('drops with UNAVAILABLE when every endpoint is at its in-flight limit (circuit breaker)', () => {
    const { picker, args } = setup({ maxInFlight: 1 });
    picker.pick(args);
    picker.pick(args);
    const result = picker.pick(args);
    expect(result.pickResultType).toBe(PickResultType.DROP);
    expect(result.status).toMatchObject({
      code: Status.UNAVAILABLE,
      details:
        'switchyard (default): every routable endpoint is at its in-flight limit (circuit breaker open)',
    });
  });

  it('fails with the policy message when nothing is routable', () => {
    const { picker, args } = setup({ eject: true });
    const result = picker.pick(args);
    expect(result.pickResultType).toBe(PickResultType.TRANSIENT_FAILURE);
    expect(result.status).toMatchObject({
      code: Status.UNAVAILABLE,
      details: 'switchyard (test): nothing routable',
    });
  });

  it('releases all pending slots on destroy', () => {
    const { picker, args, balancer, pending, clock } = setup();
    picker.pick(args);
    picker.pick(args);
    pending.releaseAll();
    expect(balancer.stats().totalInFlight).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('StatusClassifier', () => {
  it('maps codes to outcomes', () => {
    const c = new StatusClassifier();
    expect(c.outcome(Status.OK)).toEqual({ ok: true });
    expect(c.outcome(Status.NOT_FOUND)).toEqual({ ok: true });
    expect(c.outcome(Status.CANCELLED)).toMatchObject({ ok: false, failure: 'cancelled' });
    expect(c.outcome(Status.UNAVAILABLE)).toEqual({ ok: false, failure: 'status', status: 14 });
    expect(c.outcome(Status.DEADLINE_EXCEEDED)).toMatchObject({ failure: 'timeout' });
    expect(c.outcome(Status.RESOURCE_EXHAUSTED)).toMatchObject({ failure: 'overloaded' });
    expect(c.outcome(Status.INTERNAL)).toMatchObject({ failure: 'status' });
    expect(c.outcome(99)).toMatchObject({ ok: false, failure: 'other' });
    expect(c.outcome(Status.UNAVAILABLE)).toBe(c.outcome(Status.UNAVAILABLE)); // preallocated
  });
});

describe('hashKeyOf', () => {
  it('reads the header, joining several values (gRFC A76)', () => {
    const md = new Metadata();
    expect(hashKeyOf(md, 'x-user')).toBeUndefined();
    md.add('x-user', 'alice');
    expect(hashKeyOf(md, 'x-user')).toBe('alice');
    md.add('x-user', 'bob');
    expect(hashKeyOf(md, 'x-user')).toBe('alice,bob');
  });

  it('follows the same rule as the undici affinity key: an empty value is no key', () => {
    const md = new Metadata();
    md.set('x-user', '');
    expect(hashKeyOf(md, 'x-user')).toBeUndefined();
    expect(headerKey('x-user')(md)).toBeUndefined();
    md.set('x-user', 'carol');
    expect(hashKeyOf(md, 'x-user')).toBe(headerKey('x-user')(md));
  });
});
