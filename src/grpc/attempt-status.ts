/**
 * What an attempt's gRPC status means for the executor (`Classified`: the outcome the balancer is fed, whether it may
 * be retried, the server's pushback), and how the winning retry's lease is released. Pure functions of the status,
 * the attempt's route and the call's facts, apart from the interceptor's call object (interceptor.ts).
 */
import { type Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { Lease } from '../balancer/lease.js';
import type { Outcome } from '../balancer/outcome.js';
import type { Classified } from '../resilience/attempt.js';
import { parseGrpcPushback } from '../semantics/http.js';
import { failureOfGrpcCode } from '../semantics/status.js';
import type { AttemptRoute } from './call-route.js';
import type { GrpcResilience } from './retry-config.js';
import { StatusClassifier } from './status.js';

const DEFAULT_CLASSIFIER = new StatusClassifier();
const CONNECT: Outcome = Object.freeze({ ok: false, failure: 'connect' });
const RESET: Outcome = Object.freeze({ ok: false, failure: 'reset', status: Status.CANCELLED });
const TIMEOUT: Outcome = Object.freeze({ ok: false, failure: 'timeout', status: Status.DEADLINE_EXCEEDED });
const PUSHBACK = 'grpc-retry-pushback-ms';

/** What the classification needs to know about the call. */
export interface CallFacts {
  readonly resilience: GrpcResilience;
  /** The caller cancelled the call. */
  readonly callerCancelled: boolean;
  /** The call's own deadline, epoch ms (Infinity without one). */
  readonly deadline: number;
  /** Declared idempotent (looked up only when a failure needs it). */
  isIdempotent(): boolean;
}

/** The outcome the channel's classifier gives `code` (the default classifier before any pick reported one). */
export function outcomeOf(route: AttemptRoute, code: number): Outcome {
  return (route.classifier ?? DEFAULT_CLASSIFIER).outcome(code);
}

/**
 * What an attempt's status means for the executor: the channel's outcome for the code; retryable when the code is
 * in `codes` (any call — classified as not processed), in `idempotentCodes` for an idempotent call, a per-try
 * timeout, or a stream the server cut; never when the server's pushback says stop or the pick failed locally.
 */
export function classifyAttempt(status: StatusObject, route: AttemptRoute, call: CallFacts): Classified {
  if (route.local === 'unroutable') return { outcome: CONNECT, retryable: true, bodySent: false };
  const code = status.code;
  if (route.local !== undefined) return { outcome: DEFAULT_CLASSIFIER.outcome(code), retryable: false };
  if (code === Status.CANCELLED) {
    // Not the caller (that ends the call first): the server or its connection reset the stream — a server shutting
    // down cancels the calls it holds. Retried like an HTTP reset: for idempotent calls only.
    return { outcome: RESET, retryable: !call.callerCancelled, bodySent: true };
  }
  if (code === Status.DEADLINE_EXCEEDED && route.perTryCut && Date.now() < call.deadline) {
    return { outcome: TIMEOUT, retryable: true, bodySent: true };
  }
  const r = call.resilience;
  const pushback = parseGrpcPushback(pushbackOf(status.metadata));
  const anyCall = r.anyCallCodes.has(code);
  // Only failures get here: the idempotency lookup is not paid by successful calls.
  const retryable = pushback !== 'stop' && (anyCall || (r.idempotentCodes.has(code) && call.isIdempotent()));
  let outcome = outcomeOf(route, code);
  if (retryable && outcome.ok) outcome = { ok: false, failure: failureOfGrpcCode(code), status: code };
  return {
    outcome,
    retryable,
    bodySent: !anyCall,
    ...(typeof pushback === 'number' ? { retryAfterMs: pushback } : {}),
  };
}

/** The winning retry's lease, released at the end of its call with time-to-headers latency. */
export function releaseWinner(lease: Lease, route: AttemptRoute, code: number): void {
  route.ended = true;
  const outcome = outcomeOf(route, code);
  if (route.headersAt < 0) {
    lease.release(outcome);
    return;
  }
  lease.release({ ...outcome, latencyMs: route.headersAt - lease.startedAt });
}

function pushbackOf(metadata: Metadata | undefined): string | undefined {
  const value = metadata?.get(PUSHBACK)[0];
  return typeof value === 'string' ? value : undefined;
}
