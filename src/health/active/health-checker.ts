/**
 * Active health checking as a {@link BalancerExtension}: probes every endpoint (with subsetting: every member of the
 * subset) on its own jittered timer and sets `EndpointState.activeHealthy` from the last `unhealthyThreshold`
 * failures / `healthyThreshold` passes in a row.
 *
 * - Probes never block picks: they run on timers (`ctx.clock.setTimer`, unref'd on the system clock), their
 *   verdict changes a flag and rebuilds the picker.
 * - Fan-out is bounded by p-limit (`concurrency`): 1,000 endpoints whose timers fall due together open at most
 *   `concurrency` sockets at once; the rest queue. The next probe of an endpoint is scheduled when its previous one
 *   settles (Envoy does the same), so a slow endpoint is never probed twice at once.
 * - Start-up (Envoy semantics, adapted): endpoints present before the first probe result are assumed healthy and
 *   probed at once — a Balancer has no warming phase, and marking the whole initial set unhealthy would only force
 *   panic routing. Endpoints added later start unhealthy ("pending") until their first probe passes, so a new
 *   instance gets traffic only once it answers its health check; during that first check one pass is enough
 *   (Envoy: "during startup, only a single successful health check is required").
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { EndpointState } from '../../balancer/endpoint-state.js';
import type { BalancerExtension, ExtensionContext } from '../../balancer/extension.js';
import type { TimerHandle } from '../../clock.js';
import { ConfigError } from '../../errors/config-error.js';
import { channels, publish } from '../../observability/channels.js';
import { HttpProber } from './http-check.js';
import { GRPC_PROBER_REQUIRED, type HealthCheckOptions } from './options.js';
import { type ProbeResult, type Prober, TIMEOUT_DETAIL } from './prober.js';

/** Per-endpoint probing state. */
interface ProbeRecord {
  readonly state: EndpointState;
  /** Never passed a probe yet (added after start-up). */
  pending: boolean;
  passes: number;
  failures: number;
  timer: TimerHandle | undefined;
  probing: boolean;
  removed: boolean;
}

/** Optional hooks, used by the Balancer to connect active checks with outlier detection. */
export interface HealthCheckerHooks {
  /** Called after every passing probe (Envoy `successful_active_health_check_uneject_host`). */
  onPass?(state: EndpointState): void;
}

function httpProber(options: HealthCheckOptions): Prober {
  if (options.protocol === 'grpc')
    throw new ConfigError({
      field: 'healthCheck.prober',
      allowed: GRPC_PROBER_REQUIRED,
      received: undefined,
    });
  return new HttpProber(options);
}

/**
 * Active health checking as a Balancer extension, built by the Balancer from its `healthCheck` option. Build one
 * yourself to use a custom {@link Prober} (e.g. a TCP connect check) and pass it in `extensions`.
 */
export class HealthChecker implements BalancerExtension {
  readonly options: HealthCheckOptions;
  readonly #prober: Prober;
  readonly #hooks: HealthCheckerHooks;
  readonly #records = new Map<EndpointState, ProbeRecord>();
  readonly #limit: LimitFunction;
  #ctx: ExtensionContext | undefined;
  /** Set once any probe has settled: endpoints added after that start pending. */
  #started = false;
  #closed = false;

  /**
   * `prober` overrides `options.prober` and the built-in HTTP prober (custom checks, tests). Protocol `'grpc'`
   * needs one of the two: its prober lives in `switchyard-lb/grpc` so that the core never loads grpc-js.
   */
  constructor(options: HealthCheckOptions, hooks: HealthCheckerHooks = {}, prober?: Prober) {
    this.options = options;
    this.#hooks = hooks;
    this.#prober = prober ?? options.prober?.(options) ?? httpProber(options);
    this.#limit = pLimit(options.concurrency);
  }

  attach(context: ExtensionContext): void {
    this.#ctx = context;
  }

  endpointAdded(state: EndpointState): void {
    const existing = this.#records.get(state);
    if (existing !== undefined) existing.removed = true;
    const record: ProbeRecord = {
      state,
      pending: this.#started,
      passes: 0,
      failures: 0,
      timer: undefined,
      probing: false,
      removed: false,
    };
    state.activeHealthy = !record.pending;
    this.#records.set(state, record);
    this.#schedule(record, 0);
  }

