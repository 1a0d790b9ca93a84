/**
 * The simulation engine: runs each configuration of a {@link SimulationPlan} on virtual time and measures what the
 * clients see.
 *
 *   arrivals ──▶ client's real Balancer.tryPick() ──▶ SimBackend (workers + queue + timeline)
 *                        ▲                                   │ completion / refusal / 503 / reset / timeout
 *                        └──── lease.release(outcome) ◀──────┘ ──▶ retry (same Balancer, tried hosts excluded)
 *
 * Every client owns a real {@link Balancer} built with the configuration's options, a {@link SimClock} and a seeded
 * random source, so pickers, health extensions and their timers run unchanged. Configurations run one after another
 * on the same seed: the arrival sequence is identical across them, service times are drawn from per-backend streams.
 */
import { Balancer, type BalancerOptions } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import type { FailureKind, Outcome } from '../balancer/outcome.js';
import type { PickContext } from '../balancer/policy/picker.js';
import { countEvents, type EventCounts } from '../observability/subscribe.js';
import { type RandomSource, seededRandom } from '../random.js';
import type { AdaptiveThrottle } from '../resilience/adaptive-throttle.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';
import { type BackendHost, type BackendWork, SimBackend } from './backend.js';
import type { ConfigurationPlan, SimulationPlan, TimelineEvent } from './config.js';
import { type LatencySummary, Recorder, summarize } from './recorder.js';
import { SimClock } from './sim-clock.js';

/** Results of one backend under one configuration. */
export interface BackendResult {
  readonly name: string;
  readonly group: string;
  /** Attempts sent to it (first tries and retries, refused ones included). */
  readonly attempts: number;
  /** `attempts` over all attempts of the configuration, 0–1. */
  readonly share: number;
  /** Whole-process pauses it went through (`pauses` in its config). */
  readonly pauses: number;
  /** Requests it completed later because a pause overlapped their service. */
  readonly pausedRequests: number;
}

/** Results of one configuration. */
export interface ConfigurationResult {
  readonly name: string;
  readonly policy: string;
  /** Requests the clients issued. */
  readonly requests: number;
  readonly successes: number;
  /** Requests that failed after every attempt (client-visible errors). */
  readonly errors: number;
  /** Final failure kinds of the failed requests (`unavailable`: nothing to pick). */
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly retries: number;
  readonly attempts: number;
  /** Client-visible latency of successful requests (first attempt to final answer, backoff included). */
  readonly latency: LatencySummary;
  /** Points of the latency CDF: `[latencyMs, quantile]`, denser in the tail. */
  readonly cdf: readonly (readonly [number, number])[];
  readonly backends: readonly BackendResult[];
  /** Attempts per second to each backend, per bucket of `bucketMs`; same order as `backends`. */
  readonly load: { readonly bucketMs: number; readonly series: readonly (readonly number[])[] };
  /** Events the engine processed (arrivals, completions, timers, …). */
  readonly events: number;
  /**
   * What the library reported on its diagnostics channels during the run, summed over clients: `endpointEjected`,
   * `endpointReturned`, `panic`, … (keys of `channelNames`).
   */
  readonly channelEvents: Readonly<Record<string, number>>;
  /** Virtual time at which the last request finished, ms. */
  readonly endMs: number;
  /** Wall-clock time the run took, ms. */
  readonly wallMs: number;
}

/** Results of a whole simulation. */
export interface SimulationResult {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly configurations: readonly ConfigurationResult[];
  readonly wallMs: number;
  /** Simulated requests per wall-clock second, all configurations together. */
  readonly requestsPerSecond: number;
}

const ARRIVAL = 1;
const COMPLETE = 2;
const FAIL = 3;
const TIMEOUT = 4;
const RETRY = 5;
const TIMELINE = 6;
/** A response reaches the client (after network delay), or a stalled client wakes up to it. */
const DELIVER = 7;
/** A client stalls (a GC or event-loop pause in the client process). */
const STALL = 8;

/** Hard stop for draining after arrivals end, ms: requests stuck longer than this are counted as errors. */
const MAX_DRAIN_MS = 600_000;

interface MutableContext {
  now: number;
  hashKey: string | undefined;
  exclude: string[] | undefined;
}

