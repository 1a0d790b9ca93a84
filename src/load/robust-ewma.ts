/**
 * Robust Peak-EWMA ("confirmed peaks"): Peak-EWMA whose peak rule fires only when a spike is confirmed by further,
 * independent high samples. Switchyard's default latency estimate; docs/choosing-a-policy.md has the options
 * considered and the measurements behind the defaults.
 *
 * Why: with the classic peak rule every isolated spike (a GC pause, a noisy neighbour, a client-side stall)
 * becomes the estimate and fades only over τ, so fast endpoints with 0.3 % of requests at 12× their median carry
 * estimates several times their median, and a steadily 10× slower endpoint looks only ~2× worse. Without any peak
 * rule (plain EWMA) a real slowdown takes ~τ to show. This estimator keeps both properties:
 *
 * - A sample at most `spikeFactor` × the confirmed estimate is an ordinary EWMA sample: weight `1 − e^(−Δt/τ)`, Δt
 *   the time since the last update (Finagle's time-weighted EWMA: no dependence on the request rate).
 * - A sample above that is a *suspect*: remembered; the published estimate is provisionally raised to
 *   `spikeFactor ×` the confirmed one, which is kept aside.
 * - A high sample whose request *started after the previous high one arrived*, or that *arrived more than
 *   `spikeFactor` × the confirmed estimate after it*, is independent evidence; after `confirmations` of them in a
 *   row (default 2) the estimate jumps to the smallest of the high samples — the peak rule, on evidence. Other
 *   requests that overlapped the suspect were delayed by the same event (one backend pause or one client stall
 *   delays every response in flight and releases them together), so they neither confirm nor refute it. A slow
 *   answer arriving well after the suspect cannot have been released by the same pause: in a real slowdown the
 *   requests already in flight keep coming back slow one after another, and they confirm it without waiting for
 *   new requests to make the round trip.
 * - An ordinary sample from a request started after the suspect arrived refutes it: the confirmed estimate is
 *   restored exactly, as if the spike had not happened.
 *
 * Two confirmations rather than one: with 1 % spikes, two independent spikes in a row happen once per 10⁴ samples
 * (seconds at sub-millisecond latencies), three once per 10⁶. A real 10× slowdown is in the estimate once three
 * of its slow answers have come back apart (often answers to requests already in flight when it began); meanwhile
 * the provisional raise and the requests piling up (`inFlight + 1`) hold its traffic down.
 *
 * Reads decay the estimate toward 0 with τ, as in the classic estimator, so an endpoint that is not picked looks
 * cheaper as time passes and is measured again: one r× slower than its peers after about τ·ln(r) (τ 1 s: ~2.3 s
 * for 10×, ~4.6 s for 100×). That bounds how long one unlucky measurement keeps an endpoint out (no starvation).
 * A τ this much shorter than Finagle's 10 s is affordable because spikes no longer set the estimate; its cost is
 * re-probing a truly slow endpoint every τ·ln(r) (~0.6 % of requests in the tests' five-backend fleet).
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { LatencyEstimator } from '../balancer/estimator.js';
import { currentEstimate, decayFactor, LatencySample } from './peak-ewma.js';

/** Defaults: τ 1 s, spike threshold 2× the estimate, 2 confirmations (docs/choosing-a-policy.md: how chosen). */
export const defaultRobustEwmaOptions = { decayMs: 1000, spikeFactor: 2, confirmations: 2 } as const;

/** The sample being recorded and the robust estimator's parameters (see {@link LatencySample}). */
class RobustSample extends LatencySample {
  constructor(
    decayMs: number,
    readonly spikeFactor: number,
    readonly confirmations: number,
  ) {
    super(decayMs);
  }
}

/**
 * Records the latency sample held in `sample` (`rttMs`, ended at `now`).
 *
 * While a suspect is pending, the published estimate (`rttEstimate`, what pickers read) is provisionally raised to
 * `spikeFactor ×` the confirmed one, which is kept in `rttBase`/`rttBaseStamp`: the endpoint gets less traffic
 * while the evidence is out (a real slowdown costs fewer slow requests), but an isolated spike costs it at most a
 * 2× handicap until the next independent sample refutes it and the confirmed estimate is restored exactly.
 */
function observeRobust(state: EndpointState, sample: RobustSample): void {
  // The common case, kept small: no suspect pending and an ordinary sample.
  const rttMs = sample.rttMs;
  const now = sample.now;
  const estimate = state.rttEstimate;
  if (state.rttSuspect === 0 && state.rttObserved && rttMs <= estimate * sample.spikeFactor) {
    const stamp = state.rttStamp;
    if (now > stamp) {
      const w = decayFactor((now - stamp) / sample.decayMs);
      state.rttEstimate = estimate * w + rttMs * (1 - w);
      state.rttStamp = now;
    }
    return;
  }
  observeRare(state, rttMs, now, sample.decayMs, sample.spikeFactor, sample.confirmations);
}

