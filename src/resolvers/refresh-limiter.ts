/**
 * One timer for a resolver's next resolution, plus rate-limited resolution on demand.
 *
 * A resolver re-resolves on its own cadence (a DNS TTL, a backoff after a failure: {@link RefreshLimiter.schedule})
 * and when asked to (`Resolver.refresh()`, which adapters call whenever a connection drops:
 * {@link RefreshLimiter.request}). The second must be rate-limited: when a backend restarts, every connection to it
 * drops at once and each drop asks for a refresh; without a limit that is a burst of identical queries against the
 * name server exactly when things are already going wrong. gRPC limits the same thing with
 * `grpc.dns_min_time_between_resolutions_ms` (30 s in grpc-js).
 *
 * Rules:
 * - at most one run at a time; a request while a run is in flight is satisfied by that run (its answer is at most
 *   one round trip old);
 * - a request runs at once when `minIntervalMs` has passed since the last run started, else at that moment — unless
 *   a scheduled run is already due sooner; requests in the meantime coalesce into that single run;
 * - runs never start synchronously inside `request()`/`schedule()` (a microtask or a timer), so a resolver built on
 *   this keeps the "never call the listener synchronously" rule for free;
 * - `close()` cancels the timer; nothing runs afterwards.
 */
import type { Clock, TimerHandle } from '../clock.js';

/** Options of {@link RefreshLimiter}. */
export interface RefreshLimiterOptions {
  readonly clock: Clock;
  /** Minimum time between the starts of two runs caused by {@link RefreshLimiter.request}, ms. */
  readonly minIntervalMs: number;
  /** One resolution. May be async; the limiter waits for it before allowing another. */
  readonly run: () => void | Promise<void>;
  /** Receives an exception thrown (or a rejection) by `run`, which should handle its own errors. */
  readonly onRunError?: (error: unknown) => void;
}

/** Schedules a resolver's runs: one pending timer, one run in flight, on-demand runs rate-limited. */
export class RefreshLimiter {
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  readonly #run: () => void | Promise<void>;
  readonly #onRunError: (error: unknown) => void;
  #timer: TimerHandle | undefined;
  /** Clock time the pending timer fires at; `Infinity` when none. */
  #dueAt = Number.POSITIVE_INFINITY;
  #lastRunAt = Number.NEGATIVE_INFINITY;
  #running = false;
  #closed = false;

  constructor(options: RefreshLimiterOptions) {
    this.#clock = options.clock;
    this.#minIntervalMs = options.minIntervalMs;
    this.#run = options.run;
    this.#onRunError =
      options.onRunError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
  }

  /** True while a run is in flight. */
  get running(): boolean {
    return this.#running;
  }

  /** Clock time of the next scheduled run, or `Infinity` when nothing is scheduled. */
  get dueAt(): number {
    return this.#dueAt;
  }

  /** Clock time the last run started (`-Infinity` before the first). */
  get lastRunAt(): number {
    return this.#lastRunAt;
  }

  /** Sets the next run `delayMs` from now, replacing any pending one (own cadence: not rate-limited). */
  schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#setTimer(this.#clock.now() + Math.max(0, delayMs));
  }

  /** Asks for a run soon, within the rate limit. Never runs synchronously. Returns when the run is due. */
  request(): number {
    if (this.#closed) return Number.POSITIVE_INFINITY;
    if (this.#running) return this.#clock.now();
    const now = this.#clock.now();
    const earliest = Math.max(now, this.#lastRunAt + this.#minIntervalMs);
    if (this.#dueAt <= earliest) return this.#dueAt;
    if (earliest <= now) {
      this.#cancelTimer();
      // Claim the slot now so a second request() before the microtask runs does not queue another run.
      this.#dueAt = now;
      queueMicrotask(() => {
        if (this.#dueAt === now && this.#timer === undefined) this.#fire();
      });
      return now;
    }
    this.#setTimer(earliest);
    return earliest;
  }

  /** Cancels the pending run. Idempotent; a run in flight finishes but nothing starts afterwards. */
  close(): void {
    this.#closed = true;
    this.#cancelTimer();
  }

  #setTimer(at: number): void {
    this.#cancelTimer();
    this.#dueAt = at;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      this.#fire();
    }, at - this.#clock.now());
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#dueAt = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#dueAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    if (this.#running) return;
    this.#running = true;
    this.#lastRunAt = this.#clock.now();
    let result: void | Promise<void>;
    try {
      result = this.#run();
    } catch (error) {
      this.#running = false;
      this.#onRunError(error);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.#running = false;
      },
      (error: unknown) => {
        this.#running = false;
        this.#onRunError(error);
      },
    );
  }
}
