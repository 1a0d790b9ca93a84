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
import { decayFactor, peakEwmaCost } from './peak-ewma.js';

/**
 * The typical in-flight count: a count-weighted moving average of the in-flight count of each endpoint the picker
 * chose, just before the pick. Weight 1/16 per pick: it follows a change in load within a few dozen picks, and one
 * pick cannot move it much. Held by one picker (not shared, not written to endpoint state).
 */
export class TypicalLoad {
  /** @internal The average, ≥ 0. A public field so the picker's update inlines. */
  value: number;

  constructor(initial: number) {
    this.value = Math.max(initial, 0);
  }

  /** Records that an endpoint with `inFlight` requests in flight was chosen. */
  record(inFlight: number): void {
    this.value += (inFlight - this.value) * 0.0625;
  }
}

/**
 * True when `b` is strictly cheaper than `a` under the concurrent-server cost, at any common time: both estimates
 * are brought to the later of their stamps (the common decay factor cancels in the comparison, as in
 * {@link cheaperThan}), so one exponential per pick. Estimates of exactly 0 take the queue-only path of
 * {@link peakEwmaCost}.
 */
export function cheaperConcurrent(
  b: EndpointState,
  a: EndpointState,
  decayMs: number,
  now: number,
  typical: number,
): boolean {
  let eb = b.rttEstimate;
  let ea = a.rttEstimate;
  const x = (b.rttStamp - a.rttStamp) / decayMs;
  if (x >= 0) ea *= decayFactor(x);
  else eb *= decayFactor(-x);
  if (ea === 0 || eb === 0) return peakEwmaCost(b, now, decayMs) < peakEwmaCost(a, now, decayMs);
  let kb = b.inFlight;
  let ka = a.inFlight;
  if (eb > ea) kb = chargedInFlight(kb, typical, eb / ea);
  else if (ea > eb) ka = chargedInFlight(ka, typical, ea / eb);
  return eb * (kb + 1) < ea * (ka + 1);
}

/**
 * The in-flight count charged to a candidate `ratio`× slower than the other one (ratio > 1): at least the typical
 * count in whole requests (rounded down), scaled by `min(1, ratio − 1)`.
 */
export function chargedInFlight(inFlight: number, typical: number, ratio: number): number {
  const whole = Math.floor(typical);
  const floor = ratio >= 2 ? whole : whole * (ratio - 1);
  return Math.max(inFlight, floor);
}
