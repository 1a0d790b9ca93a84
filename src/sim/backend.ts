/**
 * A simulated backend: `concurrency` workers in front of a FIFO queue of at most `queue` requests, service times
 * drawn from a distribution, and a behaviour that changes over time (slow, down, up with warm-up, 503 bursts).
 *
 * The backend knows nothing of balancers: it accepts attempts and tells the engine, through {@link BackendHost},
 * when to complete or fail one. Each replica draws from its own seeded stream, so adding a backend does not change
 * what the others draw.
 */
import type { FailureKind } from '../balancer/outcome.js';
import type { RandomSource } from '../random.js';
import type { BackendPlan, TimelineEvent } from './config.js';

/** One attempt of one request, as the backend sees it. */
export interface BackendWork {
  /** Index in the backend's in-service list, -1 when not in service. */
  slot: number;
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

  #start(work: W, now: number): void {
    work.slot = this.#inService.length;
    this.#inService.push(work);
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
