/**
 * What a caller reports when a request finishes: the single path by which adapters feed the balancer.
 */

/**
 * Why a request failed.
 *
 * - Locally originated (the request may never have reached the application): `connect` (refused, unreachable,
 *   TLS handshake), `reset` (connection closed or reset mid-request), `timeout`.
 * - Externally originated ("gateway" failures in Envoy's terms): `status` — the endpoint answered with a failure
 *   status (HTTP 5xx, gRPC UNAVAILABLE, …); `overloaded` — it answered that it is shedding load (HTTP 429/503 with
 *   Retry-After, gRPC RESOURCE_EXHAUSTED).
 * - `cancelled`: the caller gave up (its own deadline or abort). Not the endpoint's fault: it updates in-flight
 *   counts only, never latency or health.
 * - `other`: anything else the adapter could not classify; counts as a failure.
 */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'status' | 'overloaded' | 'cancelled' | 'other';

/** Failure kinds that originate on the client's side of the connection (Envoy's "locally originated"). */
export const LOCAL_FAILURES: ReadonlySet<FailureKind> = new Set(['connect', 'reset', 'timeout']);

/**
 * `connect`, `reset`, `timeout`: the request may never have reached the application. The same set as
 * {@link LOCAL_FAILURES}, as inline comparisons: outlier detection calls this on every failed release.
 */
export function isLocalFailure(outcome: { readonly failure: FailureKind }): boolean {
  const f = outcome.failure;
  return f === 'connect' || f === 'reset' || f === 'timeout';
}

/** The result of one request, given to {@link Lease.release}. */
export type Outcome =
  | {
      readonly ok: true;
      /** Latency to report; when absent the balancer measures from the pick with its clock. */
      readonly latencyMs?: number;
      /** Current time on the balancer's clock, if the caller has it (saves a clock read). */
      readonly now?: number;
    }
  | {
      readonly ok: false;
      readonly failure: FailureKind;
      readonly latencyMs?: number;
      readonly now?: number;
      /** The status the endpoint answered with, when there was one (HTTP status code, gRPC status code). */
      readonly status?: number;
    };

/** A shared success outcome, so callers with nothing to add allocate nothing. */
export const SUCCESS: Outcome = Object.freeze({ ok: true });

/**
 * The shared `cancelled` outcome: the caller gave up, or the adapter let go of a lease it never used. Every adapter
 * and the executor release with this one object (in-flight bookkeeping only, never latency or health).
 */
export const CANCELLED: Outcome = /* @__PURE__ */ Object.freeze({ ok: false, failure: 'cancelled' });