class SimClient {
  readonly ctx: MutableContext = { now: 0, hashKey: undefined, exclude: undefined };
  readonly budget: RetryBudget | undefined;
  /** The client process is stalled (event loop blocked) until this virtual time: nothing it receives is handled. */
  stalledUntil = 0;
  /** Stall arrivals and network delays: streams of their own, so they do not shift any other draw. */
  readonly stalls: RandomSource;
  readonly network: RandomSource;
  constructor(
    readonly balancer: Balancer,
    /** Arrival times and keys: a stream of its own, so every configuration sees the same requests. */
    readonly arrivals: RandomSource,
    /** The real retry policy (backoff jitter on a stream of its own), or undefined without retries. */
    readonly retry: RetryPolicy | undefined,
    readonly throttle: AdaptiveThrottle | undefined,
    seeds: { readonly stalls: number; readonly network: number },
  ) {
    this.budget = retry?.budgetFor(balancer);
    this.stalls = seededRandom(seeds.stalls);
    this.network = seededRandom(seeds.network);
  }
}

class SimRequest {
  attempts = 0;
  tried: string[] | undefined = undefined;
  lastFailure: FailureKind | undefined = undefined;
  constructor(
    readonly client: SimClient,
    readonly arrivedAt: number,
    readonly key: string | undefined,
  ) {}
}

class Attempt implements BackendWork {
  slot = -1;
  serviceStart = 0;
  pausedMs = 0;
  settled = false;
  failure: FailureKind = 'other';
  /** The answer waiting to reach the client (network delay, client stall): undefined = success. */
  pending: FailureKind | undefined = undefined;
  constructor(
    readonly request: SimRequest,
    readonly lease: Lease,
    readonly backend: SimBackend<Attempt>,
  ) {}
}

interface TimelineTarget {
  readonly backend: SimBackend<Attempt>;
  readonly event: TimelineEvent;
}

type Target = SimClient | Attempt | SimRequest | TimelineTarget;

