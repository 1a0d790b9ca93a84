/**
 * gRPC status codes → switchyard outcomes.
 *
 * The balancer learns about an endpoint only through `lease.release(outcome)`, so how a finished call's status code
 * is classified decides what passive health checking and the latency estimate see. The default failure set follows
 * what gRPC itself treats as transport- or server-health signals (gRFC A6 retryable codes plus the two that mean
 * "this server is in trouble"): `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `INTERNAL`. Every other
 * code (`NOT_FOUND`, `INVALID_ARGUMENT`, …) is the application answering correctly and counts as a success.
 * `CANCELLED` is the caller giving up: it frees the in-flight slot and feeds nothing else, unless listed as a failure.
 *
 * Outcomes are preallocated per code, so classifying allocates nothing.
 */
import { CANCELLED, type Outcome, SUCCESS } from '../balancer/outcome.js';
import { ConfigError } from '../errors/config-error.js';
import {
  DEFAULT_GRPC_FAILURE_CODES,
  failureOfGrpcCode,
  GRPC_STATUS_CODES,
  grpcCodeName,
  grpcCodeOf,
  MAX_GRPC_CODE as MAX_CODE,
} from '../semantics/status.js';

/** Status codes that count as failures unless configured otherwise (semantics/status.ts). */
export const DEFAULT_FAILURE_STATUSES: readonly number[] = DEFAULT_GRPC_FAILURE_CODES;

/** The name of a status code (`14` → `UNAVAILABLE`), for messages and `toJsonObject`. */
export function statusName(code: number): string {
  return grpcCodeName(code);
}

/**
 * Reads a list of status codes given as numbers (`14`) or names (`"UNAVAILABLE"`, the gRPC service-config
 * spelling), rejecting anything else with a {@link ConfigError} naming `path`.
 */
export function parseStatusList(raw: unknown, path: string): number[] {
  if (!Array.isArray(raw))
    throw new ConfigError({ field: path, allowed: 'an array of gRPC status codes or names', received: raw });
  const out: number[] = [];
  raw.forEach((item, i) => {
    const code = typeof item === 'string' ? grpcCodeOf(item) : item;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 1 || code > MAX_CODE) {
      throw new ConfigError({
        field: `${path}[${i}]`,
        allowed: `a gRPC status code from 1 to ${MAX_CODE} or its name (e.g. "UNAVAILABLE"); OK is never a failure`,
        received: item,
      });
    }
    if (!out.includes(code)) out.push(code);
  });
  return out;
}

/**
 * Maps a finished call's status code to the outcome the balancer is fed, by a table built once from the failure set.
 */
export class StatusClassifier {
  readonly #table: Outcome[];
  readonly #other: Outcome;

  constructor(failureStatuses: readonly number[] = DEFAULT_FAILURE_STATUSES) {
    this.#table = [];
    for (let code = 0; code <= MAX_CODE; code++) {
      if (failureStatuses.includes(code)) {
        this.#table.push(Object.freeze({ ok: false, failure: failureOfGrpcCode(code), status: code }));
      } else {
        this.#table.push(code === GRPC_STATUS_CODES.CANCELLED ? CANCELLED : SUCCESS);
      }
    }
    this.#other = Object.freeze({ ok: false, failure: 'other' });
  }

  /** The outcome for `code`. Codes outside 0..16 (never sent by a conforming peer) count as `other` failures. */
  outcome(code: number): Outcome {
    return this.#table[code] ?? this.#other;
  }
}
