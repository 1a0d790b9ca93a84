/**
 * One {@link execute} call's state machine: attempts, hedges, retries with backoff, per-try timeouts, the deadline
 * and cancellation, and the lease discipline described in executor.ts. Split from executor.ts, which keeps the
 * public contract (options, result, `execute`).
 */
import type { Balancer } from '../balancer/balancer.js';
import { CANCELLED, type Outcome } from '../balancer/outcome.js';
import type { PickContext } from '../balancer/policy/picker.js';
import type { Clock, TimerHandle } from '../clock.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded-error.js';
import { NoEndpointError } from '../errors/no-endpoint-error.js';
import { OverflowError } from '../errors/overflow-error.js';
import { ThrottledError } from '../errors/throttled-error.js';
import { channels, publish } from '../observability/channels.js';
import { Attempt, type Classified } from './attempt.js';
import type { ExecuteOptions, ExecuteResult, ExecuteResume } from './execute-options.js';
import type { ExecutorStats } from './executor-stats.js';
import type { HedgingPolicy } from './hedging.js';
import type { RetryBudget } from './retry-budget.js';
import type { RetryDecision, RetryPolicy } from './retry-policy.js';

type Result<T> = { readonly value: T } | { readonly error: unknown };

const TIMEOUT: Outcome = Object.freeze({ ok: false, failure: 'timeout' });
const OTHER: Outcome = Object.freeze({ ok: false, failure: 'other' });

/** The state of one {@link execute} call. */
export class Execution<T> {
  readonly #o: ExecuteOptions<T>;
  readonly #resolve: (result: ExecuteResult<T>) => void;
  readonly #reject: (error: unknown) => void;
  readonly #balancer: Balancer;
  readonly #clock: Clock;
  readonly #sameClock: boolean;
  readonly #budget: RetryBudget | undefined;
  /** The budget and throttle run on the executor's clock: pass them `now` rather than have them read it again. */
  readonly #budgetOnClock: boolean;
  readonly #throttleOnClock: boolean;
  readonly #hedging: HedgingPolicy | undefined;
  readonly #stats: ExecutorStats | undefined;
  readonly #startedAt: number;
  /** The overall deadline in ms from the start: the earlier of the request's own and the retry policy's. */
  readonly #deadlineMs: number | undefined;
  /** Endpoints already tried (created on the second attempt: most requests never need it). */
  #exclude: Set<string> | undefined;
  readonly #live: Attempt[] = [];
  #attempts = 0;
  #firstAddress: string | undefined;
  #hedges = 0;
  #finished = false;
  #lastError: unknown;
  #deadlineTimer: TimerHandle | undefined;
  #hedgeTimer: TimerHandle | undefined;
  #backoffTimer: TimerHandle | undefined;
  #onAbort: (() => void) | undefined;

  constructor(o: ExecuteOptions<T>, resolve: (r: ExecuteResult<T>) => void, reject: (e: unknown) => void) {
    this.#o = o;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#balancer = o.balancer;
    this.#clock = o.retry?.clock ?? o.balancer.clock;
    this.#sameClock = this.#clock === o.balancer.clock;
    // Hedges are paid from the retry budget when there is a retry policy, else from the hedging policy's own.
    this.#budget = o.retry !== undefined ? o.retry.budgetFor(o.balancer) : o.hedging?.budgetFor(o.balancer);
    this.#budgetOnClock = this.#budget?.clock === this.#clock;
    this.#throttleOnClock = o.throttle?.clock === this.#clock;
    this.#stats = o.stats ?? o.retry?.executorStats;
    // Hedging sends the request twice: only safe when it is idempotent and its body can be sent again.
    this.#hedging = o.idempotent && o.replayable ? o.hedging : undefined;
    this.#startedAt = o.first?.startedAt ?? o.resume?.startedAt ?? this.#clock.now();
    this.#deadlineMs = earlier(o.deadlineMs, o.retry?.deadlineMs);
  }