  endpointRemoved(state: EndpointState): void {
    const record = this.#records.get(state);
    if (record === undefined) return;
    record.removed = true;
    record.timer?.cancel();
    this.#records.delete(state);
    state.activeHealthy = true;
    this.#prober.forget?.(state.endpoint);
  }

  /** Probes every endpoint now (outside its schedule) and resolves when all have settled. For tools and tests. */
  async checkAll(): Promise<void> {
    await Promise.all([...this.#records.values()].map((r) => this.#run(r)));
  }

  /** Probes waiting for a concurrency slot. */
  get queued(): number {
    return this.#limit.pendingCount;
  }

  /** Probes running now. */
  get active(): number {
    return this.#limit.activeCount;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#limit.clearQueue();
    for (const record of this.#records.values()) record.timer?.cancel();
    this.#records.clear();
    await this.#prober.close();
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #schedule(record: ProbeRecord, delayMs: number): void {
    if (this.#closed || record.removed || this.#ctx === undefined) return;
    record.timer?.cancel();
    record.timer = this.#ctx.clock.setTimer(() => {
      record.timer = undefined;
      void this.#run(record);
    }, delayMs);
  }

  /** Next interval: `intervalMs` plus uniform jitter of up to `intervalJitterMs` and `intervalJitterPercent`. */
  #nextDelay(): number {
    const o = this.options;
    const random = this.#ctx!.random;
    return (
      o.intervalMs + random() * o.intervalJitterMs + (random() * o.intervalMs * o.intervalJitterPercent) / 100
    );
  }

  async #run(record: ProbeRecord): Promise<void> {
    if (record.probing || record.removed || this.#closed) return;
    if (!record.state.inSubset) {
      // Outside this client's subset: no connection, no traffic, so no probe (subsetting cuts health traffic as it
      // cuts connections). Look again next interval, in case widening or a coordinate change brought it in.
      this.#schedule(record, this.#nextDelay());
      return;
    }
    record.probing = true;
    record.timer?.cancel();
    record.timer = undefined;
    try {
      await this.#limit(async () => {
        if (record.removed || this.#closed) return;
        const started = this.#ctx!.clock.now();
        const result = await this.#probe(record);
        if (record.removed || this.#closed) return;
        this.#started = true;
        this.#verdict(record, result, this.#ctx!.clock.now() - started);
      });
    } finally {
      record.probing = false;
      this.#schedule(record, this.#nextDelay());
    }
  }

  async #probe(record: ProbeRecord): Promise<ProbeResult> {
    const controller = new AbortController();
    const timeout = this.#ctx!.clock.setTimer(() => controller.abort(), this.options.timeoutMs);
    try {
      return await this.#prober.probe(record.state.endpoint, controller.signal);
    } catch (error) {
      // A custom prober that throws: treat as a failed probe rather than an unhandled rejection.
      return { healthy: false, detail: controller.signal.aborted ? TIMEOUT_DETAIL : String(error) };
    } finally {
      timeout.cancel();
    }
  }

  #verdict(record: ProbeRecord, result: ProbeResult, durationMs: number): void {
    const state = record.state;
    const o = this.options;
    const before = state.activeHealthy;
    if (result.healthy) {
      record.failures = 0;
      record.passes++;
      if (!state.activeHealthy && (record.pending || record.passes >= o.healthyThreshold))
        state.activeHealthy = true;
      record.pending = false;
    } else {
      record.passes = 0;
      record.failures++;
      if (state.activeHealthy && record.failures >= o.unhealthyThreshold) state.activeHealthy = false;
    }
    publish(channels.healthCheck, {
      balancer: this.#ctx!.balancerName,
      address: state.address,
      passed: result.healthy,
      detail: result.detail,
      durationMs,
      healthy: state.activeHealthy,
    });
    if (result.healthy) this.#hooks.onPass?.(state);
    if (state.activeHealthy !== before) this.#ctx!.invalidate();
  }
}
