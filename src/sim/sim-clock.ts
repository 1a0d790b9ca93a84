/**
 * Virtual time for the simulator: a {@link Clock} whose `now()` is the time of the event being processed and whose
 * timers are events in the same queue as arrivals and completions.
 *
 * Because the real Balancer, its pickers and every extension (outlier detection sweeps, slow-start ramps, budget
 * windows) take a `Clock`, handing them a SimClock runs the production code on virtual time: a ten-minute outage
 * simulates in milliseconds, and the same seed always gives the same result.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { EventQueue } from './event-queue.js';

/** Event kind reserved for clock timers; simulation events use kinds >= 1. */
export const TIMER_EVENT = 0;

interface SimTimer extends TimerHandle {
  readonly fn: () => void;
  cancelled: boolean;
}

/** Handles a non-timer event popped from the queue. */
export type EventHandler<T> = (kind: number, target: T, now: number) => void;

/**
 * A virtual clock that owns the simulation's event queue. Simulation code schedules its own events with
 * {@link SimClock.schedule}; library code sees only the {@link Clock} interface.
 */
export class SimClock<T = unknown> implements Clock {
  #now: number;
  readonly #queue = new EventQueue<T | SimTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: SimTimer = {
      fn,
      cancelled: false,
      cancel() {
        this.cancelled = true;
      },
    };
    this.#queue.push(this.#now + Math.max(ms, 0), TIMER_EVENT, timer);
    return timer;
  }

  /** Schedules a simulation event of `kind` (>= 1) at absolute virtual time `at` (never in the past). */
  schedule(at: number, kind: number, target: T): void {
    this.#queue.push(Math.max(at, this.#now), kind, target);
  }

  /** Events waiting, timers included. */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * Processes events in time order while the next one is due at or before `until` and `keepGoing()` (checked
   * before each event) holds. Returns the number of events processed.
   */
  run(until: number, handler: EventHandler<T>, keepGoing: () => boolean = always): number {
    const queue = this.#queue;
    let processed = 0;
    while (queue.size > 0 && queue.peekTime() <= until && keepGoing()) {
      this.#now = queue.peekTime();
      const kind = queue.peekKind();
      const target = queue.pop();
      processed++;
      if (kind === TIMER_EVENT) {
        const timer = target as SimTimer;
        if (!timer.cancelled) {
          timer.cancelled = true;
          timer.fn();
        }
      } else {
        handler(kind, target as T, this.#now);
      }
    }
    return processed;
  }
}

function always(): boolean {
  return true;
}