  start(): void {
    const { signal, retry } = this.#o;
    if (signal?.aborted) {
      this.#reject(signal.reason);
      return;
    }
    if (signal !== undefined) {
      this.#onAbort = () => this.#abort();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    const deadline = this.#deadlineMs;
    if (deadline !== undefined) {
      // With an adapter-made first attempt the request started then: the deadline counts from its start.
      const left = this.#startedAt + deadline - this.#clock.now();
      this.#deadlineTimer = this.#clock.setTimer(() => this.#onDeadline(deadline), Math.max(0, left));
    }
    const first = this.#o.first;
    if (first !== undefined) {
      this.#continueFirst(first, this.#clock.now() - this.#startedAt);
      return;
    }
    this.#budget?.deposit(this.#budgetOnClock ? this.#startedAt : undefined);
    const resume = this.#o.resume;
    if (resume === undefined) this.#launch(false, this.#startedAt);
    else this.#resume(resume, retry);
  }

  /** The adapter's first attempt failed before the executor started: retry it elsewhere, or give up with it. */
  #resume(first: ExecuteResume, retry: RetryPolicy | undefined): void {
    this.#attempts = 1;
    this.#firstAddress = first.address;
    this.#lastError = first.error;
    const { classified } = first;
    const outcome = classified.outcome;
    if (retry === undefined || outcome.ok || !classified.retryable) {
      this.#fail(first.error);
      return;
    }
    const decision = this.#decide(retry, outcome, classified);
    if (!decision.retry) {
      this.#fail(first.error);
      return;
    }
    this.#publishRetry(outcome, decision.delayMs, first.address);
    this.#launchAfter(decision.delayMs);
  }

  /** Takes over attempt 1 from the adapter ({@link ExecuteOptions.first}); its budget deposit was the adapter's. */
  #continueFirst(first: NonNullable<ExecuteOptions<T>['first']>, elapsed: number): void {
    const attempt = new Attempt(++this.#attempts, false, first.lease, first.startedAt);
    this.#firstAddress = first.lease.endpoint.address;
    this.#live.push(attempt);
    this.#run(attempt, () => first.adopt(attempt), elapsed);
  }

  // ---- attempts --------------------------------------------------------------------------------------------

