/**
 * The switchyard client interceptor: retries and adaptive throttling for grpc-js calls through the shared executor
 * (resilience/executor.ts), and time-to-headers latency for every call.
 *
 *   call ─▶ throttle? ─▶ attempt 1: grpc-js picks (switchyard picker, queueing and wait-for-ready as usual)
 *                          │ response metadata ─▶ committed: the rest of the call flows to the caller
 *                          │ retryable status (UNAVAILABLE, …) before any response metadata
 *                          ▼
 *            execute({ resume: attempt 1 }) ─▶ budget, backoff / pushback, deadline ─▶ tryPick(exclude tried)
 *                          ▲                                                               │
 *                          └──── attempt n: a new grpc-js call routed to that lease ◀──────┘
 *
 * Why an interceptor: it is the one grpc-js extension point that sees a whole call (metadata, messages, status) and
 * can start it again; an LB policy sees only picks. Why the first attempt is grpc-js's own pick: calls made before
 * the first resolution, or while nothing is connected, must queue in grpc-js until the call's deadline
 * (wait-for-ready included), exactly as without switchyard — and the common, successful call then pays for no
 * executor at all. The picker tells the interceptor which Balancer and endpoint that attempt used (call-route.ts),
 * so the retry excludes it; the executor picks every later attempt itself, and the picker routes each to its lease.
 *
 * What is retried (gRFC A6): a call is committed — never retried — once response metadata arrives, so nothing is
 * retried after a response message. Only calls with a single request message (unary and server-streaming) are
 * retried: their one message is kept to send again. Client-streaming and bidirectional calls are never retried (they
 * still get time-to-headers latency). A status with `grpc-retry-pushback-ms` waits that long instead of the
 * backoff; a negative or malformed pushback means do not retry.
 */