/** Derives an independent 32-bit seed for stream `(a, b)` of a run seeded `seed` (splitmix-style mixing). */
export function streamSeed(seed: number, a: number, b = 0): number {
  let h = (seed ^ Math.imul(a + 1, 0x9e3779b1) ^ Math.imul(b + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Runs every configuration of `plan` and returns the measurements. Deterministic for a given plan. */
export function simulate(plan: SimulationPlan): SimulationResult {
  const started = performance.now();
  const configurations = plan.configurations.map((c) => runConfiguration(plan, c));
  const wallMs = performance.now() - started;
  const requests = configurations.reduce((n, c) => n + c.requests, 0);
  return {
    name: plan.name,
    description: plan.description,
    seed: plan.seed,
    configurations,
    wallMs,
    requestsPerSecond: wallMs > 0 ? (requests * 1000) / wallMs : 0,
  };
}

/** Runs one configuration. */
export function runConfiguration(plan: SimulationPlan, config: ConfigurationPlan): ConfigurationResult {
  const wallStart = performance.now();
  // The simulated balancers publish like real ones; count what they report (ejections, panics) for the results.
  const counter = countEvents();
  try {
    const run = new Run(plan, config);
    const events = run.execute();
    return run.result(events, performance.now() - wallStart, totals(counter));
  } finally {
    counter.stop();
  }
}

/** Sums the counts of every balancer per channel. */
function totals(counter: EventCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [channel, byBalancer] of counter.counts) {
    let sum = 0;
    for (const n of byBalancer.values()) sum += n;
    out[channel] = sum;
  }
  return out;
}

class Run implements BackendHost<Attempt> {
  readonly #plan: SimulationPlan;
  readonly #config: ConfigurationPlan;
  readonly #clock = new SimClock<Target>();
  readonly #recorder: Recorder;
  readonly #backends: SimBackend<Attempt>[];
  readonly #byAddress = new Map<string, SimBackend<Attempt>>();
  readonly #clients: SimClient[];
  readonly #keys: KeySampler | undefined;
  readonly #okOutcome = { ok: true as const, now: 0 };
  readonly #failOutcome: { ok: false; failure: FailureKind; now: number; status: number | undefined } = {
    ok: false,
    failure: 'other',
    now: 0,
    status: undefined,
  };
  /** Mean gap between arrivals at one client at the peak rate, ms (thinning draws at the peak rate). */
  readonly #peakGapMs: number;
  /** Per-attempt timeout, ms (0: none): the retry policy's perTryTimeoutMs, else the fleet's timeoutMs. */
  readonly #timeoutMs: number;
  #requests = 0;
  #outstanding = 0;

  constructor(plan: SimulationPlan, config: ConfigurationPlan) {
    this.#plan = plan;
    this.#config = config;
    this.#recorder = new Recorder(plan.backends.length, plan.durationMs, plan.sampleMs);
    this.#backends = plan.backends.map(
      (b) => new SimBackend<Attempt>(b, seededRandom(streamSeed(plan.seed, 1, b.index)), this),
    );
    for (const backend of this.#backends) this.#byAddress.set(backend.address, backend);
    this.#keys = plan.keys && new KeySampler(plan.keys.count, plan.keys.skew);
    const endpoints = this.#endpoints();
    this.#clients = [];
    for (let i = 0; i < plan.clients; i++) {
      const balancer = new Balancer({
        ...(config.balancer as Partial<BalancerOptions>),
        policy: config.policy,
        endpoints,
        clock: this.#clock,
        random: seededRandom(streamSeed(plan.seed, 3, i)),
        name: `client-${i}`,
      });
      this.#clients.push(
        new SimClient(
          balancer,
          seededRandom(streamSeed(plan.seed, 2, i)),
          config.retry.policy(this.#clock, seededRandom(streamSeed(plan.seed, 4, i))),
          config.retry.throttle(this.#clock, seededRandom(streamSeed(plan.seed, 5, i))),
          { stalls: streamSeed(plan.seed, 6, i), network: streamSeed(plan.seed, 7, i) },
        ),
      );
    }
    const a = plan.arrivals;
    const peak = a.type === 'bursty' ? Math.max(a.ratePerSec, a.burstRatePerSec) : a.ratePerSec;
    this.#peakGapMs = (1000 * plan.clients) / peak;
    this.#timeoutMs = config.retry.perTryTimeoutMs ?? plan.timeoutMs;
  }

  execute(): number {
    const clock = this.#clock;
    for (const backend of this.#backends) {
      for (const event of backend.plan.timeline) clock.schedule(event.atMs, TIMELINE, { backend, event });
    }
    for (const client of this.#clients) {
      this.#scheduleArrival(client, 0);
      this.#scheduleStall(client, 0);
    }
    const end = this.#plan.durationMs;
    const handler = (kind: number, target: Target, now: number) => this.#handle(kind, target, now);
    const events = clock.run(end + MAX_DRAIN_MS, handler, () => clock.now() <= end || this.#outstanding > 0);
    // Anything still outstanding after the drain limit never got an answer.
    for (let i = 0; i < this.#outstanding; i++) this.#recorder.failure('stuck');
    for (const client of this.#clients) void client.balancer.close();
    return events;
  }

  result(events: number, wallMs: number, channelEvents: Record<string, number>): ConfigurationResult {
    const rec = this.#recorder;
    const sorted = rec.sortedLatencies();
    const attempts = this.#backends.reduce((n, b) => n + b.attempts, 0);
    return {
      name: this.#config.name,
      policy: this.#clients[0]!.balancer.policy,
      requests: this.#requests,
      successes: rec.successes,
      errors: rec.errors,
      errorKinds: Object.fromEntries(rec.errorKinds),
      retries: rec.retries,
      attempts,
      latency: summarize(sorted),
      cdf: cdfPoints(sorted),
      backends: this.#backends.map((b) => ({
        name: b.plan.name,
        group: b.plan.group,
        attempts: b.attempts,
        share: attempts === 0 ? 0 : b.attempts / attempts,
        pauses: b.pauses,
        pausedRequests: b.pausedRequests,
      })),
      load: { bucketMs: this.#plan.sampleMs, series: rec.loadSeries() },
      events,
      channelEvents,
      endMs: this.#clock.now(),
      wallMs,
    };
  }

  // ---- BackendHost -----------------------------------------------------------------------------------------

  completeAt(work: Attempt, at: number): void {
    this.#clock.schedule(at, COMPLETE, work);
  }

  failAt(work: Attempt, at: number, failure: FailureKind): void {
    work.failure = failure;
    this.#clock.schedule(at, FAIL, work);
  }

  setRegistered(): void {
    const endpoints = this.#endpoints();
    for (const client of this.#clients) client.balancer.setEndpoints(endpoints);
  }

  // ---- events ----------------------------------------------------------------------------------------------

  #handle(kind: number, target: Target, now: number): void {
    switch (kind) {
      case ARRIVAL:
        this.#arrive(target as SimClient, now);
        break;
      case COMPLETE: {
        const attempt = target as Attempt;
        // slot -1: the backend died while serving it; the reset was already reported.
        if (attempt.slot === -1) break;
        // A pause of the backend overlapped the service: not done yet.
        const owed = attempt.backend.pauseOwed(attempt, now);
        if (owed > 0) {
          this.#clock.schedule(now + owed, COMPLETE, attempt);
          break;
        }
        if (attempt.pausedMs > 0) attempt.backend.pausedRequests++;
        attempt.backend.finish(attempt, now);
        this.#send(attempt, undefined, now);
        break;
      }
      case FAIL: {
        const attempt = target as Attempt;
        this.#send(attempt, attempt.failure, now);
        break;
      }
      case DELIVER: {
        const attempt = target as Attempt;
        this.#receive(attempt, attempt.pending, now);
        break;
      }
      case TIMEOUT:
        // The client gives up; the backend keeps working on it (it cannot know), as in production.
        this.#receive(target as Attempt, 'timeout', now);
        break;
      case STALL: {
        const client = target as SimClient;
        client.stalledUntil = now + this.#plan.clientStalls!.durationMs;
        this.#scheduleStall(client, now);
        break;
      }
      case RETRY:
        this.#startAttempt(target as SimRequest, now);
        break;
      case TIMELINE: {
        const { backend, event } = target as TimelineTarget;
        backend.apply(event, now);
        break;
      }
    }
  }

  /** The backend answered at `now`; the answer reaches the client after the network delay. */
  #send(attempt: Attempt, failure: FailureKind | undefined, now: number): void {
    const delay = this.#plan.networkDelay?.(attempt.request.client.network) ?? 0;
    if (delay > 0) {
      attempt.pending = failure;
      this.#clock.schedule(now + delay, DELIVER, attempt);
    } else this.#receive(attempt, failure, now);
  }

  /** An answer (or a timeout) reaches the client; a stalled client handles it when the stall ends. */
  #receive(attempt: Attempt, failure: FailureKind | undefined, now: number): void {
    if (attempt.settled) return;
    const until = attempt.request.client.stalledUntil;
    if (now < until) {
      // A client timer fires late too; keep the timeout apart from the answer it may race with.
      if (failure === 'timeout') this.#clock.schedule(until, TIMEOUT, attempt);
      else {
        attempt.pending = failure;
        this.#clock.schedule(until, DELIVER, attempt);
      }
      return;
    }
    this.#settle(attempt, failure, now);
  }

  #scheduleStall(client: SimClient, now: number): void {
    const stalls = this.#plan.clientStalls;
    if (stalls === undefined || stalls.ratePerSec === 0) return;
    const at = now - (1000 / stalls.ratePerSec) * Math.log(1 - client.stalls());
    if (at <= this.#plan.durationMs) this.#clock.schedule(at, STALL, client);
  }

  #scheduleArrival(client: SimClient, now: number): void {
    const at = now - this.#peakGapMs * Math.log(1 - client.arrivals());
    if (at <= this.#plan.durationMs) this.#clock.schedule(at, ARRIVAL, client);
  }

  #arrive(client: SimClient, now: number): void {
    this.#scheduleArrival(client, now);
    const a = this.#plan.arrivals;
    if (a.type === 'bursty') {
      // Thinning (Lewis–Shedler): candidates arrive at the peak rate, each kept with probability rate(t) / peak.
      const inBurst = now % a.periodMs < a.burstMs;
      const rate = inBurst ? a.burstRatePerSec : a.ratePerSec;
      const peak = Math.max(a.ratePerSec, a.burstRatePerSec);
      if (rate < peak && client.arrivals() * peak >= rate) return;
    }
    const key = this.#keys?.sample(client.arrivals);
    this.#requests++;
    this.#outstanding++;
    client.budget?.deposit();
    this.#startAttempt(new SimRequest(client, now, key), now);
  }

  #startAttempt(request: SimRequest, now: number): void {
    const client = request.client;
    if (now < client.stalledUntil) {
      // The client's event loop is blocked: the request goes out when the stall ends.
      this.#clock.schedule(client.stalledUntil, RETRY, request);
      return;
    }
    if (client.throttle?.shouldReject()) {
      // Shed locally, as the executor does: a first attempt fails, a retry ends the request with its last error.
      this.#recorder.failure(request.attempts === 0 ? 'throttled' : (request.lastFailure ?? 'throttled'));
      this.#outstanding--;
      return;
    }
    const ctx = client.ctx;
    ctx.now = now;
    ctx.hashKey = request.key;
    ctx.exclude = request.tried;
    const lease = client.balancer.tryPick(ctx as PickContext);
    if (typeof lease === 'string') {
      this.#recorder.failure(lease);
      this.#outstanding--;
      return;
    }
    request.attempts++;
    const backend = this.#byAddress.get(lease.endpoint.address)!;
    const attempt = new Attempt(request, lease, backend);
    this.#recorder.attempt(backend.plan.index, now);
    if (this.#timeoutMs > 0) this.#clock.schedule(now + this.#timeoutMs, TIMEOUT, attempt);
    backend.accept(attempt, now);
  }

  /** Ends one attempt (`failure` undefined: success) and either finishes the request or retries it. */
  #settle(attempt: Attempt, failure: FailureKind | undefined, now: number): void {
    if (attempt.settled) return;
    attempt.settled = true;
    const request = attempt.request;
    const client = request.client;
    if (failure === undefined) {
      client.throttle?.record(true);
      this.#okOutcome.now = now;
      attempt.lease.release(this.#okOutcome);
      this.#recorder.success(now - request.arrivedAt);
      this.#outstanding--;
      return;
    }
    const out = this.#failOutcome;
    out.failure = failure;
    out.now = now;
    out.status = failure === 'status' || failure === 'overloaded' ? 503 : undefined;
    attempt.lease.release(out as Outcome);
    client.throttle?.record(false);
    request.lastFailure = failure;
    const decision = client.retry?.decide({
      attempt: request.attempts,
      failure,
      status: out.status,
      idempotent: true,
      bodySent: true,
      replayable: true,
      elapsedMs: now - request.arrivedAt,
      balancer: client.balancer,
    });
    if (decision?.retry) {
      this.#recorder.retries++;
      (request.tried ??= []).push(attempt.backend.address);
      if (decision.delayMs > 0) this.#clock.schedule(now + decision.delayMs, RETRY, request);
      else this.#startAttempt(request, now);
      return;
    }
    this.#recorder.failure(failure);
    this.#outstanding--;
  }

  #endpoints() {
    return this.#backends
      .filter((b) => b.registered)
      .map((b) => ({ host: b.plan.name, port: 80, weight: b.plan.weight }));
  }
}

/** Draws key indexes from a Zipf(`skew`) law over `count` keys (skew 0: uniform) by inverse CDF. */
class KeySampler {
  readonly #cdf: Float64Array;
  readonly #names: string[];
  constructor(count: number, skew: number) {
    this.#cdf = new Float64Array(count);
    this.#names = [];
    let total = 0;
    for (let k = 0; k < count; k++) {
      total += 1 / (k + 1) ** skew;
      this.#cdf[k] = total;
      this.#names.push(`key-${k}`);
    }
    for (let k = 0; k < count; k++) this.#cdf[k]! /= total;
  }
  sample(random: RandomSource): string {
    const u = random();
    const cdf = this.#cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return this.#names[lo]!;
  }
}

/** CDF points for charts: quantiles 1 − 10^(−x) for x from 0 to 4 in steps of 0.02 (p0 … p99.99). */
function cdfPoints(sorted: Float64Array): [number, number][] {
  const out: [number, number][] = [];
  if (sorted.length === 0) return out;
  for (let x = 0; x <= 4.0001; x += 0.02) {
    const q = 1 - 10 ** -x;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    out.push([sorted[rank]!, q]);
  }
  return out;
}
