/**
 * The executor: the adapter-neutral engine that runs one logical request as one or more attempts against a
 * Balancer — picking (away from endpoints already tried), timing out, retrying with backoff, hedging, throttling —
 * and feeds every attempt's outcome back to the balancer. Both adapters drive it — the undici dispatcher from the
 * first attempt, the grpc-js client interceptor from the first failure (`resume`); it knows nothing about HTTP or
 * gRPC: an attempt is a function that resolves at "response headers", and the adapter's `classify` says what the
 * result means.
 *
 *   execute ─▶ throttle? ─▶ tryPick(exclude) ─▶ attempt() ─▶ classify ─┬─ ok / fatal ─▶ resolve (lease unreleased)
 *                 ▲                                   │ hedge timer      └─ retryable ─▶ decide ─▶ backoff ─┐
 *                 └───────────────────────────────────┴──────────────────────────────────────────────────┘
 *
 * Lease discipline: every attempt's lease is released exactly once by the executor — with the classified outcome
 * when it failed, `cancelled` when it lost a hedge race or the caller aborted, `timeout` when its per-try timeout
 * or the deadline fired — except the winner's, which is returned unreleased for the adapter to release when the
 * response body ends (so in-flight counts and latency cover the whole response).
 */
import { ConfigError } from '../errors/config-error.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded-error.js';
import { NoEndpointError } from '../errors/no-endpoint-error.js';
import { OverflowError } from '../errors/overflow-error.js';
import { ThrottledError } from '../errors/throttled-error.js';
import type { ExecuteOptions, ExecuteResult } from './execute-options.js';
import { Execution } from './execution.js';

export type { AttemptInfo, Classified } from './attempt.js';
export type { ExecuteOptions, ExecuteResult, ExecuteResume } from './execute-options.js';

/**
 * Runs one request through `options.balancer` with retries, hedging and throttling.
 *
 * Resolves with the first successful (or fatally failed, or last) response and its unreleased lease. Rejects with
 * the last attempt's error when it failed without a response; with {@link NoEndpointError}, {@link OverflowError}
 * or {@link ThrottledError} when an attempt could not be made (no network call); with a
 * {@link DeadlineExceededError} when the overall deadline passed; with the signal's reason when the caller aborted.
 */
export function execute<T>(options: ExecuteOptions<T>): Promise<ExecuteResult<T>> {
  try {
    checkOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<ExecuteResult<T>>((resolve, reject) => {
    new Execution(options, resolve, reject).start();
  });
}

function checkOptions(o: ExecuteOptions<unknown>): void {
  if (typeof o !== 'object' || o === null)
    throw new ConfigError({ field: 'execute', allowed: 'an object', received: o });
  if (typeof o.balancer?.tryPick !== 'function') {
    throw new ConfigError({ field: 'balancer', allowed: 'a Balancer', received: o.balancer });
  }
  for (const key of ['attempt', 'classify'] as const) {
    if (typeof o[key] !== 'function')
      throw new ConfigError({ field: key, allowed: 'a function', received: o[key] });
  }
  if (o.discard !== undefined && typeof o.discard !== 'function') {
    throw new ConfigError({ field: 'discard', allowed: 'a function', received: o.discard });
  }
  for (const key of ['idempotent', 'replayable'] as const) {
    if (typeof o[key] !== 'boolean')
      throw new ConfigError({ field: key, allowed: 'a boolean', received: o[key] });
  }
}