import {
  type CallOptions,
  type InterceptingCall,
  type InterceptingListener,
  type Interceptor,
  type InterceptorOptions,
  Metadata,
  type NextCall,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import type { Outcome } from '../balancer/outcome.js';
import { systemClock, type TimerHandle } from '../clock.js';
import { isDeadlineExceededError } from '../errors/deadline-exceeded-error.js';
import type { AttemptInfo, Classified } from '../resilience/attempt.js';
import type { ExecuteOptions } from '../resilience/execute-options.js';
import { execute } from '../resilience/executor.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import { type CallFacts, classifyAttempt, outcomeOf } from './attempt-status.js';
import { AttemptRoute, attachRoute } from './call-route.js';
import { AttemptFailed, type AttemptOwner, type ChildCall, ExecutorAttempt } from './executor-attempt.js';
import { type GrpcResilience, type GrpcResilienceOptions, parseGrpcResilience } from './retry-config.js';

type MessageContext = Parameters<InterceptingCall['sendMessageWithContext']>[0];

const CONNECT: Outcome = Object.freeze({ ok: false, failure: 'connect' });
/** The listener of a call started without one: nothing is called on it. */
const NO_LISTENER: Partial<InterceptingListener> = Object.freeze({});

/**
 * A grpc-js client interceptor that gives calls switchyard's retries (under the retry budget, to endpoints not yet
 * tried) and adaptive throttling, and feeds the `switchyard` policy time-to-first-metadata latency.
 * `channelOptions()` installs it; for a client built another way pass it in the client's `interceptors` option:
 *
 * ```ts
 * new OrdersClient(target, creds, { ...myOptions, interceptors: [switchyardInterceptor({ retry: true })] });
 * ```
 *
 * Works only on channels whose policy is `switchyard` (elsewhere it passes calls through untouched). Interceptors
 * given per call (`CallOptions.interceptors`) replace the client's, this one included (grpc-js rule).
 * Throws {@link ConfigError} for invalid options.
 */
export function switchyardInterceptor(options: GrpcResilienceOptions = {}): Interceptor {
  const resilience = parseGrpcResilience(options);
  return (callOptions, nextCall) =>
    new SwitchyardCall(callOptions, nextCall, resilience) as unknown as InterceptingCall;
}

/** One logical call: its attempts, and the one that is committed to the caller. */
class SwitchyardCall implements CallFacts, AttemptOwner {
  readonly #options: InterceptorOptions;
  readonly #next: NextCall;
  readonly #r: GrpcResilience;
  /** Unary and server-streaming calls: one request message, kept for replay. */
  readonly #replayable: boolean;
  #listener: Partial<InterceptingListener> = NO_LISTENER;
  #metadata: Metadata | undefined;
  #message: { context: MessageContext; message: unknown } | undefined;
  #halfClosed = false;
  #reading = false;
  #child: ChildCall | undefined;
  #route: AttemptRoute | undefined;
  #committed = false;
  #done = false;
  #startedAt = 0;
  #deadline = Number.POSITIVE_INFINITY;
  #abort: AbortController | undefined;
  #callerCancelled = false;
  #lastStatus: StatusObject | undefined;
  /** Unary, declared idempotent, with `hedging` configured: attempt 1 may be hedged. */
  #hedgeable = false;
  #hedgeTimer: TimerHandle | undefined;
  /** Attempt 1 once the executor adopted it for a hedge: its grpc-js events go there. */
  #first: ExecutorAttempt | undefined;

  constructor(options: InterceptorOptions, next: NextCall, resilience: GrpcResilience) {
    this.#options = options;
    this.#next = next;
    this.#r = resilience;
    this.#replayable = !options.method_definition.requestStream;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#listener = listener ?? NO_LISTENER;
    this.#metadata = metadata;
    // Read only by retries and hedging (deadline left, hedge delay): a call without either skips the clock.
    if (this.#r.retry !== undefined || this.#r.hedging !== undefined) this.#startedAt = systemClock.now();
    this.#deadline = deadlineOf(this.#options.deadline);
    const throttle = this.#r.throttle;
    if (throttle?.shouldReject()) {
      const details = `switchyard: call rejected locally by adaptive throttling (p=${throttle.rejectionProbability.toFixed(2)})`;
      process.nextTick(() => this.#finish({ code: Status.UNAVAILABLE, details, metadata: new Metadata() }));
      return;
    }
    const route = new AttemptRoute();
    this.#route = route;
    const method = this.#options.method_definition;
    if (
      this.#r.hedging !== undefined &&
      !method.requestStream &&
      !method.responseStream &&
      this.isIdempotent()
    ) {
      this.#hedgeable = true;
      route.onPicked = () => this.#armHedge();
    }
    this.#child = this.#launch(route, this);
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.#replayable && !this.#committed) this.#message = { context, message };
    this.#child?.sendMessageWithContext(context, message);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  halfClose(): void {
    this.#halfClosed = true;
    this.#child?.halfClose();
  }

  startRead(): void {
    this.#reading = true;
    this.#child?.startRead();
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.#done) return;
    this.#callerCancelled = true;
    if (this.#abort === undefined) {
      // Attempt 1 is running: grpc-js ends it and reports the status through its listener.
      this.#child?.cancelWithStatus(code, details);
      return;
    }
    // Retrying: stop the executor (it aborts the attempt in flight) and answer now.
    this.#abort.abort();
    this.#child?.cancelWithStatus(code, details);
    this.#finish({ code, details, metadata: new Metadata() });
  }

  getPeer(): string {
    return this.#child?.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<InterceptingCall['getAuthContext']> {
    return this.#child?.getAuthContext() ?? null;
  }

  // ---- attempts --------------------------------------------------------------------------------------------

  /** Starts one grpc-js call carrying `route`, replaying what the caller has sent so far. */
  #launch(route: AttemptRoute, listener: InterceptingListener): ChildCall {
    const metadata = this.#metadata!.clone();
    attachRoute(metadata, route);
    const perTry = this.#r.perTryTimeoutMs;
    let options: CallOptions = this.#options;
    // Unary calls only: the per-try timeout is the attempt's gRPC deadline, which would also cut a server stream
    // after it committed.
    if (perTry !== undefined && this.#replayable && !this.#options.method_definition.responseStream) {
      const cut = Date.now() + perTry;
      if (cut < this.#deadline) {
        options = { ...this.#options, deadline: cut };
        route.perTryCut = true;
      }
    }
    const child = this.#next(options as InterceptorOptions);
    child.start(metadata, listener);
    if (this.#message !== undefined)
      child.sendMessageWithContext(this.#message.context, this.#message.message);
    if (this.#halfClosed) child.halfClose();
    if (this.#reading) child.startRead();
    return child;
  }

  // ---- attempt 1's listener: the call object itself (one allocation less per call) -------------------------

  /** @internal */
  onReceiveMetadata(metadata: Metadata): void {
    if (this.#first !== undefined) {
      this.#first.onReceiveMetadata(metadata);
      return;
    }
    if (this.#done || this.#abort !== undefined) return;
    const route = this.#route!;
    route.markHeaders();
    if (this.#hedgeable && route.balancer !== undefined) {
      // The hedging latency window learns from every answered call, not only from those slow enough to be hedged.
      this.#r.hedging!.observe(route.balancer, systemClock.now() - this.#startedAt);
    }
    this.#commit(metadata);
  }

  /** @internal Before commit the only message is the unary null that precedes a failed status: dropped. */
  onReceiveMessage(message: unknown): void {
    if (this.#first !== undefined) this.#first.onReceiveMessage(message);
    else if (this.#committed && this.#abort === undefined) this.#listener.onReceiveMessage?.(message);
  }

  /** @internal */
  onReceiveStatus(status: StatusObject): void {
    if (this.#first !== undefined) {
      this.#first.onReceiveStatus(status);
      return;
    }
    if (this.#abort !== undefined) return;
    this.#cancelHedge();
    const route = this.#route!;
    route.markHeaders();
    if (this.#committed) {
      this.#depositAndRecord(route, status.code);
      this.#finish(status);
    } else this.#firstFailed(route, status);
  }

  #commit(metadata: Metadata): void {
    this.#cancelHedge();
    this.#committed = true;
    this.#message = undefined;
    this.#listener.onReceiveMetadata?.(metadata);
  }

  /** Attempt 1 ended without response metadata: retry it through the executor, or answer with its status. */
  #firstFailed(route: AttemptRoute, status: StatusObject): void {
    const retry = this.#r.retry;
    const balancer = route.balancer;
    const classified = classifyAttempt(status, route, this);
    this.#r.throttle?.record(classified.outcome.ok);
    if (
      retry === undefined ||
      balancer === undefined ||
      route.address === undefined ||
      !classified.retryable ||
      !this.#replayable ||
      this.#done
    ) {
      if (balancer !== undefined) this.#budgetFor(balancer)?.deposit();
      this.#finish(status);
      return;
    }
    this.#lastStatus = status;
    this.#child = undefined;
    this.#execute(balancer, {
      resume: {
        address: route.address,
        startedAt: this.#startedAt,
        error: new AttemptFailed(status, route),
        classified,
      },
    });
  }

  /** Runs the rest of the call through the executor, from attempt 1's failure (`resume`) or its hedge (`first`). */
  #execute(balancer: Balancer, from: Pick<ExecuteOptions<Metadata>, 'resume' | 'first'>): void {
    this.#abort = new AbortController();
    execute<Metadata>({
      balancer,
      retry: this.#r.retry,
      hedging: this.#hedgeable ? this.#r.hedging : undefined,
      throttle: this.#r.throttle,
      idempotent: this.isIdempotent(),
      replayable: true,
      signal: this.#abort.signal,
      deadlineMs:
        this.#deadline === Number.POSITIVE_INFINITY ? undefined : this.#deadlineLeftFrom(this.#startedAt),
      ...from,
      attempt: (info) => this.#executorAttempt(info, balancer),
      classify: (result) => this.#classify(result),
    }).then(
      () => {
        // The winner committed when its metadata arrived (ExecutorAttempt); its lease is released at its status.
      },
      (error: unknown) => this.#executionFailed(error),
    );
  }

  #classify(result: { readonly value: Metadata } | { readonly error: unknown }): Classified {
    if ('value' in result) return { outcome: { ok: true }, retryable: false };
    return result.error instanceof AttemptFailed
      ? classifyAttempt(result.error.status, result.error.route, this)
      : { outcome: CONNECT, retryable: false };
  }

  /** One attempt the executor picked: a new grpc-js call routed to `info.lease`. Resolves at response metadata. */
  #executorAttempt(info: AttemptInfo, balancer: Balancer): Promise<Metadata> {
    const route = new AttemptRoute(info.lease, balancer);
    const attempt = new ExecutorAttempt(this, route, info.lease);
    const promise = attempt.adopt(info);
    attempt.child = this.#launch(route, attempt);
    if (!this.#committed) this.#child = attempt.child;
    return promise;
  }

  // ---- hedging: attempt 1 handed to the executor when it is slow ---------------------------------------------

  /** Attempt 1 was picked: hedge it once it has gone unanswered for the hedge delay (from the call's start). */
  #armHedge(): void {
    const balancer = this.#route?.balancer;
    if (
      this.#hedgeTimer !== undefined ||
      this.#abort !== undefined ||
      this.#committed ||
      balancer === undefined
    )
      return;
    const delay = this.#r.hedging!.delayFor(balancer);
    if (delay === undefined) return; // a percentile-only policy still learning: no hedge yet
    const wait = Math.max(0, delay - (systemClock.now() - this.#startedAt));
    this.#hedgeTimer = systemClock.setTimer(() => this.#hedgeFirst(), wait);
  }

  #cancelHedge(): void {
    this.#hedgeTimer?.cancel();
    this.#hedgeTimer = undefined;
  }

  /**
   * The hedge delay passed with attempt 1 unanswered: the executor adopts it (ExecuteOptions.first) and, by the
   * same delay, sends a hedge at once to another endpoint; the first metadata wins and the loser is cancelled.
   * Calls answered sooner never pay for the executor.
   */
  #hedgeFirst(): void {
    this.#hedgeTimer = undefined;
    const route = this.#route!;
    const lease: Lease | undefined = route.picked?.lease;
    const balancer = route.balancer;
    if (this.#done || this.#committed || this.#abort !== undefined || route.ended) return;
    if (lease === undefined || lease.released || balancer === undefined) return;
    // The executor does not deposit for an adopted attempt: this call counts in the budget here, once.
    this.#budgetFor(balancer)?.deposit();
    const first = new ExecutorAttempt(this, route, undefined);
    first.child = this.#child;
    this.#first = first;
    this.#execute(balancer, {
      first: { lease, startedAt: this.#startedAt, adopt: (info) => first.adopt(info) },
    });
  }

  // ---- AttemptOwner (executor-attempt.ts) --------------------------------------------------------------------

  get settled(): boolean {
    return this.#done || this.#committed;
  }

  win(child: ChildCall, route: AttemptRoute, metadata: Metadata): void {
    this.#child = child;
    this.#route = route;
    this.#commit(metadata);
  }

  deliver(message: unknown): void {
    this.#listener.onReceiveMessage?.(message);
  }

  end(status: StatusObject): void {
    this.#finish(status);
  }

  lost(status: StatusObject): void {
    this.#lastStatus = status;
  }

  /** The executor gave up: answer with the last attempt's status, or DEADLINE_EXCEEDED at the call's deadline. */
  #executionFailed(error: unknown): void {
    if (this.#committed || this.#done) return;
    if (error instanceof AttemptFailed) {
      this.#finish(error.status);
    } else if (isDeadlineExceededError(error)) {
      this.#finish({
        code: Status.DEADLINE_EXCEEDED,
        details: `Deadline exceeded while retrying (last attempt: ${this.#lastStatus?.details ?? 'none'})`,
        metadata: new Metadata(),
      });
    } else {
      // No endpoint, circuit breaker or throttle stopped the retry: the caller gets what the last attempt got.
      this.#finish(this.#lastStatus!);
    }
  }

  // ---- CallFacts (attempt-status.ts) ----------------------------------------------------------------------

  get resilience(): GrpcResilience {
    return this.#r;
  }

  get callerCancelled(): boolean {
    return this.#callerCancelled;
  }

  get deadline(): number {
    return this.#deadline;
  }

  /** Declared idempotent: by method (`idempotentMethods`) or per call (metadata options `idempotentRequest`). */
  isIdempotent(): boolean {
    return (
      this.#metadata?.getOptions().idempotentRequest === true ||
      this.#r.isIdempotent(this.#options.method_definition.path)
    );
  }

  /** A call answered by attempt 1 alone: count it in the budget and the throttle. */
  #depositAndRecord(route: AttemptRoute, code: number): void {
    const balancer = route.balancer;
    if (balancer !== undefined) this.#budgetFor(balancer)?.deposit();
    const throttle = this.#r.throttle;
    if (throttle !== undefined) throttle.record(outcomeOf(route, code).ok);
  }

  /** The budget retries and hedges are paid from: the retry policy's, else the hedging policy's own. */
  #budgetFor(balancer: Balancer): RetryBudget | undefined {
    const r = this.#r;
    return r.retry !== undefined ? r.retry.budgetFor(balancer) : r.hedging?.budgetFor(balancer);
  }

  #deadlineLeftFrom(startedAt: number): number {
    return Math.max(1, this.#deadline - Date.now() + (systemClock.now() - startedAt));
  }

  #finish(status: StatusObject): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancelHedge();
    if (this.#route !== undefined) this.#route.ended = true;
    this.#message = undefined;
    this.#listener.onReceiveStatus?.(status);
  }
}

function deadlineOf(deadline: CallOptions['deadline']): number {
  if (deadline === undefined) return Number.POSITIVE_INFINITY;
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
}