/** Everything but the common case: the first sample, spikes, and samples while a suspect is pending. */
function observeRare(
  state: EndpointState,
  rttMs: number,
  now: number,
  decayMs: number,
  spikeFactor: number,
  confirmations: number,
): void {
  const suspect = state.rttSuspect;
  // No sample yet, or an estimate of exactly 0 (answers timed at 0 ms) that no sample can be a multiple of.
  if (!state.rttObserved || (suspect === 0 && state.rttEstimate === 0)) {
    takeFirst(state, rttMs, now);
    return;
  }
  // The confirmed estimate: the published one, or the one saved under a provisional raise.
  const base = suspect === 0 ? state.rttEstimate : state.rttBase;
  const stamp = suspect === 0 ? state.rttStamp : state.rttBaseStamp;
  const w = now > stamp ? decayFactor((now - stamp) / decayMs) : 1;
  // Independent evidence: the request started after the previous high sample arrived, or it arrived more than
  // spikeFactor × the confirmed estimate after it. One backend pause or one client stall delays every response in
  // flight and releases them together, within about one ordinary latency of each other; a slow answer that comes
  // later than that was slowed by something that lasted, which is what a real slowdown looks like.
  const since = now - state.rttSuspectAt;
  const independent = suspect !== 0 && (now - rttMs >= state.rttSuspectAt || since > spikeFactor * base);
  // Spikes are judged against the confirmed estimate itself, not its idle-decayed value: the decay is a device to
  // re-probe an endpoint, not a belief that it got faster, so a probe that answers as slowly as before is
  // an ordinary sample and re-confirms the estimate at once.
  if (rttMs > base * spikeFactor) {
    if (suspect === 0) suspectSpike(state, rttMs, now, base, stamp, base * w * spikeFactor);
    else if (independent) confirmSpike(state, rttMs, now, confirmations);
    // else: overlapped the suspect, so delayed by the same event (one pause, one stall); ignore.
    return;
  }
  const next = base * w + rttMs * (1 - w);
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

/**
 * The first sample replaces the starting guess (as in the classic estimator): a new endpoint that is truly slow
 * must not soak up traffic at the default. If it was an unlucky first answer, decay re-probes it.
 */
function takeFirst(state: EndpointState, rttMs: number, now: number): void {
  state.rttEstimate = rttMs;
  state.rttStamp = now;
  state.rttObserved = true;
  state.rttSuspect = 0;
}

/** A first high sample: remember it, keep the confirmed estimate aside, publish the provisional raise. */
function suspectSpike(
  state: EndpointState,
  rttMs: number,
  now: number,
  base: number,
  stamp: number,
  provisional: number,
): void {
  state.rttSuspect = rttMs;
  state.rttSuspectAt = now;
  state.rttSuspectCount = 0;
  state.rttBase = base;
  state.rttBaseStamp = stamp;
  state.rttEstimate = provisional;
  state.rttStamp = now;
}

/**
 * An independent high sample while a suspect is pending. After `confirmations` of them in a row it is a real
 * slowdown: the estimate jumps to the smallest of the high samples (the peak rule, on evidence).
 */
function confirmSpike(state: EndpointState, rttMs: number, now: number, confirmations: number): void {
  const smallest = Math.min(rttMs, state.rttSuspect);
  if (++state.rttSuspectCount < confirmations) {
    state.rttSuspect = smallest;
    state.rttSuspectAt = now;
    return;
  }
  state.rttEstimate = smallest;
  state.rttStamp = now;
  state.rttSuspect = 0;
}

/** The robust estimator with τ `decayMs`, threshold `spikeFactor` and `confirmations`. */
export function robustEwmaEstimator(
  decayMs: number = defaultRobustEwmaOptions.decayMs,
  spikeFactor: number = defaultRobustEwmaOptions.spikeFactor,
  confirmations: number = defaultRobustEwmaOptions.confirmations,
): LatencyEstimator {
  const sample = new RobustSample(decayMs, spikeFactor, confirmations);
  return {
    kind: 'robust',
    decayMs,
    // Small enough that V8 always inlines it: the doubles go into `sample` in place, never boxed.
    observe: (state, rttMs, now) => {
      sample.rttMs = rttMs;
      sample.now = now;
      observeRobust(state, sample);
    },
    estimate: (state, now) => currentEstimate(state, now, decayMs),
  };
}
