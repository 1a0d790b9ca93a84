/**
 * Robust Peak-EWMA ("confirmed peaks"): Peak-EWMA whose peak rule fires only when a spike is confirmed by a
 * second, independent high sample. Switchyard's default latency estimate; see docs/choosing-a-policy.md for the
 * options considered.
 *
 * Why: with the classic peak rule every isolated spike (a GC pause, a noisy neighbour, a client-side stall)
 * becomes the estimate and fades only over τ, so fast endpoints with 0.3 % of requests at 12× their median carry
 * estimates several times their median, and a steadily 10× slower endpoint looks only ~2× worse. Without any peak
 * rule (plain EWMA) a real slowdown takes ~τ to show. This estimator keeps both properties:
 *
 * - A sample at most `spikeFactor` × the confirmed estimate (not decayed) is an ordinary EWMA sample: weight `1 − e^(−Δt/τ)`, Δt the time
 *   since the last update (Finagle's time-weighted EWMA, so the estimate does not depend on the request rate).
 * - A sample above that is a *suspect*: it is remembered, the estimate does not move.
 * - A later high sample confirms it only if its request *started after the suspect's response arrived*. Then the
 *   estimate jumps to the smaller of the two (the peak rule, on evidence). Requests that overlapped the suspect
 *   were delayed by the same event — one backend pause or one client stall delays every response in flight — so
 *   they neither confirm nor refute it.
 * - An ordinary sample from a request started after the suspect arrived refutes it: the spike is forgotten.
 *
 * A real 10× slowdown is therefore in the estimate two slow round trips after it starts (the requests in flight
 * meanwhile pile up and raise the cost through `inFlight + 1`), while an isolated spike never moves it.
 *
 * Reads decay the estimate toward 0 with the same τ as the classic estimator, so an endpoint that is not picked
 * looks cheaper as time passes and is probed again: after τ·ln(ratio) an endpoint ratio× slower than its peers is
 * re-measured (τ 2 s: ~4.6 s for 10×). A shorter τ than Finagle's 10 s is affordable because spikes no longer set
 * the estimate; it bounds how long one unlucky measurement can keep an endpoint out (no starvation).
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { LatencyEstimator } from './estimator.js';
import { currentEstimate, decayFactor } from './peak-ewma.js';

/** Defaults: τ 2 s, spike threshold 2× the estimate (see docs/choosing-a-policy.md for how they were chosen). */
export const defaultRobustEwmaOptions = { decayMs: 2000, spikeFactor: 2 } as const;

/**
 * Records one latency sample `rttMs` that ended at `now`.
 *
 * While a suspect is pending, the published estimate (`rttEstimate`, what pickers read) is provisionally raised to
 * `spikeFactor ×` the confirmed one, which is kept in `rttBase`/`rttBaseStamp`: the endpoint gets less traffic
 * while the evidence is out (a real slowdown costs fewer slow requests), but an isolated spike costs it at most a
 * 2× handicap until the next independent sample refutes it and the confirmed estimate is restored exactly.
 */
export function observeRobust(
  state: EndpointState,
  rttMs: number,
  now: number,
  decayMs: number,
  spikeFactor: number,
): void {
  if (!state.rttObserved) {
    // The first sample replaces the starting guess (as in the classic estimator): a new endpoint that is truly
    // slow must not soak up traffic at the default. If it was an unlucky first answer, decay re-probes it.
    state.rttEstimate = rttMs;
    state.rttStamp = now;
    state.rttObserved = true;
    state.rttSuspect = 0;
    return;
  }
  const suspect = state.rttSuspect;
  // The confirmed estimate: the published one, or the one saved under a provisional raise.
  const base = suspect === 0 ? state.rttEstimate : state.rttBase;
  const stamp = suspect === 0 ? state.rttStamp : state.rttBaseStamp;
  const dt = now - stamp;
  const w = dt > 0 ? decayFactor(dt / decayMs) : 1;
  const decayed = base * w;
  const independent = suspect !== 0 && now - rttMs >= state.rttSuspectAt;
  // Spikes are judged against the confirmed estimate itself, not its idle-decayed value: the decay is a device to
  // re-probe an endpoint, not a belief that it got faster, so a probe that answers as slowly as before is
  // an ordinary sample and re-confirms the estimate at once.
  if (rttMs > base * spikeFactor) {
    if (suspect === 0) {
      state.rttSuspect = rttMs;
      state.rttSuspectAt = now;
      state.rttBase = base;
      state.rttBaseStamp = stamp;
      state.rttEstimate = decayed * spikeFactor;
      state.rttStamp = now;
    } else if (independent) {
      // Two independent high samples: a real slowdown. Jump to the smaller of the two.
      state.rttEstimate = Math.min(rttMs, suspect);
      state.rttStamp = now;
      state.rttSuspect = 0;
    }
    // else: overlapped the suspect, so delayed by the same event (one pause, one stall); ignore.
    return;
  }
  const next = decayed + rttMs * (1 - w);
  const nextStamp = Math.max(now, stamp);
  if (suspect === 0 || independent) {
    // No suspect, or refuted by an ordinary sample: publish the confirmed estimate.
    state.rttSuspect = 0;
    state.rttEstimate = next;
    state.rttStamp = nextStamp;
  } else {
    // Overlapped the suspect: update the confirmed estimate, keep the provisional raise.
    state.rttBase = next;
    state.rttBaseStamp = nextStamp;
  }
}

/** The robust estimator with τ `decayMs` and threshold `spikeFactor`. */
export function robustEwmaEstimator(
  decayMs: number = defaultRobustEwmaOptions.decayMs,
  spikeFactor: number = defaultRobustEwmaOptions.spikeFactor,
): LatencyEstimator {
  return {
    kind: 'robust',
    decayMs,
    observe: (state, rttMs, now) => observeRobust(state, rttMs, now, decayMs, spikeFactor),
    estimate: (state, now) => currentEstimate(state, now, decayMs),
  };
}
