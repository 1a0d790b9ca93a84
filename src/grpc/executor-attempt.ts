/**
 * One attempt of a gRPC call that the shared executor runs (a retry, a hedge, or attempt 1 once the executor adopted
 * it for a hedge): the grpc-js listener of that attempt's call, and the promise the executor awaits — resolved at
 * the response metadata, rejected with {@link AttemptFailed} at a status that came before any.
 *
 * The first attempt whose metadata arrives commits the call (its owner delivers the rest to the caller); later ones
 * are ignored until the executor aborts them (a lost hedge), which cancels their grpc-js call — the server sees the
 * stream cancelled — and releases their lease as `cancelled`.
 */
import {
  type InterceptingListener,
  type Metadata,
  type NextCall,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Lease } from '../balancer/lease.js';
import { CANCELLED } from '../balancer/outcome.js';
import type { AttemptInfo } from '../resilience/attempt.js';
import { releaseWinner } from './attempt-status.js';
import type { AttemptRoute } from './call-route.js';

export type ChildCall = ReturnType<NextCall>;

/** A failed attempt, as the executor sees it (the rejection of `attempt`). */
export class AttemptFailed {
  constructor(
    readonly status: StatusObject,
    readonly route: AttemptRoute,
  ) {}
}

/** What an attempt needs from the logical call it belongs to (the interceptor's call object). */
export interface AttemptOwner {
  /** The call is answered or committed to another attempt. */
  readonly settled: boolean;
  /** This attempt's metadata arrived first: commit the call to it. */
  win(child: ChildCall, route: AttemptRoute, metadata: Metadata): void;
  /** A response message of the committed attempt. */
  deliver(message: unknown): void;
  /** The committed attempt's status: the call's answer. */
  end(status: StatusObject): void;
  /** A failed attempt's status, kept as the call's answer if nothing better comes. */
  lost(status: StatusObject): void;
}

/** The listener and executor promise of one attempt. */
export class ExecutorAttempt implements InterceptingListener {
  readonly promise: Promise<Metadata>;
  child: ChildCall | undefined;
  readonly #owner: AttemptOwner;
  readonly #route: AttemptRoute;
  /** Released here when it wins; `undefined` for attempt 1, whose call tracker releases it (call-tracker.ts). */
  readonly #lease: Lease | undefined;
  #resolve!: (metadata: Metadata) => void;
  #reject!: (error: AttemptFailed) => void;
  #mine = false;
  #aborted = false;

  constructor(owner: AttemptOwner, route: AttemptRoute, lease: Lease | undefined) {
    this.#owner = owner;
    this.#route = route;
    this.#lease = lease;
    this.promise = new Promise<Metadata>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Hands the attempt to the executor: from now on its signal (lost hedge, deadline, caller) cancels the call. */
  adopt(info: AttemptInfo): Promise<Metadata> {
    info.signal.addEventListener('abort', () => this.#abandon(), { once: true });
    return this.promise;
  }

  onReceiveMetadata(metadata: Metadata): void {
    if (this.#aborted || this.#owner.settled) return;
    this.#route.markHeaders();
    this.#mine = true;
    this.#owner.win(this.child!, this.#route, metadata);
    this.#resolve(metadata);
  }

  onReceiveMessage(message: unknown): void {
    if (this.#mine) this.#owner.deliver(message);
  }

  onReceiveStatus(status: StatusObject): void {
    const route = this.#route;
    route.markHeaders();
    if (this.#mine) {
      if (this.#lease !== undefined) releaseWinner(this.#lease, route, status.code);
      else route.ended = true;
      this.#owner.end(status);
    } else if (!this.#aborted) {
      route.ended = true;
      this.#owner.lost(status);
      this.#reject(new AttemptFailed(status, route));
    }
  }

  /** Aborted by the executor. A committed attempt belongs to the caller now; grpc-js enforces its deadline. */
  #abandon(): void {
    if (this.#mine) return;
    this.#aborted = true;
    this.#route.ended = true;
    // Attempt 1's slot is its call tracker's lease, the picker's latest pick: give it back now. A call cancelled
    // before it started (still generating call credentials) never reports its end, and would hold the slot until
    // the unstarted-pick sweep; a started one's end then finds the lease released and is ignored.
    const picked = this.#lease === undefined ? this.#route.picked?.lease : undefined;
    if (picked !== undefined && !picked.released) picked.release(CANCELLED);
    this.child?.cancelWithStatus(Status.CANCELLED, 'switchyard: attempt abandoned');
  }
}
