/**
 * The runtime state the balancer keeps per endpoint, apart from the immutable {@link Endpoint} description.
 *
 * Pickers read these fields on the hot path, so they are plain numeric/boolean fields on one class (one hidden
 * class for V8, no Map lookups, no getters). Only the Balancer and health modules write them.
 */
import type { Endpoint } from '../endpoint.js';
import type { OutlierRecord } from '../health/outlier-record.js';

export class EndpointState {
  /** The current description; replaced (same address) when the resolver changes weight, locality, … */
  endpoint: Endpoint;
  readonly address: string;

  /** Requests picked and not yet released. */
  inFlight = 0;
  // Initialised here (the constructor sets the real values) so the two fields start as numbers: a field declared
  // without initialiser is defined as `undefined` first (ES2022 class fields), V8 then stores it as a tagged value,
  // and every double the estimator writes is a new 16-byte heap number (two per release, measured).
  /** Latency estimate in ms, as of {@link rttStamp} (decays toward 0 while idle; see load/peak-ewma.ts, load/robust-ewma.ts). */
  rttEstimate = 0;
  /** Clock time of the last estimate update. */
  rttStamp = 0;
  /** True once a latency has been observed (the estimate is no longer the default). */
  rttObserved = false;
  /**
   * Robust estimator only (load/robust-ewma.ts): an unconfirmed high sample in ms, 0 when none, and the clock time
   * its response arrived; while one is pending, the confirmed estimate and its stamp (`rttEstimate` is then a
   * provisional raise).
   */
  rttSuspect = 0;
  rttSuspectAt = 0;
  /** Independent high samples seen since the suspect (robust estimator's `confirmations`). */
  rttSuspectCount = 0;
  rttBase = 0;
  rttBaseStamp = 0;

  /** Lifetime counters, for stats: releases by outcome (a failure is any outcome but `ok` and `cancelled`). */
  successes = 0;
  failures = 0;
  cancels = 0;

  /** Weight the pickers use: `endpoint.weight` times the slow-start factor (health module). */
  effectiveWeight: number;
  /** When the endpoint (re)entered the routable set, for slow start. */
  activeSince: number;

  /**
   * Most requests this endpoint may have in flight (circuit breaking); picks skip an endpoint that is full.
   * `Infinity` when no limit is set.
   */
  maxInFlight = Number.POSITIVE_INFINITY;
  /** In the current picker's snapshot (maintained by the Balancer on every rebuild). */
  routable = false;
  /** Removed by the resolver; gets no new picks, its outstanding leases still release. */
  removed = false;
  /** Ejected by passive outlier detection. */
  ejected = false;
  /** Last verdict of active health checking (true when checks are off). */
  activeHealthy = true;
  /**
   * In this client's subset (src/subsetting); always true without subsetting. Active health checks probe members
   * only, so subsetting cuts health traffic as it cuts connections.
   */
  inSubset = true;
  /**
   * Passive outlier detection's per-endpoint counters (src/health/outlier-detection.ts), `undefined` when outlier
   * detection is off. A field rather than a Map keyed by endpoint because it is updated on every release.
   */
  outlier: OutlierRecord | undefined = undefined;

  constructor(endpoint: Endpoint, now: number, initialRtt: number) {
    this.endpoint = endpoint;
    this.address = endpoint.address;
    this.rttEstimate = initialRtt;
    this.rttStamp = now;
    this.effectiveWeight = endpoint.weight;
    this.activeSince = now;
  }

  /**
   * Lifetime picks: every pick is in flight or was released as a success, a failure or a cancel. Derived so that the
   * pick path writes one counter less.
   */
  get picks(): number {
    return this.inFlight + this.successes + this.failures + this.cancels;
  }

  /** Healthy by every signal switchyard has: not removed, not ejected, active checks pass, not reported down. */
  get healthy(): boolean {
    const reported = this.endpoint.health;
    return (
      !this.removed &&
      !this.ejected &&
      this.activeHealthy &&
      reported !== 'unhealthy' &&
      reported !== 'draining'
    );
  }
}