  /** Starts an attempt (or a hedge). On failure to start a non-hedge, fails the request. */
  #launch(hedge: boolean, now: number): void {
    const o = this.#o;
    const name = this.#balancer.name;
    if (o.throttle?.shouldReject(this.#throttleOnClock ? now : undefined)) {
      const probability = o.throttle.rejectionProbability;
      publish(channels.throttled, { balancer: name, probability, attempt: this.#attempts + 1, hedge });
      if (this.#stats) this.#stats.throttled++;
      if (!hedge) this.#fail(new ThrottledError({ balancer: name, probability, cause: this.#lastError }));
      return;
    }
    const picked = this.#balancer.tryPick(this.#pickContext(now));
    if (typeof picked === 'string') {
      this.#pickFailed(picked, hedge);
      return;
    }
    const attempt = new Attempt(++this.#attempts, hedge, picked, now);
    if (this.#attempts === 1) this.#firstAddress = picked.endpoint.address;
    this.#live.push(attempt);
    if (this.#attempts > 1) this.#exclude!.add(picked.endpoint.address);
    if (hedge) {
      this.#hedging!.counters.hedges++;
      publish(channels.hedge, {
        balancer: name,
        event: 'sent',
        attempt: attempt.attempt,
        address: picked.endpoint.address,
      });
    }
    this.#run(attempt, () => o.attempt(attempt), 0);
  }

  /** Arms the attempt's per-try timeout, runs it, and schedules a hedge; `elapsed`: ms it has been running already. */
  #run(attempt: Attempt, send: () => Promise<T>, elapsed: number): void {
    const perTry = this.#o.retry?.perTryTimeoutMs;
    if (perTry !== undefined)
      attempt.timer = this.#clock.setTimer(() => this.#onPerTryTimeout(attempt, perTry), perTry - elapsed);
    let promise: Promise<T>;
    try {
      promise = send();
    } catch (error) {
      promise = Promise.reject(error);
    }
    Promise.resolve(promise).then(
      (value) => this.#settle(attempt, { value }),
      (error: unknown) => this.#settle(attempt, { error }),
    );
    this.#scheduleHedge(elapsed);
  }

  /** The pick context: the caller's, plus the endpoints already tried and `now` when on the balancer's clock. */
  #pickContext(now: number): PickContext {
    const pick = this.#o.pick;
    if (this.#attempts > 0 && this.#exclude === undefined) {
      // Second attempt: remember the endpoint of the first (attempts after it add their own on launch).
      this.#exclude = new Set([this.#firstAddress!]);
    }
    const exclude = this.#exclude;
    const at = this.#sameClock ? now : undefined;
    if (pick === undefined) return exclude === undefined ? { now: at } : { exclude, now: at };
    return { ...pick, exclude, now: at };
  }

  #pickFailed(why: 'unavailable' | 'overflow', hedge: boolean): void {
    const balancer = this.#balancer;
    const stats = this.#stats;
    if (why === 'overflow') {
      const limit = balancer.overflowLimit;
      publish(channels.overflow, { balancer: balancer.name, limit, hedge });
      if (stats) stats.overflow++;
      if (!hedge) this.#fail(new OverflowError({ balancer: balancer.name, limit, cause: this.#lastError }));
    } else {
      if (stats) stats.noEndpoint++;
      if (!hedge) this.#fail(new NoEndpointError({ balancer: balancer.name, cause: this.#lastError }));
    }
  }

  #settle(attempt: Attempt, result: Result<T>): void {
    if (attempt.done) {
      // Timed out, lost a race, or the request is over: nobody will read this response.
      if ('value' in result) this.#discard(result.value);
      return;
    }
    this.#retire(attempt);
    let classified: Classified;
    try {
      classified = this.#o.classify(result);
    } catch (error) {
      if ('value' in result) this.#discard(result.value);
      result = { error };
      classified = { outcome: OTHER, retryable: false };
    }
    const outcome = classified.outcome;
    const now = this.#clock.now();
    const throttleNow = this.#throttleOnClock ? now : undefined;
    if (outcome.ok) {
      this.#o.throttle?.record(true, throttleNow);
      this.#hedging?.observe(this.#balancer, now - attempt.startedAt);
      this.#commit(attempt, result, classified);
    } else {
      if (outcome.failure !== 'cancelled') this.#o.throttle?.record(false, throttleNow);
      this.#failed(attempt, result, classified);
    }
  }

  /** A failed attempt: wait for others in flight, retry, or give up with this result. */
  #failed(attempt: Attempt, result: Result<T>, classified: Classified): void {
    const o = this.#o;
    const outcome = classified.outcome;
    if (outcome.ok) return;
    if ('error' in result) this.#lastError = result.error;
    const retry = o.retry;
    const eligible =
      classified.retryable &&
      (retry === undefined ||
        retry.retryable(outcome.failure, outcome.status, o.idempotent, classified.bodySent ?? true));
    if (eligible && this.#live.length > 0) {
      // Another attempt (a hedge) is still running and may succeed: let it.
      this.#drop(attempt, result, outcome);
      return;
    }
    if (retry === undefined || !classified.retryable) {
      this.#commit(attempt, result, classified);
      return;
    }
    const decision = this.#decide(retry, outcome, classified);
    if (!decision.retry) {
      this.#commit(attempt, result, classified);
      return;
    }
    this.#publishRetry(outcome, decision.delayMs, attempt.lease.endpoint.address);
    this.#drop(attempt, result, outcome);
    this.#launchAfter(decision.delayMs);
  }

  /**
   * Asks the retry policy. It decides (and counts) even a non-retryable failure, so its stats say why requests were
   * not retried.
   */
  #decide(retry: RetryPolicy, outcome: Outcome & { ok: false }, classified: Classified): RetryDecision {
    const o = this.#o;
    const decision = retry.decide({
      attempt: this.#attempts,
      failure: outcome.failure,
      status: outcome.status,
      idempotent: o.idempotent,
      bodySent: classified.bodySent ?? true,
      replayable: o.replayable,
      retryAfterMs: classified.retryAfterMs,
      elapsedMs: this.#clock.now() - this.#startedAt,
      deadlineMs: this.#deadlineMs,
      balancer: this.#balancer,
    });
    if (!decision.retry && decision.reason === 'budget') {
      publish(channels.budgetExhausted, {
        balancer: this.#balancer.name,
        kind: 'retry',
        attempts: this.#attempts,
      });
    }
    return decision;
  }

