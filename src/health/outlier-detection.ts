/**
 * Passive outlier detection (Envoy `OutlierDetection`, gRPC A50) as a {@link BalancerExtension}.
 *
 * Fed only by `lease.release(outcome)` through the `outcome` hook, which updates counters on the endpoint's
 * {@link OutlierRecord} (field writes, no allocation) and ejects at once when a consecutive-failure rule trips.
 * Every `intervalMs` a sweep, in Envoy's order:
 *   1. returns endpoints whose ejection has lasted min(base × multiplier, max) + jitter, and lowers the multiplier
 *      of endpoints that stayed in (so a flapping endpoint is ejected for longer and longer, a recovered one is
 *      forgiven one step per healthy interval);
 *   2. runs the success-rate and failure-percentage rules over the interval's counts;
 *   3. resets the interval counts.
 * Ejection sets `EndpointState.ejected` and rebuilds the picker; at most `maxEjectionPercent` of the endpoints are
 * ejected at once, except that one ejection is always allowed (so small fleets still lose a bad endpoint). The
 * panic threshold in the routable-set selection is the second safety net.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { BalancerExtension, ExtensionContext } from '../balancer/extension.js';
import { isLocalFailure, type Outcome } from '../balancer/outcome.js';
import type { TimerHandle } from '../clock.js';
import { channels, publish } from '../observability/channels.js';
import type { OutlierDetectionOptions } from './options.js';
import { isGatewayFailure, OutlierRecord } from './outlier-record.js';
import { failurePercentageOutliers, type IntervalSample, successRateOutliers } from './outlier-statistics.js';

/** Why an endpoint was ejected (names as in Envoy's `OutlierEjectionType`, lower case). */
export type EjectionReason =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'success_rate_local_origin'
  | 'failure_percentage'
  | 'failure_percentage_local_origin';

/**
 * Passive outlier detection as a Balancer extension. Built by the Balancer from its `outlierDetection` option; build
 * one yourself (`new OutlierDetector(parseOutlierDetection(raw, 'path')!)`) only to pass it in `extensions`.
 */
export class OutlierDetector implements BalancerExtension {
  readonly options: OutlierDetectionOptions;
  // The release hook's thresholds, copied out of the frozen options object: one field load each.
  readonly #split: boolean;
  readonly #consecutive5xx: number;
  readonly #consecutiveGateway: number;
  readonly #consecutiveLocal: number;
  #ctx: ExtensionContext | undefined;
  #timer: TimerHandle | undefined;
  /** Endpoints tracked (listed by the resolver) and how many of them are ejected now. */
  #tracked = 0;
  #ejected = 0;
  #closed = false;

  constructor(options: OutlierDetectionOptions) {
    this.options = options;
    this.#split = options.splitExternalLocalOriginErrors;
    this.#consecutive5xx = options.consecutive5xx;
    this.#consecutiveGateway = options.consecutiveGatewayFailure;
    this.#consecutiveLocal = options.consecutiveLocalOriginFailure;
  }

  attach(context: ExtensionContext): void {
    this.#ctx = context;
    this.#arm();
  }

  /**
   * For a detector attached to a Balancer that already holds endpoints (a control plane turned detection on or
   * changed its options): tracks the endpoints listed now, keeping the records (counters, ejections, multipliers)
   * of the detector it replaces and giving fresh ones to the rest. Ejections carried over end on this detector's
   * schedule. Endpoints still draining are not tracked. Call once, right after `attach`.
   */
  takeOver(): void {
    for (const state of this.#ctx?.states() ?? []) {
      if (state.removed) continue;
      state.outlier ??= new OutlierRecord();
      this.#tracked++;
      if (state.outlier.ejectedAt >= 0) this.#ejected++;
    }
  }

  endpointAdded(state: EndpointState): void {
    state.outlier = new OutlierRecord();
    state.ejected = false;
    this.#tracked++;
  }

  endpointRemoved(state: EndpointState): void {
    const record = state.outlier;
    if (record === undefined) return;
    if (record.ejectedAt >= 0) this.#ejected--;
    state.outlier = undefined;
    state.ejected = false;
    this.#tracked--;
  }

