/**
 * One attempt of a request run by the executor: what the adapter's `attempt` function receives, and what its
 * `classify` function answers about the result.
 */
import type { Lease } from '../balancer/lease.js';
import type { Outcome } from '../balancer/outcome.js';
import type { TimerHandle } from '../clock.js';

/** What one attempt gets. */
export interface AttemptInfo {
  /** 1 for the first attempt, counting retries and hedges. */
  readonly attempt: number;
  /** True for a hedge (sent while an earlier attempt is still outstanding). */
  readonly hedge: boolean;
  /** Aborted when the attempt times out, loses a hedge race, or the caller aborts. Pass it to the transport. */
  readonly signal: AbortSignal;
  /** The endpoint to send to. Do not release it: the executor does (or returns it to you with the winner). */
  readonly lease: Lease;
}

/** What the adapter's `classify` says about one attempt's result. */
export interface Classified {
  /** The outcome to feed to the balancer (`ok: true` for any answer that is not a failure, e.g. a 404). */
  readonly outcome: Outcome;
  /**
   * The adapter allows retrying this result at all (false e.g. for a caller abort). The retry policy then applies
   * its own rules (statuses, idempotency, budget, …).
   */
  readonly retryable: boolean;
  /** Delay the server asked for (Retry-After, gRPC pushback), in ms. */
  readonly retryAfterMs?: number;
  /** Whether any byte of the request was written. Default `true` (the safe assumption when unknown). */
  readonly bodySent?: boolean;
}

/**
 * @internal One attempt in flight; also the {@link AttemptInfo} handed to the adapter. Its abort signal is created on first
 * read: an AbortController costs more than the rest of the executor's bookkeeping together, and adapters that
 * cancel through their own transport handle never pay for it.
 */
export class Attempt implements AttemptInfo {
  readonly attempt: number;
  readonly hedge: boolean;
  readonly lease: Lease;
  /** Clock time the attempt started, in ms. */
  readonly startedAt: number;
  /** Per-try timeout. */
  timer: TimerHandle | undefined;
  /** Settled, timed out or cancelled: a later result is discarded. */
  done = false;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  constructor(attempt: number, hedge: boolean, lease: Lease, startedAt: number) {
    this.attempt = attempt;
    this.hedge = hedge;
    this.lease = lease;
    this.startedAt = startedAt;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
