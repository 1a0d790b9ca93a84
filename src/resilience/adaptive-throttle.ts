/**
 * Client-side adaptive throttling (Google SRE book, ch. 21 "Handling Overload"): each client tracks, over the last
 * two minutes, how many requests it attempted and how many the backends accepted, and rejects new requests locally
 * with probability
 *
 *     p = max(0, (requests − K · accepts) / (requests + 1))
 *
 * With K = 2 nothing is rejected until the backends refuse half of the requests; past that, the client sheds its
 * own excess instead of making overloaded backends spend work refusing it. Local rejections count as requests
 * (that is what keeps p up while the backend is down), and p falls again as soon as accepted requests come back.
 * Envoy's `admission_control` filter is the same idea.
 *
 * The window is {@link THROTTLE_BUCKETS} buckets of counters rotated by the clock: O(1), no allocation per call.
 */
import { type Clock, systemClock } from '../clock.js';
import { readNumber, readObject } from '../config/validate.js';
import { defaultRandom, type RandomSource } from '../random.js';
import { SlidingWindow } from './sliding-window.js';

/** Options of {@link AdaptiveThrottle}. Plain JSON. */
export interface AdaptiveThrottleOptions {
  /**
   * The multiplier K, from 1 to 10. Lower rejects earlier (1.1: when 10 % fail); higher tolerates more failure
   * before shedding. Default 2 (Google SRE book).
   */
  readonly k?: number;
  /** Length of the sliding window, in ms, from 1,000 to 3,600,000. Default 120,000 (SRE book: "two minutes"). */
  readonly windowMs?: number;
  /**
   * Cap on the rejection probability, from 0 to 1, so some traffic always probes a recovering backend.
   * Default 1 (the SRE formula uncapped; it stays below 1 by itself). Envoy's admission_control uses 0.8.
   */
  readonly maxRejectionProbability?: number;
}

/** Defaults of {@link AdaptiveThrottleOptions}. */
export const defaultAdaptiveThrottleOptions = {
  k: 2,
  windowMs: 120_000,
  maxRejectionProbability: 1,
} as const;

/** Lifetime counters and the current window of an {@link AdaptiveThrottle}. */
export interface AdaptiveThrottleStats {
  /** Requests in the window (sent and locally rejected). */
  readonly requests: number;
  /** Requests in the window the backends accepted. */
  readonly accepts: number;
  /** Requests rejected locally, lifetime. */
  readonly throttled: number;
  /** The rejection probability now. */
  readonly rejectionProbability: number;
}

/** Buckets per window: 60, so a two-minute window slides in 2-second steps. */
export const THROTTLE_BUCKETS = 60;
const REQUESTS = 0;
const ACCEPTS = 1;
const KEYS = ['k', 'windowMs', 'maxRejectionProbability'];

/**
 * The throttle. Call {@link AdaptiveThrottle.shouldReject} before sending; when it answers `false`, send and then
 * {@link AdaptiveThrottle.record} whether the backend accepted the request. Share one per backend service.
 */
export class AdaptiveThrottle {
  /** The validated options, with defaults applied. */
  readonly options: Required<AdaptiveThrottleOptions>;
  readonly #random: RandomSource;
  /** Lane 0: requests; lane 1: accepted requests. */
  readonly #window: SlidingWindow;
  #throttled = 0;

  /**
   * @param options plain-JSON options; {@link ConfigError} on anything out of range.
   * @param clock time source; override for deterministic tests. Default: the system clock.
   * @param random uniform [0, 1) source; override with `seededRandom(n)` for deterministic tests.
   */
  constructor(
    options: AdaptiveThrottleOptions = {},
    clock: Clock = systemClock,
    random: RandomSource = defaultRandom(),
  ) {
    const obj = readObject(options, 'throttle', KEYS);
    this.options = {
      k: readNumber(obj, 'k', 'throttle', { min: 1, max: 10 }, defaultAdaptiveThrottleOptions.k),
      windowMs: readNumber(
        obj,
        'windowMs',
        'throttle',
        { min: 1000, max: 3_600_000 },
        defaultAdaptiveThrottleOptions.windowMs,
      ),
      maxRejectionProbability: readNumber(
        obj,
        'maxRejectionProbability',
        'throttle',
        { min: 0, max: 1 },
        defaultAdaptiveThrottleOptions.maxRejectionProbability,
      ),
    };
    this.#random = random;
    this.#window = new SlidingWindow(clock, this.options.windowMs, THROTTLE_BUCKETS, 2);
  }

  /** The probability that the next request is rejected: the SRE formula over the window, capped. */
  get rejectionProbability(): number {
    this.#window.rotate();
    return this.#probability();
  }

  /**
   * Draws whether to reject the next request locally. A rejection is counted as a request that was not accepted
   * (do not {@link AdaptiveThrottle.record} it again); an admission is not counted until `record`. `now` (on the
   * throttle's clock) saves a clock read when the caller has it.
   */
  shouldReject(now?: number): boolean {
    this.#window.rotate(now);
    const p = this.#probability();
    if (p <= 0 || this.#random() >= p) return false;
    this.#throttled++;
    this.#add(false);
    return true;
  }

  /** Records a request that was sent: `accepted` when the backend took it (any answer but overload/failure). */
  record(accepted: boolean, now?: number): void {
    this.#window.rotate(now);
    this.#add(accepted);
  }

  /** The clock the throttle's window runs on. */
  get clock(): Clock {
    return this.#window.clock;
  }

  /** Window counters and lifetime rejections. Allocates; not for the hot path. */
  stats(): AdaptiveThrottleStats {
    this.#window.rotate();
    return {
      requests: this.#window.sum(REQUESTS),
      accepts: this.#window.sum(ACCEPTS),
      throttled: this.#throttled,
      rejectionProbability: this.#probability(),
    };
  }

  #probability(): number {
    const requests = this.#window.sum(REQUESTS);
    const p = (requests - this.options.k * this.#window.sum(ACCEPTS)) / (requests + 1);
    return p <= 0 ? 0 : Math.min(p, this.options.maxRejectionProbability);
  }

  #add(accepted: boolean): void {
    this.#window.add(REQUESTS, 1);
    if (accepted) this.#window.add(ACCEPTS, 1);
  }
}
