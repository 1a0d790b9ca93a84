/**
 * Per-call bookkeeping between a pick and the end of the call.
 *
 * The lease is taken in `pick()`, so a burst of picks made before any of their calls starts (grpc-js starts a call
 * one microtask after its pick) already sees each other's in-flight load — otherwise every pick in the burst would
 * read the same counts and herd onto one endpoint. But grpc-js may abandon a pick without a word (pitfall 5 of the
 * grpc-js notes): when the subchannel left READY while call credentials were generated it picks again, and when the
 * deadline expires first the call just ends. Neither calls `onCallStarted` nor `onCallEnded`. So every pick waits in
 * {@link PendingPicks}, an intrusive list in pick order, until its call starts; a sweep gives back, as `cancelled`,
 * the slots of picks that have not started after `unstartedPickTimeoutMs`. In the common case the list holds only
 * the picks of the current tick, and the sweep timer fires once per timeout while traffic flows.
 *
 * `onCallEnded` fires once per started call, including cancellations and deadlines; the status code is classified
 * into the outcome the balancer is fed (status.ts).
 */
import { experimental, type Metadata, type status } from '@grpc/grpc-js';
import type { Lease } from '../balancer/lease.js';
import { CANCELLED } from '../balancer/outcome.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { AttemptRoute, PickedCall } from './call-route.js';
import type { OrcaWeights } from './orca.js';
import type { StatusClassifier } from './status.js';

/** A start later than this after its pick (ms) means call credentials took time: measure latency from the start. */
const LATE_START_MS = 1;

/** What every call tracker of one picker shares. */
export interface TrackerContext {
  readonly pending: PendingPicks;
  readonly classifier: StatusClassifier;
  /** ORCA weighting, when configured: fed from each call's trailers. */
  readonly orca?: OrcaWeights | undefined;
}

/**
 * One picked call: the grpc-js pick result itself, so a pick allocates this, its two callbacks (whose closures hold
 * only `this`) and the lease. Fields are assigned in the constructor, in one order: no initializer call per pick.
 */
export class CallTracker implements experimental.PickResult, PickedCall {
  // `declare`d, so no field is emitted: the constructor creates each, in one order, without the separate
  // instance-initializer call V8 makes for class fields on every construction (it showed in profiles).
  declare readonly pickResultType: experimental.PickResultType.COMPLETE;
  declare readonly subchannel: experimental.SubchannelInterface;
  declare readonly status: null;
  // Own properties, not methods: grpc-js parents copy pick results with object spread and call these detached.
  declare readonly onCallStarted: () => void;
  declare readonly onCallEnded: (code: status, details: string, trailers: Metadata) => void;
  declare readonly lease: Lease;
  /** Links of the pending list; `pending` is true while linked. */
  declare prev: CallTracker | null;
  declare next: CallTracker | null;
  declare pending: boolean;
  declare startedAt: number;
  /** The interceptor's view of this attempt, when the call came through it: says when response metadata arrived. */
  declare route: AttemptRoute | null;
  /** What the picker's trackers share. */
  declare private readonly ctx: TrackerContext;

  constructor(subchannel: experimental.SubchannelInterface, lease: Lease, ctx: TrackerContext) {
    this.pickResultType = experimental.PickResultType.COMPLETE;
    this.subchannel = subchannel;
    this.status = null;
    this.lease = lease;
    this.prev = null;
    this.next = null;
    this.pending = false;
    this.startedAt = -1;
    this.route = null;
    this.ctx = ctx;
    this.onCallStarted = () => this.started();
    this.onCallEnded = (code, _details, trailers) => this.ended(code, trailers);
  }

  private started(): void {
    const pending = this.ctx.pending;
    if (this.pending) pending.remove(this);
    // A start after the sweep gave the slot back runs untracked (its end is ignored) rather than double-counted.
    if (!this.lease.released) this.startedAt = pending.clock.now();
  }

  private ended(code: status, trailers: Metadata): void {
    const lease = this.lease;
    if (this.startedAt < 0 || lease.released) return;
    const ctx = this.ctx;
    ctx.orca?.record(lease.endpoint.address, trailers);
    const outcome = ctx.classifier.outcome(code);
    const route = this.route;
    if (route !== null) route.ended = true;
    const headersAt = route === null ? -1 : route.headersAt;
    const lateStart = this.startedAt - lease.startedAt > LATE_START_MS;
    if (headersAt < 0 && !lateStart) {
      lease.release(outcome);
      return;
    }
    // Time to the response metadata when the interceptor saw it arrive (what latency means in switchyard), else to
    // the end of the call; from the start, not the pick, when call credentials delayed the start.
    const from = lateStart ? this.startedAt : lease.startedAt;
    const now = ctx.pending.clock.now();
    const latencyMs = (headersAt < 0 ? now : headersAt) - from;
    // A success (nearly every call) without copying the outcome's keys.
    lease.release(outcome.ok ? { ok: true, latencyMs, now } : { ...outcome, latencyMs, now });
  }

  /** grpc-js picked this call again (pitfall 5): this pick never starts, so its slot is given back now. */
  abandon(): void {
    if (!this.pending) return;
    this.ctx.pending.remove(this);
    this.lease.release(CANCELLED);
  }
}

/** Picks whose calls have not started yet, oldest first, with the sweep that bounds how long they hold a slot. */
export class PendingPicks {
  readonly clock: Clock;
  readonly #timeoutMs: number;
  #head: CallTracker | null = null;
  #tail: CallTracker | null = null;
  #timer: TimerHandle | undefined;
  /** Picks given back by the sweep since creation (for stats and tests). */
  swept = 0;

  constructor(clock: Clock, timeoutMs: number) {
    this.clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  add(tracker: CallTracker): void {
    tracker.pending = true;
    tracker.prev = this.#tail;
    if (this.#tail === null) this.#head = tracker;
    else this.#tail.next = tracker;
    this.#tail = tracker;
    if (this.#timer === undefined) this.#timer = this.clock.setTimer(this.#sweep, this.#timeoutMs);
  }

  remove(tracker: CallTracker): void {
    tracker.pending = false;
    const { prev, next } = tracker;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    tracker.prev = tracker.next = null;
  }

  /** Gives back every pending slot (the policy is being destroyed) and stops the sweep. */
  releaseAll(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    while (this.#head !== null) {
      const tracker = this.#head;
      this.remove(tracker);
      tracker.lease.release(CANCELLED);
    }
  }

  readonly #sweep = (): void => {
    this.#timer = undefined;
    const now = this.clock.now();
    while (this.#head !== null && now - this.#head.lease.startedAt >= this.#timeoutMs) {
      const tracker = this.#head;
      this.remove(tracker);
      tracker.lease.release(CANCELLED);
      this.swept++;
    }
    if (this.#head !== null) {
      const due = this.#head.lease.startedAt + this.#timeoutMs - now;
      this.#timer = this.clock.setTimer(this.#sweep, Math.max(1, due));
    }
  };
}
