/**
 * Time, injectable.
 *
 * Everything in switchyard that reads time or waits (latency measurement, EWMA decay, ejection backoff, probe and
 * re-resolution intervals) goes through a {@link Clock}. Production uses {@link systemClock}; tests and the simulator
 * use {@link ManualClock}, whose timers fire only when the test advances time — no sleeps, no flakiness.
 */

/** A scheduled callback; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/** A millisecond clock with timers. Only differences of `now()` matter. Override for deterministic tests. */
export interface Clock {
  now(): number;
  /**
   * Runs `fn` once after `ms` milliseconds. System timers are unref'd: a balancer's background work (probes,
   * ejection sweeps, re-resolution) never keeps a process alive on its own.
   */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

/** `performance.now()` and unref'd `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A manual clock for tests and simulation: time moves only through {@link ManualClock.advance} /
 * {@link ManualClock.set}, which run the timers that fall due, in time order (ties in scheduling order).
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: PendingTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms` (>= 0), firing due timers at their own times. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.set(this.#now + ms);
  }

  /** Moves time to `ms` (must not go backwards), firing due timers at their own times. */
  set(ms: number): void {
    if (!(ms >= this.#now))
      throw new RangeError(`ManualClock.set: time must not go backwards (${this.#now} -> ${ms})`);
    for (;;) {
      const next = this.#nextDue(ms);
      if (next === undefined) break;
      this.#now = next.at;
      next.cancelled = true;
      next.fn();
    }
    this.#now = ms;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }

  #nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.cancelled || t.at > limit) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
