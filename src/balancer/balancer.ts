/**
 * The Balancer: owns the endpoint set and its runtime state, decides what is routable, builds pickers, and does
 * the bookkeeping of every pick and release.
 *
 *   resolver ──updates──▶ Balancer ──routable set──▶ policy.build() ──▶ Picker (immutable snapshot)
 *                              ▲                                            │
 *                              └──── lease.release(outcome) ◀── pick() ◀────┘
 *
 * The hot path is `pick()` and `release()`: they touch numeric fields on {@link EndpointState}, allocate only the
 * returned {@link Lease}, and read the clock at most once each (not at all when the caller passes `now`).
 * Everything else — endpoint updates, health changes, policy changes — rebuilds the picker off the hot path.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import { checkNumber } from '../config/validate.js';
import { type Endpoint, type EndpointInput, parseEndpoints } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import { channels, publish } from '../observability/channels.js';
import type { RandomSource } from '../random.js';
import type { Subset } from '../subsetting/subset.js';
import type { AddressPolicy, EndpointSource } from './address-policy.js';
import { ClusterSettings, type ClusterSettingsChange } from './cluster-settings.js';
import {
  type AcceptedUpdate,
  type AdmitContext,
  acceptResolverUpdate,
  admitEndpoints,
} from './endpoint-intake.js';
import { applyEndpoints } from './endpoint-set.js';
import type { EndpointState } from './endpoint-state.js';
import type { LatencyEstimator } from './estimator.js';
import type { BalancerExtension } from './extension.js';
import type { HealthExtensions } from './health/mechanism.js';
import { HealthSet } from './health/set.js';
import { type EndpointHandle, LATENCY_SAMPLE_EVERY, Lease } from './lease.js';
import type { CircuitBreakerLimits } from './limits.js';
import {
  type BalancerEvents,
  type BalancerOptions,
  DEFAULT_LATENCY_DECAY_MS,
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_RTT_MS,
  type PickFailure,
} from './options.js';
import type { Outcome } from './outcome.js';
import { parseBalancerOptions } from './parse-options.js';
import {
  EMPTY_PICKER,
  type PickContext,
  type Picker,
  type Policy,
  type SharedLoad,
} from './policy/picker.js';
import {
  createPolicy,
  type ParsedPolicy,
  type PolicyConfig,
  parsePolicyConfig,
  policyEstimator,
} from './policy/registry.js';
import { ReadyGate } from './ready-gate.js';
import type { Resolver, ResolverUpdate } from './resolver.js';
import type { RoutingOptions } from './routing/options.js';
import { route } from './routing/routable.js';
import { type BalancerStats, balancerStats } from './stats.js';

export type { EndpointHandle } from './lease.js';
export type { BalancerEvents, BalancerOptions, PickFailure, UpdateEvent } from './options.js';
export { defaultBalancerOptions } from './options.js';

const NO_CONTEXT: PickContext = Object.freeze({});

/**
 * Whether {@link Balancer.complete} throws on a completion it can tell is wrong (no request in flight on the
 * endpoint): everywhere but production, where it is ignored. Read once.
 */
const STRICT_COMPLETE = process.env.NODE_ENV !== 'production';

/**
 * A client-side load balancer over a set of endpoints.
 *
 * ```ts
 * const balancer = new Balancer({ endpoints: ['10.0.0.1:80', '10.0.0.2:80'], policy: 'p2c_peak_ewma' });
 * const lease = balancer.pick();
 * if (lease) { try { await send(lease.endpoint); lease.release(); } catch { lease.release({ ok: false, failure: 'connect' }); } }
 * ```
 */