  /** The release hook: O(1), allocation-free. */
  outcome(state: EndpointState, outcome: Outcome, _latencyMs: number, now: number): void {
    const r = state.outlier;
    if (r === undefined) return;
    const split = this.#split;
    if (outcome.ok) {
      r.externalSuccesses++;
      if (split) r.localSuccesses++;
      r.consecutive5xx = 0;
      r.consecutiveGateway = 0;
      r.consecutiveLocal = 0;
      return;
    }
    const local = isLocalFailure(outcome);
    if (split) {
      if (local) {
        r.localFailures++;
        if (++r.consecutiveLocal >= this.#consecutiveLocal) {
          r.consecutiveLocal = 0;
          const enforcing = this.options.enforcingConsecutiveLocalOriginFailure;
          this.#detected(state, 'consecutive_local_origin_failure', enforcing, now);
        }
        return;
      }
      // The endpoint answered: the connection worked.
      r.localSuccesses++;
      r.consecutiveLocal = 0;
    }
    r.externalFailures++;
    if (local || isGatewayFailure(outcome)) {
      if (++r.consecutiveGateway >= this.#consecutiveGateway) {
        r.consecutiveGateway = 0;
        const enforcing = this.options.enforcingConsecutiveGatewayFailure;
        this.#detected(state, 'consecutive_gateway_failure', enforcing, now);
      }
    } else {
      r.consecutiveGateway = 0;
    }
    if (++r.consecutive5xx >= this.#consecutive5xx) {
      r.consecutive5xx = 0;
      this.#detected(state, 'consecutive_5xx', this.options.enforcingConsecutive5xx, now);
    }
  }

