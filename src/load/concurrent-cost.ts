/**
 * The default policy's pick cost: Finagle's `estimate × (inFlight + 1)`, except that the slower of the two
 * candidates is charged at least the *typical* in-flight count. docs/choosing-a-policy.md has the options
 * considered and the measurements.
 *
 * Why: `estimate × (inFlight + 1)` models a server that serves one request at a time, where every request in flight
 * waits ahead of the new one. Most servers serve requests concurrently; there, a request's latency hardly grows
 * with the number in flight, and the multiplier lets an idle, known-slow endpoint undercut loaded fast ones. With
 * four backends at 6 ms, one at 50 ms and 20 requests in flight, each fast one holds ~5: cost 6 × 6 = 36 against
 * the idle slow one's 50 × 1 — nearly a tie, and the slow one keeps about one request in flight all the time,
 * ~1 % of all requests, which puts p99 at its latency. At 64 in flight the slow one is simply cheaper.
 *
 * The rule: when candidate B's estimate is r× candidate A's (r > 1), B's in-flight count is raised to at least
 * `⌊typical⌋ × min(1, r − 1)` before the multiplication. "Typical" is the recent average in-flight count of the
 * endpoints the picker chose (see {@link TypicalLoad}): the load the fleet is serving right now. So
 * - two candidates of similar latency (within noise) compare exactly as in Finagle, which spreads load across
 *   servers that do queue (one worker, a small pool);
 * - an endpoint 2× or more slower is charged as if it had the typical load even when idle: it wins only when the
 *   faster candidate is loaded well beyond typical (by the latency ratio), or when its own estimate has come down
 *   (measured, or decayed while idle: the no-starvation re-probe, still after about τ·ln(r)).
 * Between 1× and 2× the charge grows linearly, so a small change in an estimate never flips a pick wholesale.
 *
 * The typical count is rounded down to whole requests: where the chosen endpoints typically hold less than one
 * request of this client's (light load, or many clients sharing the fleet), the cost is exactly Finagle's. That
 * matters for servers that do queue: with single-worker backends, ten clients and a typical count of ~0.3, charging
 * the fraction tilted picks toward fast endpoints already busy with a request (a real wait there) and raised p99
 * by 1.4–1.6× over eight seeds; rounded down, the results equal the classic cost's.
 *
 * Why the chosen endpoints' in-flight and not the fleet's mean (`totalInFlight / n`): a backend that piles up
 * requests (a single-worker server past its capacity) raises the fleet mean, which raises the charge for every
 * fast candidate and weakens the very in-flight penalty that should stop the pile-up. Measured: with the mean, one
 * seeded run of single-worker backends at 85 % load sent 12 % of requests to a backend with 3 % of the capacity
 * (p99 11 s); the slow backend is rarely chosen, so it barely moves the chosen endpoints' average.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import { decayFactor } from './peak-ewma.js';

/**
 * The typical in-flight count: a count-weighted moving average of the in-flight count of each endpoint the picker
 * chose, just before the pick. Weight 1/16 per pick: it follows a change in load within a few dozen picks, and one
 * pick cannot move it much. Held by one picker (not shared, not written to endpoint state).
 *
 * Kept as a fixed-point integer, 65,536 × the average, updated with integer arithmetic: a double field written on
 * every pick made V8 allocate a number per pick (about 25 ns each, measured). In-flight counts above 16,383 count as
 * 16,383, which keeps every intermediate a 31-bit integer.
 */
export class TypicalLoad {
  /** @internal 65,536 × the average, a small integer. A public field so the picker's update inlines. */
  scaled: number;

  constructor(initial: number) {
    this.scaled = initial > 0 ? Math.floor(Math.min(initial, MAX_COUNTED) * ONE) : 0;
  }

  /** The average in-flight count. */
  get value(): number {
    return this.scaled / ONE;
  }

  /** Records that an endpoint with `inFlight` requests in flight was chosen. */
  record(inFlight: number): void {
    const s = this.scaled;
    this.scaled = s + ((Math.min(inFlight, MAX_COUNTED) * ONE - s) >> 4);
  }
}

/** Fixed-point one, and the largest in-flight count the average counts. */
const ONE = 65_536;
const MAX_COUNTED = 16_383;

/**
 * True when `b` is strictly cheaper than `a` under the concurrent-server cost, at any common time: both estimates
 * are brought to the later of their stamps (the common decay factor cancels in the comparison, as in
 * {@link cheaperThan}), so one exponential per pick. An estimate of exactly 0 (answers timed at 0 ms) ranks by its
 * queue alone, as in {@link peakEwmaCost}.
 *
 * No `now` and no bare numbers beyond the estimates: this function is too large for V8 to inline into the picker,
 * and a double argument to a call that is not inlined is boxed (16 bytes per pick). `typical` is passed as its
 * object for the same reason.
 */
export function cheaperConcurrent(
  b: EndpointState,
  a: EndpointState,
  decayMs: number,
  typical: TypicalLoad,
): boolean {
  const x = (b.rttStamp - a.rttStamp) / decayMs;
  const w = decayFactor(x >= 0 ? x : -x);
  // Multiplied on both branches so the values stay unboxed doubles: a phi of a raw field load and a computed double
  // made V8 box the computed one (16 bytes per pick).
  const eb = b.rttEstimate * (x >= 0 ? 1 : w);
  const ea = a.rttEstimate * (x >= 0 ? w : 1);
  const kb = b.inFlight;
  const ka = a.inFlight;
  if (ea === 0 || eb === 0) return (eb > 0 ? eb * (kb + 1) : kb) < (ea > 0 ? ea * (ka + 1) : ka);
  const whole = typical.scaled >> 16;
  // Below one typical request: Finagle's cost exactly (and the same rounding as the comparison below it).
  if (whole === 0) return eb * (kb + 1) < ea * (ka + 1);
  // Candidate x r× slower than the other (r > 1) is charged max(k_x, whole · min(1, r − 1)) in flight. Multiplied
  // through by the faster estimate so the pick divides nothing (a division here doubled the pick's cost):
  //   e_x · (max(k_x, whole · min(1, r − 1)) + 1) · e_y  =  e_x · (max(k_x · e_y, whole · min(e_y, e_x − e_y)) + e_y)
  if (eb > ea) return eb * (Math.max(kb * ea, whole * Math.min(ea, eb - ea)) + ea) < ea * ea * (ka + 1);
  if (ea > eb) return eb * eb * (kb + 1) < ea * (Math.max(ka * eb, whole * Math.min(eb, ea - eb)) + eb);
  return kb < ka;
}