export class Balancer extends EventEmitter<BalancerEvents> {
  readonly name: string;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  #routing: RoutingOptions;
  /** The health mechanisms (balancer/health/); a control plane may replace some of them. */
  readonly #health: HealthSet;
  readonly #closeTimeoutMs: number;
  readonly #resolver: Resolver | undefined;
  readonly #addressPolicy: AddressPolicy;
  /** The extensions given in the options, after the health ones in {@link Balancer.#extensions}. */
  readonly #userExtensions: readonly BalancerExtension[];
  // Both lists are replaced whole, off the hot path, when a control plane adds or removes a health extension;
  // the release path reads the field once into a local, as before.
  #extensions: readonly BalancerExtension[];
  #outcomeObservers: readonly BalancerExtension[];
  readonly #load: SharedLoad = { totalInFlight: 0 };
  #overflowLimit: 'maxRequests' | 'maxRequestsPerEndpoint' = 'maxRequests';
  /** Every endpoint we hold state for: listed ones and removed ones still draining. */
  readonly #states = new Map<string, EndpointState>();
  #limits: CircuitBreakerLimits;
  /** Which outlier detection, circuit breaker and slow start are in force: the code's or the control plane's. */
  readonly #clusterSettings: ClusterSettings;

  #policy: Policy;
  /** The last policy configuration a resolver sent, serialised, to skip rebuilding an unchanged policy. */
  #clusterPolicyKey: string | undefined;
  /**
   * `LATENCY_SAMPLE_EVERY − 1` when the policy reads no latency (declares no `latency`): its estimates are sampled,
   * see {@link LATENCY_SAMPLE_EVERY}; 0 (every response observed) for a latency-aware policy.
   */
  #latencySampleMask = 0;
  /** Why the last {@link Balancer.#acquire} that returned `undefined` did. */
  #pickFailure: PickFailure = 'unavailable';
  /** The policy's latency estimator, cached off the hot path. */
  #estimator!: LatencyEstimator;
  #picker: Picker = EMPTY_PICKER;
  #routableCount = 0;
  #panic = false;
  #closed = false;
  #closeWaiters: (() => void)[] = [];
  /** The first endpoint set (static or a resolver's first good update) and those waiting for it. */
  readonly #ready = new ReadyGate();
  /** This client's subset of the endpoints (src/subsetting), `undefined` when every endpoint is a candidate. */
  readonly #subset: Subset | undefined;