  /**
   * Returns an ejected endpoint early (Envoy `successful_active_health_check_uneject_host`: a passing active health
   * check ends an ejection). No-op when the endpoint is not ejected.
   */
  returnEndpoint(state: EndpointState): void {
    const r = state.outlier;
    if (r === undefined || r.ejectedAt < 0 || this.#ctx === undefined) return;
    this.#uneject(state, r, this.#ctx.clock.now());
    this.#ctx.invalidate();
  }

  /**
   * Puts `record` — kept from another detector with the same options, already brought up to date (a grpc-js policy
   * rebuilt after its channel went idle, src/grpc/state-keeper.ts) — in place of the fresh one `endpointAdded` just
   * gave `state`. An ejection in it stays in force and ends on this detector's sweep. No event is published.
   */
  adopt(state: EndpointState, record: OutlierRecord): void {
    const replaced = state.outlier;
    if (replaced === undefined) return;
    // The ejected count follows the records (as in endpointRemoved): the replaced one leaves it, the adopted one joins.
    if (replaced.ejectedAt >= 0) this.#ejected--;
    state.outlier = record;
    state.ejected = record.ejectedAt >= 0;
    if (state.ejected) this.#ejected++;
  }

  /** Endpoints ejected now. */
  get ejectedCount(): number {
    return this.#ejected;
  }

  /**
   * Outlier detection is being turned off: returns every endpoint it ejected (publishing `endpointReturned`),
   * drops the per-endpoint records and stops. The caller rebuilds the picker.
   */
  detach(): void {
    const ctx = this.#ctx;
    if (ctx !== undefined) {
      const now = ctx.clock.now();
      for (const state of ctx.states()) {
        const r = state.outlier;
        if (r === undefined) continue;
        if (r.ejectedAt >= 0) this.#uneject(state, r, now);
        state.outlier = undefined;
      }
    }
    this.#tracked = 0;
    this.close();
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #arm(): void {
    if (this.#closed || this.#ctx === undefined) return;
    this.#timer = this.#ctx.clock.setTimer(() => this.#sweep(), this.options.intervalMs);
  }

  /** A rule tripped: eject with probability `enforcing` percent, within the max-ejection-percent budget. */
  #detected(state: EndpointState, reason: EjectionReason, enforcing: number, now: number): boolean {
    const r = state.outlier;
    if (r === undefined || r.ejectedAt >= 0 || this.#ctx === undefined) return false;
    if (enforcing < 100 && !(this.#ctx.random() * 100 < enforcing)) return false;
    // Envoy: eject while the share already ejected is below the cap; one ejection is always allowed.
    if (this.#ejected > 0 && (100 * this.#ejected) / this.#tracked >= this.options.maxEjectionPercent)
      return false;
    const o = this.options;
    this.#ejected++;
    r.ejectedAt = now;
    r.timesEjected++;
    if (r.multiplier * o.baseEjectionTimeMs < o.maxEjectionTimeMs + o.baseEjectionTimeMs) r.multiplier++;
    r.jitterMs = o.maxEjectionTimeJitterMs > 0 ? this.#ctx.random() * o.maxEjectionTimeJitterMs : 0;
    state.ejected = true;
    publish(channels.endpointEjected, {
      balancer: this.#ctx.balancerName,
      address: state.address,
      reason,
      ejectionMs: this.#ejectionMs(r),
      timesEjected: r.timesEjected,
    });
    this.#ctx.invalidate();
    return true;
  }

  /** How long the current ejection lasts: min(base × multiplier, max(base, max)) + jitter. */
  #ejectionMs(r: OutlierRecord): number {
    const o = this.options;
    return (
      Math.min(o.baseEjectionTimeMs * r.multiplier, Math.max(o.baseEjectionTimeMs, o.maxEjectionTimeMs)) +
      r.jitterMs
    );
  }

  #uneject(state: EndpointState, r: OutlierRecord, now: number): void {
    const ejectedForMs = now - r.ejectedAt;
    r.ejectedAt = -1;
    // Envoy resets the consecutive counters so that a few failures right after return do not re-eject at once.
    r.resetConsecutive();
    state.ejected = false;
    this.#ejected--;
    publish(channels.endpointReturned, {
      balancer: this.#ctx!.balancerName,
      address: state.address,
      ejectedForMs,
    });
  }

  #sweep(): void {
    const ctx = this.#ctx;
    if (ctx === undefined || this.#closed) return;
    const now = ctx.clock.now();
    let changed = false;
    const tracked: EndpointState[] = [];
    for (const state of ctx.states()) {
      const r = state.outlier;
      if (r === undefined) continue;
      tracked.push(state);
      if (r.ejectedAt < 0) {
        if (r.multiplier > 0) r.multiplier--;
      } else if (now - r.ejectedAt >= this.#ejectionMs(r)) {
        this.#uneject(state, r, now);
        changed = true;
      }
    }
    // Ejections below call invalidate() themselves; count them to avoid a second rebuild.
    const before = this.#ejected;
    this.#statistical(tracked, now, false);
    if (this.options.splitExternalLocalOriginErrors) this.#statistical(tracked, now, true);
    for (const state of tracked) state.outlier!.resetInterval();
    if (changed && this.#ejected === before) ctx.invalidate();
    this.#arm();
  }

  #statistical(tracked: readonly EndpointState[], now: number, local: boolean): void {
    const o = this.options;
    const samples: IntervalSample<EndpointState>[] = [];
    for (const state of tracked) {
      const r = state.outlier!;
      // Envoy skips endpoints already ejected: their counts are from panic routing or stragglers.
      if (r.ejectedAt >= 0) continue;
      samples.push(
        local
          ? { item: state, successes: r.localSuccesses, failures: r.localFailures }
          : { item: state, successes: r.externalSuccesses, failures: r.externalFailures },
      );
    }
    const sr = o.successRate;
    const fp = o.failurePercentage;
    this.#ejectAll(
      successRateOutliers(samples, sr),
      local ? 'success_rate_local_origin' : 'success_rate',
      local ? sr.enforcingLocalOrigin : sr.enforcing,
      now,
    );
    this.#ejectAll(
      failurePercentageOutliers(samples, fp),
      local ? 'failure_percentage_local_origin' : 'failure_percentage',
      local ? fp.enforcingLocalOrigin : fp.enforcing,
      now,
    );
  }

  #ejectAll(
    outliers: readonly EndpointState[],
    reason: EjectionReason,
    enforcing: number,
    now: number,
  ): void {
    for (const state of outliers) this.#detected(state, reason, enforcing, now);
  }
}