  #publishRetry(outcome: Outcome & { ok: false }, delayMs: number, address: string): void {
    publish(channels.retry, {
      balancer: this.#balancer.name,
      attempt: this.#attempts + 1,
      delayMs,
      failure: outcome.failure,
      status: outcome.status,
      address,
    });
  }

  /** Launches the next attempt after `delayMs` of backoff (no hedge meanwhile). */
  #launchAfter(delayMs: number): void {
    this.#hedgeTimer?.cancel();
    this.#hedgeTimer = undefined;
    this.#backoffTimer = this.#clock.setTimer(() => {
      this.#backoffTimer = undefined;
      if (!this.#finished) this.#launch(false, this.#clock.now());
    }, delayMs);
  }

  // ---- hedging ---------------------------------------------------------------------------------------------

  /** `elapsed`: ms the attempt just started has been running already (an adapter-sent first attempt). */
  #scheduleHedge(elapsed: number): void {
    const hedging = this.#hedging;
    if (hedging === undefined || this.#finished || this.#hedgeTimer !== undefined) return;
    if (this.#hedges >= hedging.maxHedges) return;
    if (this.#o.retry !== undefined && this.#attempts >= this.#o.retry.maxAttempts) return;
    const delay = hedging.delayFor(this.#balancer);
    if (delay === undefined) return;
    this.#hedgeTimer = this.#clock.setTimer(() => {
      this.#hedgeTimer = undefined;
      this.#hedge();
    }, delay - elapsed);
  }

  #hedge(): void {
    // Only while an attempt is outstanding: during a retry's backoff there is nothing to race.
    if (this.#finished || this.#live.length === 0) return;
    const now = this.#clock.now();
    if (this.#budget !== undefined && !this.#budget.withdraw(this.#budgetOnClock ? now : undefined)) {
      this.#hedging!.counters.budgetExhausted++;
      publish(channels.budgetExhausted, {
        balancer: this.#balancer.name,
        kind: 'hedge',
        attempts: this.#attempts,
      });
      return;
    }
    this.#hedges++;
    this.#launch(true, now);
  }

  // ---- timeouts and cancellation ---------------------------------------------------------------------------

  #onPerTryTimeout(attempt: Attempt, timeoutMs: number): void {
    if (attempt.done) return;
    attempt.timer = undefined;
    const error = new DeadlineExceededError({ balancer: this.#balancer.name, scope: 'attempt', timeoutMs });
    attempt.abort(error);
    this.#retire(attempt);
    this.#o.throttle?.record(false);
    this.#failed(attempt, { error }, { outcome: TIMEOUT, retryable: true, bodySent: true });
  }

  #onDeadline(timeoutMs: number): void {
    this.#deadlineTimer = undefined;
    if (this.#finished) return;
    const error = new DeadlineExceededError({
      balancer: this.#balancer.name,
      scope: 'request',
      timeoutMs,
      cause: this.#lastError,
    });
    if (this.#stats) this.#stats.deadlineExceeded++;
    if (this.#o.throttle !== undefined) {
      for (let i = 0; i < this.#live.length; i++) this.#o.throttle.record(false);
    }
    // Attempts still running at the deadline were too slow: a timeout, which the balancer should learn from.
    this.#finish(TIMEOUT, error);
    this.#reject(error);
  }

  #abort(): void {
    if (this.#finished) return;
    const reason: unknown = this.#o.signal?.reason;
    this.#finish(CANCELLED, reason);
    this.#reject(reason);
  }

  // ---- endings ---------------------------------------------------------------------------------------------

  /** The request's answer: resolve with a response (lease unreleased) or reject with an error (lease released). */
  #commit(attempt: Attempt, result: Result<T>, classified: Classified): void {
    this.#finish(CANCELLED, undefined);
    if ('value' in result) {
      if (attempt.hedge && classified.outcome.ok) {
        this.#hedging!.counters.won++;
        publish(channels.hedge, {
          balancer: this.#balancer.name,
          event: 'won',
          attempt: attempt.attempt,
          address: attempt.lease.endpoint.address,
        });
      }
      this.#resolve({ value: result.value, lease: attempt.lease, attempts: this.#attempts });
    } else {
      attempt.lease.release(classified.outcome);
      this.#reject(result.error);
    }
  }

  /** No attempt could be made: fail with a typed error. */
  #fail(error: unknown): void {
    this.#finish(CANCELLED, undefined);
    this.#reject(error);
  }

  /** Ends the request: stops every timer and aborts and releases every attempt still in flight with `outcome`. */
  #finish(outcome: Outcome, reason: unknown): void {
    this.#finished = true;
    this.#deadlineTimer?.cancel();
    this.#hedgeTimer?.cancel();
    this.#backoffTimer?.cancel();
    if (this.#onAbort !== undefined) this.#o.signal?.removeEventListener('abort', this.#onAbort);
    for (const attempt of this.#live.splice(0)) {
      attempt.done = true;
      attempt.timer?.cancel();
      attempt.abort(reason);
      attempt.lease.release(outcome);
    }
  }

  /** Takes a failed attempt out of play: release its lease with the outcome, dispose of its response. */
  #drop(attempt: Attempt, result: Result<T>, outcome: Outcome): void {
    attempt.lease.release(outcome);
    if ('value' in result) this.#discard(result.value);
  }

  #retire(attempt: Attempt): void {
    attempt.done = true;
    attempt.timer?.cancel();
    attempt.timer = undefined;
    const i = this.#live.indexOf(attempt);
    if (i >= 0) this.#live.splice(i, 1);
  }

  #discard(value: T): void {
    try {
      this.#o.discard?.(value);
    } catch {
      // Disposing of a response nobody reads must not fail the request that is being answered.
    }
  }
}

function earlier(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
