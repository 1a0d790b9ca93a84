/**
 * A simulated backend: `concurrency` workers in front of a FIFO queue of at most `queue` requests, service times
 * drawn from a distribution, and a behaviour that changes over time (slow, down, up with warm-up, 503 bursts).
 *
 * The backend knows nothing of balancers: it accepts attempts and tells the engine, through {@link BackendHost},
 * when to complete or fail one. Each replica draws from its own seeded stream, so adding a backend does not change
 * what the others draw.
 *
 * Pauses (`pauses` in the plan) model a stop-the-world GC or a noisy neighbour: a request starting service triggers,
 * with the given probability, a pause of the whole process; every request in service or starting meanwhile finishes
 * that much later. The engine asks {@link SimBackend.pauseOwed} when a completion fires and reschedules it.
 */
import type { FailureKind } from '../balancer/outcome.js';
import type { RandomSource } from '../random.js';
import type { BackendPlan, TimelineEvent } from './config.js';

/** One attempt of one request, as the backend sees it. */
export interface BackendWork {
  /** Index in the backend's in-service list, -1 when not in service. */
  slot: number;
  /** Virtual time its service started (set by the backend). */
  serviceStart: number;
  /** Pause time already added to its completion, ms (set by the backend). */
  pausedMs: number;
}

/** What a backend needs from the engine. */
export interface BackendHost<W extends BackendWork> {
  /** Service of `work` ends at `at` (ms, virtual), successfully unless the backend died meanwhile. */
  completeAt(work: W, at: number): void;
  /** `work` fails with `failure` at `at`. */
  failAt(work: W, at: number, failure: FailureKind): void;
  /** Service discovery lists (`true`) or drops (`false`) this backend. */
  setRegistered(backend: SimBackend<W>, registered: boolean): void;
}

/** Time to refuse a connection to a dead process, ms (a local RST). */
export const CONNECT_REFUSED_MS = 1;
/** Time to answer a request with a 503 without serving it, ms. */
export const REJECT_MS = 1;

export class SimBackend<W extends BackendWork> {
  readonly plan: BackendPlan;
  readonly address: string;
  up = true;
  registered: boolean;
  /** Attempts this backend was sent (including refused and rejected ones). */
  attempts = 0;
  #slowFactor = 1;
  #errorRate: number;
  #warmupStart = 0;
  #warmupEnd = 0;
  #warmupFactor = 1;
  readonly #inService: W[] = [];
  #queue: W[] = [];
  #queueHead = 0;
  readonly #random: RandomSource;
  readonly #host: BackendHost<W>;
  /** Pauses so far, as [start, end) pairs in order (flat), and the total paused time before each. */
  readonly #pauses: number[] = [];
  readonly #pausedBefore: number[] = [];
  #pausedUntil = 0;
  /** Pauses triggered, and requests completed late because of one (counted by the engine), for results. */
  pauses = 0;
  pausedRequests = 0;

  constructor(plan: BackendPlan, random: RandomSource, host: BackendHost<W>) {
    this.plan = plan;
    this.address = `${plan.name}:80`;
    this.registered = plan.registered;
    this.#errorRate = plan.errorRate;
    this.#random = random;
    this.#host = host;
  }

  /** Requests in service plus queued. */
  get load(): number {
    return this.#inService.length + this.#queue.length - this.#queueHead;
  }

  /** Takes one attempt at virtual time `now`. */
  accept(work: W, now: number): void {
    this.attempts++;
    if (!this.up) {
      this.#host.failAt(work, now + CONNECT_REFUSED_MS, 'connect');
    } else if (this.#errorRate > 0 && this.#random() < this.#errorRate) {
      this.#host.failAt(work, now + REJECT_MS, 'status');
    } else if (this.#inService.length < this.plan.concurrency) {
      this.#start(work, now);
    } else if (this.#queue.length - this.#queueHead < this.plan.queue) {
      this.#queue.push(work);
    } else {
      this.#host.failAt(work, now + REJECT_MS, 'overloaded');
    }
  }

  /** The engine calls this when a completion scheduled by {@link BackendHost.completeAt} fires. */
  finish(work: W, now: number): void {
    const list = this.#inService;
    const last = list.pop()!;
    if (last !== work) {
      list[work.slot] = last;
      last.slot = work.slot;
    }
    work.slot = -1;
    if (this.#queueHead < this.#queue.length) {
      const next = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead++] = undefined as unknown as W;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      this.#start(next, now);
    }
  }

  /** Applies a timeline event at virtual time `now`. */
  apply(event: TimelineEvent, now: number): void {
    switch (event.action) {
      case 'slow':
        this.#slowFactor = event.factor;
        break;
      case 'errors':
        this.#errorRate = event.rate;
        break;
      case 'down':
        this.#die(now);
        break;
      case 'up':
        this.up = true;
        this.#warmupStart = now;
        this.#warmupEnd = now + (event.warmupMs ?? 0);
        this.#warmupFactor = event.warmupFactor ?? 1;
        break;
      case 'deregister':
      case 'register':
        this.registered = event.action === 'register';
        this.#host.setRegistered(this, this.registered);
        break;
    }
  }

  /**
   * Pause time that overlapped `work`'s service and is not yet in its completion time, ms. The engine calls this
   * when the completion fires; > 0 means "not done yet, fire again that much later".
   */
  pauseOwed(work: W, now: number): number {
    if (this.#pauses.length === 0) return 0;
    const owed = this.#pausedUpTo(now) - this.#pausedUpTo(work.serviceStart) - work.pausedMs;
    work.pausedMs += owed;
    return owed;
  }

  /** Total paused time in [0, t). */
  #pausedUpTo(t: number): number {
    const p = this.#pauses;
    // Binary search for the last pause starting before t (pauses are few; kept for the whole run).
    let lo = 0;
    let hi = p.length / 2 - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (p[2 * mid]! < t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found === -1) return 0;
    return this.#pausedBefore[found]! + Math.min(t, p[2 * found + 1]!) - p[2 * found]!;
  }

  #maybePause(now: number): void {
    const pauses = this.plan.pauses;
    if (pauses === undefined || now < this.#pausedUntil || this.#random() >= pauses.probability) return;
    const n = this.#pauses.length / 2;
    const before =
      n === 0 ? 0 : this.#pausedBefore[n - 1]! + this.#pauses[2 * n - 1]! - this.#pauses[2 * n - 2]!;
    this.#pauses.push(now, now + pauses.durationMs);
    this.#pausedBefore.push(before);
    this.#pausedUntil = now + pauses.durationMs;
    this.pauses++;
  }

  #start(work: W, now: number): void {
    work.slot = this.#inService.length;
    work.serviceStart = now;
    work.pausedMs = 0;
    this.#inService.push(work);
    this.#maybePause(now);
    let service = this.plan.serviceTime(this.#random) * this.#slowFactor;
    if (now < this.#warmupEnd) {
      // Linear recovery from warmupFactor× to 1× over the warm-up window.
      const left = (this.#warmupEnd - now) / (this.#warmupEnd - this.#warmupStart);
      service *= 1 + (this.#warmupFactor - 1) * left;
    }
    this.#host.completeAt(work, now + service);
  }

  /** The process dies: everything in service or queued fails with a reset now. */
  #die(now: number): void {
    this.up = false;
    const doomed = [...this.#inService, ...this.#queue.slice(this.#queueHead)];
    this.#inService.length = 0;
    this.#queue = [];
    this.#queueHead = 0;
    for (const work of doomed) {
      work.slot = -1;
      this.#host.failAt(work, now, 'reset');
    }
  }
}
