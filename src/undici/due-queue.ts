/**
 * Many one-shot deadlines on one clock timer: the direct retry path's "hand attempt 1 to the executor when its first
 * timer is due" (hedge delay, per-try timeout, deadline), one per request in flight.
 *
 * A timer per request (set at send, cleared at the response) cost a `setTimeout` + `clearTimeout` pair, a handle
 * and a closure per request. Here a request links itself into a list ordered by due time — appended at the tail in
 * the usual case, since every request of a dispatcher gets about the same delay — and unlinks itself when it is
 * answered: O(1), no allocation. One clock timer stands for the head. It is not cancelled when the head leaves:
 * it fires, finds nothing due, and is set again for the new head (or not at all when the queue is empty), so a
 * steady stream of fast responses sets about one timer per delay period rather than one per request.
 */
import type { Clock, TimerHandle } from '../clock.js';

/** What a queued request carries (intrusive links: the queue allocates nothing per entry). */
export interface DueEntry {
  /** Clock time at which {@link DueEntry.due} runs, in ms. */
  dueAt: number;
  duePrev: DueEntry | undefined;
  dueNext: DueEntry | undefined;
  /** Linked in a queue now. */
  dueQueued: boolean;
  /** The deadline passed (called once, after the entry was unlinked). */
  due(): void;
}

export class DueQueue {
  readonly #clock: Clock;
  #head: DueEntry | undefined = undefined;
  #tail: DueEntry | undefined = undefined;
  #timer: TimerHandle | undefined = undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #onTimer = (): void => this.#fire();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Queues `entry` to run `due()` at clock time `dueAt`, rounded up to a whole ms (timers have ms resolution, and a
   * small integer is stored in the entry as is, where a fraction would be a heap number per request); `now` is the
   * clock's time now (the caller has it).
   */
  add(entry: DueEntry, at: number, now: number): void {
    const dueAt = Math.ceil(at);
    entry.dueAt = dueAt;
    entry.dueQueued = true;
    // Walk back from the tail past later deadlines: none in the usual case (one delay for every request).
    let before = this.#tail;
    while (before !== undefined && before.dueAt > dueAt) before = before.duePrev;
    const after = before === undefined ? this.#head : before.dueNext;
    entry.duePrev = before;
    entry.dueNext = after;
    if (before === undefined) this.#head = entry;
    else before.dueNext = entry;
    if (after === undefined) this.#tail = entry;
    else after.duePrev = entry;
    if (dueAt < this.#timerAt) this.#arm(dueAt, now);
  }

  /** Takes `entry` out (answered in time); a no-op when it is not queued. */
  remove(entry: DueEntry): void {
    if (!entry.dueQueued) return;
    entry.dueQueued = false;
    const { duePrev: prev, dueNext: next } = entry;
    if (prev === undefined) this.#head = next;
    else prev.dueNext = next;
    if (next === undefined) this.#tail = prev;
    else next.duePrev = prev;
    entry.duePrev = undefined;
    entry.dueNext = undefined;
  }

  /** Cancels the clock timer (the dispatcher is shutting down); queued entries stay until removed. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #arm(at: number, now: number): void {
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(this.#onTimer, at - now);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    // Bounded: each pass unlinks one entry, and `due()` may add entries only at later times than `now`.
    for (let entry = this.#head; entry !== undefined && entry.dueAt <= now; entry = this.#head) {
      this.remove(entry);
      entry.due();
    }
    const head = this.#head;
    // A system timer can fire a fraction of a millisecond before its time: then the head is simply re-armed.
    if (head !== undefined) this.#arm(head.dueAt, Math.min(now, head.dueAt - 1));
  }
}