  constructor(options: BalancerOptions) {
    super();
    const parsed = parseBalancerOptions(options);
    this.name = parsed.name;
    this.#clock = parsed.clock;
    this.#random = parsed.random;
    this.#routing = parsed.routing;
    this.#closeTimeoutMs = parsed.closeTimeoutMs;
    this.#policy = this.#createPolicy(parsed.policy);
    this.#health = new HealthSet(parsed.health);
    this.#userExtensions = parsed.extensions;
    this.#extensions = [];
    this.#outcomeObservers = [];
    this.#setExtensionLists();
    this.#limits = parsed.limits;
    this.#clusterSettings = new ClusterSettings(parsed.raw);
    this.#addressPolicy = parsed.addressPolicy;
    for (const extension of this.#extensions) extension.attach?.(this.#extensionContext());
    this.#subset = parsed.subset;
    this.#subset?.attach(this.#extensionContext());
    const initial = parsed.endpoints;
    if (initial !== undefined)
      this.#apply(admitEndpoints(initial, 'static', 'static', this.#admitContext()) ?? [], 'static');
    this.#resolver = parsed.resolver;
    this.#resolver?.start({
      onUpdate: (update) => this.#onResolverUpdate(update),
      onError: (error) => {
        if (this.#closed) return;
        this.emit('resolver-error', error);
        // No answer yet and the resolver failed: waiters learn now rather than at their timeout.
        if (!this.#ready.resolved) this.#ready.fail();
      },
    });
  }

  /**
   * Chooses an endpoint for one request and returns a lease on it, or `undefined` when nothing is routable, every
   * routable endpoint is at its in-flight limit, or the balancer is closed ({@link Balancer.tryPick} tells which).
   * Every lease must be released exactly once; extra releases are ignored.
   */
  pick(ctx: PickContext = NO_CONTEXT): Lease | undefined {
    const now = ctx.now ?? this.#clock.now();
    const state = this.#acquire(ctx, now);
    return state === undefined ? undefined : new Lease(this, state, now);
  }

  /**
   * The circuit-breaker limit behind the last `'overflow'` from {@link Balancer.tryPick}: `maxRequests` (the
   * balancer-wide limit) or `maxRequestsPerEndpoint` (every routable endpoint full). `tryPick` is synchronous, so read
   * it right after the call; a field read, where working it out from `stats()` would allocate every endpoint's stats.
   */
  get overflowLimit(): 'maxRequests' | 'maxRequestsPerEndpoint' {
    return this.#overflowLimit;
  }

  /**
   * Like {@link Balancer.pick}, but says why no lease was given: `'unavailable'` (nothing routable, or closed) or
   * `'overflow'` (every routable endpoint is at its `maxInFlight` limit). Adapters use this to fail with the
   * right typed error. Allocates nothing but the lease.
   */
  tryPick(ctx: PickContext = NO_CONTEXT): Lease | PickFailure {
    const now = ctx.now ?? this.#clock.now();
    const state = this.#acquire(ctx, now);
    return state === undefined ? this.#pickFailure : new Lease(this, state, now);
  }

  /**
   * The Lease-free pick, for adapters that time their requests anyway: like {@link Balancer.tryPick}, but returns
   * the endpoint's handle with the request already counted in flight, and allocates nothing. The caller must end
   * the request with exactly one {@link Balancer.complete} call on every path (success, failure, cancel, a pick it
   * did not use): nothing here can tell a second completion of one request from the completion of another request
   * to the same endpoint, so a lost or doubled completion skews that endpoint's in-flight count (and with it
   * least-request and P2C picks, circuit breaking and `close()`) for the life of the balancer. Use
   * {@link Balancer.tryPick} and a {@link Lease} unless a request's allocation matters.
   *
   * `ctx.now` is the time the request starts on the balancer's {@link Balancer.clock}; keep it (or read the clock)
   * to pass as `startedAt` to `complete`. Read `handle.endpoint` right away: it is the endpoint's current
   * description, replaced when the resolver changes the endpoint's weight or metadata.
   *
   * ```ts
   * const now = balancer.clock.now();
   * const handle = balancer.tryAcquire({ now });
   * if (typeof handle === 'string') throw new Error(handle); // 'unavailable' | 'overflow'
   * send(handle.endpoint).then(
   *   () => balancer.complete(handle, { ok: true, latencyMs: balancer.clock.now() - now }, now),
   *   () => balancer.complete(handle, { ok: false, failure: 'connect' }, now),
   * );
   * ```
   */
  tryAcquire(ctx: PickContext = NO_CONTEXT): EndpointHandle | PickFailure {
    const state = this.#acquire(ctx, ctx.now ?? this.#clock.now());
    return state === undefined ? this.#pickFailure : (state as unknown as EndpointHandle);
  }

  /**
   * {@link Balancer.tryAcquire} without the reason: the handle, or `undefined` when nothing can be picked. The same
   * contract: exactly one {@link Balancer.complete} per handle returned.
   */
  acquire(ctx: PickContext = NO_CONTEXT): EndpointHandle | undefined {
    return this.#acquire(ctx, ctx.now ?? this.#clock.now()) as unknown as EndpointHandle | undefined;
  }

  /**
   * Ends a request begun with {@link Balancer.acquire} or {@link Balancer.tryAcquire}: frees its in-flight slot and
   * reports its outcome, exactly as {@link Lease.release} does (latency estimate, passive health, counters; a
   * `cancelled` outcome frees the slot only). Call it exactly once per acquired handle, on this balancer.
   *
   * @param handle what `acquire`/`tryAcquire` returned.
   * @param outcome how the request went; with `latencyMs` and `now` (ms on the balancer's clock) the balancer reads no
   *   clock.
   * @param startedAt when the request started, in ms on the balancer's clock (the `ctx.now` given to `acquire`): the
   *   latency is measured from it when `outcome.latencyMs` is absent.
   * @throws Error when the endpoint has no request in flight (a completion without an acquire, or a second one on an
   *   idle endpoint), unless `NODE_ENV` is `production`, where the call is ignored. The counts stay as they were
   *   either way. A doubled completion while other requests to the endpoint are in flight cannot be detected.
   */
  complete(handle: EndpointHandle, outcome: Outcome, startedAt: number): void {
    const state = handle as unknown as EndpointState;
    if (state.inFlight === 0) {
      if (STRICT_COMPLETE) throw new Error(`complete() on ${state.address} with no request in flight`);
      return;
    }
    this.#settle(state, outcome, startedAt);
  }

  /**
   * Replaces the endpoint list. Throws {@link ConfigError} on bad input. `source` says where the list came from, for
   * the address policy: `'static'` (default, the application's own list) or `'resolver'` (an adapter passing on a
   * name resolver's answer, as the gRPC policy does), which the resolver defaults apply to.
   */
  setEndpoints(endpoints: readonly EndpointInput[], source: EndpointSource = 'static'): void {
    if (source !== 'static' && source !== 'resolver')
      throw new ConfigError({ field: 'source', allowed: '"static" or "resolver"', received: source });
    const admitted = admitEndpoints(
      parseEndpoints(endpoints, 'endpoints'),
      source,
      'setEndpoints',
      this.#admitContext(),
    );
    if (admitted !== undefined) this.#apply(admitted, 'setEndpoints');
  }

  /** Switches policy; validates first and throws {@link ConfigError}, keeping the old policy, on bad input. */
  setPolicy(policy: PolicyConfig): void {
    this.#policy = this.#createPolicy(parsePolicyConfig(policy, 'policy'));
    this.#rebuild();
  }

  /** Asks the resolver to re-resolve soon (adapters call this when a connection to an endpoint drops). */
  refresh(): void {
    this.#resolver?.refresh();
  }

  /** True once the first endpoint set arrived: at once for `endpoints`, at the resolver's first good update otherwise. */
  get resolved(): boolean {
    return this.#ready.resolved;
  }

  /**
   * Waits for the first endpoint set (for a resolver: its first good update, which may legitimately be empty).
   * Resolves `true` when it has arrived — at once when it already had — and `false` when `timeoutMs` passed, the
   * resolver reported an error before answering, or the balancer was closed. Requests picked before the first
   * resolution find nothing routable; adapters wait on this first (see docs/undici.md).
   *
   * @param timeoutMs most time to wait, in ms, 0..3,600,000. Default 10,000 (a DNS resolver's first answer,
   *   retries included, normally arrives well within it).
   */
  ready(timeoutMs: number = DEFAULT_READY_TIMEOUT_MS): Promise<boolean> {
    checkNumber(timeoutMs, 'timeoutMs', { min: 0, max: 3_600_000 });
    if (this.#closed && !this.#ready.resolved) return Promise.resolve(false);
    return this.#ready.wait(this.#clock, timeoutMs);
  }

  /** The current policy's name. */
  get policy(): string {
    return this.#policy.name;
  }

  /** True while the healthy-panic threshold is in force. */
  get panic(): boolean {
    return this.#panic;
  }

  /**
   * The running health mechanisms, each under its property (`undefined` when its option is off): for the built-ins
   * `outlierDetector`, `healthChecker` and `slowStart`, e.g. `balancer.health.healthChecker?.checkAll()`,
   * `balancer.health.outlierDetector?.ejectedCount`. A control plane's cluster settings may replace a mechanism:
   * read this again rather than keep it.
   */
  get health(): HealthExtensions {
    return this.#health.view;
  }

  /**
   * Circuit-breaker limits in force (every field `Infinity` when circuit breaking is off). A control plane's
   * cluster settings may replace them: read this again rather than keep it.
   */
  get limits(): CircuitBreakerLimits {
    return this.#limits;
  }

  /**
   * The subsetting layer from the `subset` option (`undefined` without it): its members, ring fingerprint, and
   * `setCoordinate()` to move this client on the peer ring. See docs/subsetting.md.
   */
  get subset(): Subset | undefined {
    return this.#subset;
  }

  /** The clock this balancer measures with (adapters share it to pass `now`). */
  get clock(): Clock {
    return this.#clock;
  }

  /** A snapshot of every endpoint's state and the balancer's totals. Allocates; not for the hot path. */
  stats(): BalancerStats {
    const summary = {
      name: this.name,
      policy: this.#policy.name,
      panic: this.#panic,
      routable: this.#routableCount,
      totalInFlight: this.#load.totalInFlight,
      closed: this.#closed,
    };
    return balancerStats(summary, this.#states.values(), this.#estimator, this.#clock.now());
  }

  /**
   * Stops picking at once, closes the resolver and extensions, then waits for outstanding leases to be released,
   * up to `closeTimeoutMs`. Resolves `true` when every lease came back, `false` on timeout. Idempotent.
   */
  async close(): Promise<boolean> {
    if (!this.#closed) {
      this.#closed = true;
      this.#picker = EMPTY_PICKER;
      this.#ready.fail();
      await this.#resolver?.close();
      await this.#subset?.close();
      for (const extension of this.#extensions) await extension.close?.();
    }
    if (this.#load.totalInFlight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimer(() => resolve(false), this.#closeTimeoutMs);
      this.#closeWaiters.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #createPolicy(parsed: ParsedPolicy): Policy {
    const policy = createPolicy(parsed, { random: this.#random, clock: this.#clock, load: this.#load });
    this.#estimator = policyEstimator(policy, DEFAULT_LATENCY_DECAY_MS);
    this.#latencySampleMask = policy.latency === undefined ? LATENCY_SAMPLE_EVERY - 1 : 0;
    return policy;
  }

  /**
   * The pick's bookkeeping: balancer-wide circuit breaking, the picker, the per-endpoint limit and exclusions, then
   * the in-flight counts. The one path under `pick`, `tryPick`, `acquire` and `tryAcquire`. `undefined` when nothing
   * can be picked, with the reason in {@link Balancer.#pickFailure} (comparing with `undefined` is one instruction,
   * a `typeof` test on a union result several).
   */
  #acquire(ctx: PickContext, now: number): EndpointState | undefined {
    const load = this.#load;
    // Circuit breaking, balancer-wide (per endpoint it is EndpointState.maxInFlight, handled below).
    if (load.totalInFlight >= this.#limits.maxRequests) {
      this.#overflowLimit = 'maxRequests';
      this.#pickFailure = 'overflow';
      return undefined;
    }
    let state = this.#picker.pick(ctx, now);
    if (state === undefined) {
      this.#pickFailure = 'unavailable';
      return undefined;
    }
    if (
      state.inFlight >= state.maxInFlight ||
      (ctx.exclude !== undefined && isExcluded(state.address, ctx.exclude))
    ) {
      const other = this.#pickAvoiding(ctx, now, state);
      if (other === undefined) {
        this.#overflowLimit = 'maxRequestsPerEndpoint';
        this.#pickFailure = 'overflow';
        return undefined;
      }
      state = other;
    }
    // `picks` is derived (EndpointState.picks): one counter less on every pick.
    state.inFlight++;
    load.totalInFlight++;
    return state;
  }

  /**
   * The release's bookkeeping, under `Lease.release` and `complete`. Work is done only where something reads it:
   * under a policy that reads no latency and with no extension watching outcomes, 15 of 16 releases touch counters
   * only — no clock read, no latency arithmetic, no estimator.
   *
   * Flags are compared with `=== true`: V8 types a boolean field as any oddball, and a bare `if (flag)` on one
   * compiles to a full ToBoolean (about eight instructions and branches) where `=== true` is one compare.
   */
  #settle(state: EndpointState, outcome: Outcome, startedAt: number): void {
    state.inFlight--;
    const total = --this.#load.totalInFlight;
    // A policy that reads no latency gets a sampled estimate (for stats and metrics): the first response, then one
    // in LATENCY_SAMPLE_EVERY (successes and failures counted apart). The mask is 0 for a latency-aware policy.
    const mask = this.#latencySampleMask;
    if (outcome.ok === true) {
      const n = ++state.successes;
      const observe = (n & mask) === 0 || state.rttObserved === false;
      if (observe || this.#outcomeObservers.length !== 0) this.#report(state, outcome, startedAt, observe);
    } else if (outcome.failure !== 'cancelled') {
      const n = ++state.failures;
      this.#report(state, outcome, startedAt, (n & mask) === 0 || state.rttObserved === false);
    } else {
      // Cancelled: the caller gave up; in-flight bookkeeping only, never latency or health.
      state.cancels++;
    }
    if (state.removed === true && state.inFlight === 0) this.#forget(state);
    if (total === 0 && this.#closed === true) this.#wakeClosers();
  }

  /** Times a finished request and feeds the estimator (when `observe`) and the outcome observers. */
  #report(state: EndpointState, outcome: Outcome, startedAt: number, observe: boolean): void {
    // Time the request once: the caller's numbers when given, else one clock read.
    const now =
      outcome.now ?? (outcome.latencyMs === undefined ? this.#clock.now() : startedAt + outcome.latencyMs);
    const latency = outcome.latencyMs ?? now - startedAt;
    if (observe) {
      const estimator = this.#estimator;
      // A failure may only raise the estimate: fast failures (connection refused in 0.1 ms) must not make a
      // broken endpoint look like the fastest one and attract more traffic.
      if (outcome.ok === true || latency > estimator.estimate(state, now))
        estimator.observe(state, latency, now);
    }
    const observers = this.#outcomeObservers;
    for (let i = 0; i < observers.length; i++) observers[i]!.outcome!(state, outcome, latency, now);
  }

  /**
   * The picker chose an endpoint that is full (a hard limit) or excluded (a preference). Find another: the policy's
   * own second choices when it has them (`pickNext`: the hashing policies walk on along the ring or table), else up
   * to four more tries through the picker, which keep the policy's preferences (Finagle's maxEffort is 4), then a
   * scan from a random offset. Returns `undefined` only when every routable endpoint is full.
   */
  #pickAvoiding(ctx: PickContext, now: number, first: EndpointState): EndpointState | undefined {
    const exclude = ctx.exclude;
    const acceptable = (s: EndpointState) =>
      s.inFlight < s.maxInFlight && (exclude === undefined || !isExcluded(s.address, exclude));
    const picker = this.#picker;
    if (picker.pickNext !== undefined) {
      const next = picker.pickNext(ctx, now, acceptable);
      if (next !== undefined) return next;
    } else {
      for (let attempt = 0; attempt < 4; attempt++) {
        const state = picker.pick(ctx, now);
        if (state !== undefined && acceptable(state)) return state;
      }
    }
    const routable = [...this.#states.values()].filter((s) => s.routable);
    const offset = (this.#random() * routable.length) | 0;
    let notFull: EndpointState | undefined = first.inFlight < first.maxInFlight ? first : undefined;
    for (let k = 0; k < routable.length; k++) {
      const state = routable[(offset + k) % routable.length]!;
      if (acceptable(state)) return state;
      if (notFull === undefined && state.inFlight < state.maxInFlight) notFull = state;
    }
    // Everything not full is excluded: exclusion is a preference, so reuse one rather than fail.
    return notFull;
  }

  #onResolverUpdate(update: ResolverUpdate): void {
    if (this.#closed) return;
    let accepted: AcceptedUpdate;
    try {
      accepted = acceptResolverUpdate(update, {
        ...this.#admitContext(),
        routing: this.#routing,
        clusterSettings: this.#clusterSettings,
        clusterPolicyKey: this.#clusterPolicyKey,
      });
    } catch (error) {
      // The last good state stays.
      this.emit('resolver-error', error as Error);
      return;
    }
    if (accepted.policy !== undefined) {
      this.#policy = this.#createPolicy(accepted.policy);
      this.#clusterPolicyKey = accepted.policyKey;
    }
    this.#applyClusterSettings(accepted.settings);
    this.#routing = accepted.routing;
    this.#apply(accepted.endpoints, update.note);
  }

  /**
   * Puts a control plane's changed settings in force. Off the hot path; the picker is rebuilt by the endpoint
   * update that follows. Outlier detection: a new detector takes over the current records and ejections (they end
   * on its schedule); turning detection off returns every ejected endpoint at once.
   */
  #applyClusterSettings(change: ClusterSettingsChange): void {
    this.#clusterSettings.commit(change);
    if (change.health.size > 0) {
      const context = this.#extensionContext();
      const created = this.#health.replace(change.health, context);
      this.#setExtensionLists();
      this.#health.attach(created, context);
    }
    if (change.circuitBreaker !== undefined) {
      const limits = change.circuitBreaker;
      this.#limits = limits;
      for (const state of this.#states.values()) state.maxInFlight = limits.maxRequestsPerEndpoint;
    }
  }

  /** Health extensions first (they decide health; slow start reads it), then the caller's. */
  #setExtensionLists(): void {
    this.#extensions = [...this.#health.list, ...this.#userExtensions];
    // Only extensions with an outcome hook are visited on release: every one costs on the hot path.
    this.#outcomeObservers = this.#extensions.filter((e) => e.outcome !== undefined);
  }

  #admitContext(): AdmitContext {
    return { balancer: this.name, addressPolicy: this.#addressPolicy, resolved: this.#ready.resolved };
  }

  #apply(endpoints: readonly Endpoint[], note: string | undefined): void {
    const { added, changed, removed } = applyEndpoints(this.#states, endpoints, {
      now: this.#clock.now(),
      maxInFlight: this.#limits.maxRequestsPerEndpoint,
      estimator: this.#estimator,
      defaultRttMs: this.#policy.latency?.defaultRttMs ?? DEFAULT_RTT_MS,
      extensions: this.#extensions,
      forget: (state) => this.#forget(state),
    });
    this.#rebuild();
    this.#ready.open();
    this.emit('update', { added, removed, changed, ...(note === undefined ? {} : { note }) });
    for (const address of added) publish(channels.endpointAdded, { balancer: this.name, address });
    for (const address of removed) publish(channels.endpointRemoved, { balancer: this.name, address });
  }

  #forget(state: EndpointState): void {
    if (this.#states.get(state.address) !== state) return;
    this.#states.delete(state.address);
    this.emit('drained', state.endpoint);
  }

  /**
   * The subset's members (every state without subsetting). When known endpoints joined the subset and a mechanism
   * derives weights (slow start), the weights are derived once more, so a joining endpoint ramps from now instead
   * of taking its full share on a cold connection; then the subset applies its overlaps to the new weights.
   */
  #subsetCandidates(now: number): Iterable<EndpointState> {
    const subset = this.#subset;
    if (subset === undefined) return this.#states.values();
    const derivesWeights = this.#health.derivesWeights;
    const members = subset.select(this.#states.values(), derivesWeights);
    if (subset.joined === 0 || !derivesWeights) return members;
    for (const extension of this.#extensions) extension.beforeRebuild?.(now);
    return subset.select(this.#states.values(), derivesWeights);
  }

  /** Recomputes the routable set and builds a new picker. Called on every change that can affect routing. */
  #rebuild(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const extension of this.#extensions) extension.beforeRebuild?.(now);
    const candidates = this.#subsetCandidates(now);
    const { routable, picker } = route(
      this.#states.values(),
      candidates,
      this.#routing,
      this.#policy,
      this.#random,
    );
    this.#routableCount = routable.endpoints.length;
    this.#picker = picker;
    if (routable.panic !== this.#panic) {
      this.#panic = routable.panic;
      this.emit('panic', routable.panic);
      publish(channels.panic, {
        balancer: this.name,
        panic: routable.panic,
        healthy: routable.healthy,
        total: routable.candidates,
      });
    }
    this.emit('picker', { routable: routable.endpoints.length, panic: routable.panic });
  }

  #extensionContext() {
    return {
      balancerName: this.name,
      clock: this.#clock,
      random: this.#random,
      states: () => this.#states.values(),
      invalidate: () => this.#rebuild(),
    };
  }

  #wakeClosers(): void {
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const wake of waiters) wake();
  }
}

function isExcluded(address: string, exclude: readonly string[] | ReadonlySet<string>): boolean {
  return Array.isArray(exclude) ? exclude.includes(address) : (exclude as ReadonlySet<string>).has(address);
}
