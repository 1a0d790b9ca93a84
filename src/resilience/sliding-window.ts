/**
 * @internal A sliding window of counters split into buckets and rotated by the clock, shared by the retry budget
 * and the adaptive throttle. Each of `lanes` counters keeps one number per bucket and a running sum; rotating zeroes
 * the buckets that fell out of the window. O(1) amortised, no allocation per call, one clock read per rotation.
 *
 * The window holds `buckets` complete buckets plus the current, partial one, so an entry stays counted for at least
 * `windowMs` and at most `windowMs × (1 + 1/buckets)`. "At least" is what makes the retry budget's bound hold:
 * a retry taken from the reserve returns to it no sooner than one ttl later, so the reserve pays for at most
 * `minRetriesPerSec × (T + ttl)` retries over T.
 */
import type { Clock } from '../clock.js';

export class SlidingWindow {
  readonly #clock: Clock;
  readonly #bucketMs: number;
  /** Slots: `buckets` complete ones plus the current one. */
  readonly #buckets: number;
  /** Lane-major: lane l, bucket b at `l * buckets + b`. */
  readonly #cells: Float64Array;
  readonly #sums: Float64Array;
  /** Index (time / bucketMs) of the newest bucket. */
  #epoch: number;

  constructor(clock: Clock, windowMs: number, buckets: number, lanes: number) {
    this.#clock = clock;
    this.#bucketMs = windowMs / buckets;
    this.#buckets = buckets + 1;
    this.#cells = new Float64Array(this.#buckets * lanes);
    this.#sums = new Float64Array(lanes);
    this.#epoch = Math.floor(clock.now() / this.#bucketMs);
  }

  /** The clock the window rotates by. */
  get clock(): Clock {
    return this.#clock;
  }

  /**
   * Expires buckets that fell out of the window. Call once before a group of reads and adds. `now` (on this
   * window's clock) saves a clock read when the caller has it.
   */
  rotate(now: number = this.#clock.now()): void {
    const epoch = Math.floor(now / this.#bucketMs);
    if (epoch <= this.#epoch) return;
    const n = this.#buckets;
    const stale = Math.min(epoch - this.#epoch, n);
    for (let lane = 0; lane < this.#sums.length; lane++) {
      for (let k = 1; k <= stale; k++) {
        const i = lane * n + ((this.#epoch + k) % n);
        this.#sums[lane]! -= this.#cells[i]!;
        this.#cells[i] = 0;
      }
    }
    this.#epoch = epoch;
  }

  /** Adds `value` to `lane` in the newest bucket (call `rotate()` first). */
  add(lane: number, value: number): void {
    this.#cells[lane * this.#buckets + (this.#epoch % this.#buckets)]! += value;
    this.#sums[lane]! += value;
  }

  /** Sum of `lane` over the window (as of the last `rotate()`). */
  sum(lane: number): number {
    return this.#sums[lane]!;
  }
}
