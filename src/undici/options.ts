/**
 * Options of the undici adapter, validated eagerly: a wrong option is a {@link ConfigError} at construction naming
 * the field and what is allowed, never a silent fallback.
 */
import { Client, type Dispatcher, Pool } from 'undici';
import { cookieKey, type HeaderSource, headerKey } from '../affinity/keys.js';
import { Balancer, type BalancerOptions } from '../balancer/balancer.js';
import { DEFAULT_READY_TIMEOUT_MS } from '../balancer/options.js';
import {
  join as at,
  readEnum,
  readFunction,
  readNumber,
  readObject,
  readString,
} from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import { AdaptiveThrottle } from '../resilience/adaptive-throttle.js';
import { type HedgingOptions, HedgingPolicy } from '../resilience/hedging.js';
import { RetryPolicy, type RetryPolicyOptions } from '../resilience/retry-policy.js';
import { isIdempotent } from '../semantics/http.js';
import { defaultFailureStatus, type FailureStatusPredicate } from './classify.js';

/** Computes the affinity key of a request for the hashing policies (`ring_hash`, `maglev`); `undefined` = none. */
export type HashKeyFunction = (opts: Dispatcher.DispatchOptions) => string | undefined;

/**
 * Where the affinity key comes from: a request header (`{ header: 'x-user-id' }`), a cookie
 * (`{ cookie: 'session' }`), or a function. Requests without the key are balanced by the policy as usual.
 */
export type HashKeySource = HashKeyFunction | { readonly header: string } | { readonly cookie: string };

/** Options of {@link BalancedDispatcher}. */
export interface BalancedDispatcherOptions {
  /**
   * The balancer to pick endpoints from: a {@link Balancer} (shared; the dispatcher never closes it, and its options
   * are used as they are) or options to build one (owned; closed with the dispatcher). Policy, health, circuit
   * breaking are configured there. One adapter default differs from a bare Balancer's: `outlierDetection` is on
   * (Envoy's defaults) unless set — pass `outlierDetection: false` to turn it off. Without it a dead endpoint,
   * which fails in microseconds and so looks the least loaded, draws a large share of requests (see docs/undici.md).
   */
  readonly balancer: Balancer | BalancerOptions;
  /**
   * Scheme used to reach the endpoints. Default `'http:'`. With `'https:'` the TLS servername (SNI) is the
   * logical host of the request's origin, not the endpoint's address.
   */
  readonly protocol?: 'http:' | 'https:';
  /** Options for the undici `Pool` of each endpoint (connections, timeouts, pipelining, TLS `connect`, …). Default: undici's. */
  readonly pool?: Pool.Options;
  /**
   * Which response statuses count as endpoint failures (fed to outlier detection and latency). Default: `>= 500`
   * and 429 (429, and 503 with Retry-After, are fed as `overloaded`).
   */
  readonly failureStatus?: FailureStatusPredicate;
  /** Affinity key source for the hashing policies. Default: none. */
  readonly hashKey?: HashKeySource;
  /**
   * Retries on another endpoint, through switchyard's executor: a {@link RetryPolicy} (shareable) or its options
   * (`{}` for the defaults: 3 attempts, connect failures for every request, 502/503/504, resets and timeouts for
   * idempotent ones, jittered backoff, a 20 % retry budget per balancer). Default: off — one attempt, as Envoy,
   * gRPC and Linkerd do without a configured retry policy. Upgrades (WebSocket, CONNECT) are never retried.
   */
  readonly retry?: RetryPolicy | RetryPolicyOptions | false;
  /**
   * Hedged requests for idempotent requests with replayable bodies: a {@link HedgingPolicy} or its options
   * (`{ percentile: 95 }`, `{ delayMs: 50 }`). Default: off.
   */
  readonly hedging?: HedgingPolicy | HedgingOptions | false;
  /** Client-side adaptive throttling (an {@link AdaptiveThrottle}, shareable). Default: off. */
  readonly throttle?: AdaptiveThrottle;
  /**
   * Whether a request is safe to repeat. Default: the request's own `idempotent` option when set, else its method
   * is GET, HEAD, OPTIONS, TRACE, PUT or DELETE (RFC 9110 §9.2.2).
   */
  readonly idempotent?: (opts: Dispatcher.DispatchOptions) => boolean;
  /**
   * Most time, in ms, a request waits for the balancer's first endpoint set (a DNS or xDS resolver that has not
   * answered yet) before it is sent or fails with `NoEndpointAvailableError`; a request's own `headersTimeout`,
   * when shorter, bounds it too. 0..3,600,000. Default 10,000 (as {@link Balancer.ready}). grpc-js likewise holds
   * calls until its resolver's first answer.
   */
  readonly readyTimeoutMs?: number;
}

/** Validated options. */
export interface ResolvedDispatcherOptions {
  readonly balancer: Balancer;
  readonly ownsBalancer: boolean;
  readonly protocol: 'http:' | 'https:';
  readonly pool: Pool.Options;
  readonly failureStatus: FailureStatusPredicate;
  readonly hashKey: HashKeyFunction | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly hedging: HedgingPolicy | undefined;
  readonly throttle: AdaptiveThrottle | undefined;
  readonly idempotent: (opts: Dispatcher.DispatchOptions) => boolean;
  readonly readyTimeoutMs: number;
}

/** Default {@link BalancedDispatcherOptions.idempotent}: the request's `idempotent` flag, else its method (RFC 9110). */
export function isIdempotentRequest(opts: Dispatcher.DispatchOptions): boolean {
  return isIdempotent(opts.method, (opts as { idempotent?: unknown }).idempotent);
}

/** Keys of {@link BalancedDispatcherOptions}; subclasses' option readers extend this list. */
export const DISPATCHER_KEYS = [
  'balancer',
  'protocol',
  'pool',
  'failureStatus',
  'hashKey',
  'retry',
  'hedging',
  'throttle',
  'idempotent',
  'readyTimeoutMs',
] as const;

/** Validates {@link BalancedDispatcherOptions}. `extraKeys` are options a wrapper reads itself. */
export function resolveDispatcherOptions(
  options: BalancedDispatcherOptions,
  path = '',
  extraKeys: readonly string[] = [],
): ResolvedDispatcherOptions {
  const raw = readObject(options, path, [...DISPATCHER_KEYS, ...extraKeys]);
  if (raw.balancer === undefined) {
    throw new ConfigError({
      field: at(path, 'balancer'),
      allowed: 'a Balancer or Balancer options',
      received: undefined,
    });
  }
  const shared = raw.balancer instanceof Balancer;
  if (!shared && (typeof raw.balancer !== 'object' || raw.balancer === null)) {
    throw new ConfigError({
      field: at(path, 'balancer'),
      allowed: 'a Balancer or Balancer options',
      received: raw.balancer,
    });
  }
  const pool = raw.pool ?? {};
  if (typeof pool !== 'object' || pool === null || Array.isArray(pool)) {
    throw new ConfigError({
      field: at(path, 'pool'),
      allowed: 'an object of undici Pool options',
      received: raw.pool,
    });
  }
  checkPoolOptions(pool as Pool.Options, at(path, 'pool'));
  const protocol = readEnum(raw, 'protocol', path, ['http:', 'https:'], 'http:');
  return {
    balancer: shared
      ? (raw.balancer as Balancer)
      : new Balancer(withAdapterDefaults(raw.balancer as BalancerOptions, protocol, pool as Pool.Options)),
    ownsBalancer: !shared,
    protocol,
    pool: pool as Pool.Options,
    failureStatus: readFunction<FailureStatusPredicate>(raw, 'failureStatus', path) ?? defaultFailureStatus,
    hashKey: resolveHashKey(raw.hashKey, at(path, 'hashKey')),
    retry: instanceOrOptions(raw.retry, RetryPolicy, (o) => new RetryPolicy(o as RetryPolicyOptions)),
    hedging: instanceOrOptions(raw.hedging, HedgingPolicy, (o) => new HedgingPolicy(o as HedgingOptions)),
    throttle: instanceOrOptions(raw.throttle, AdaptiveThrottle, () => {
      throw new ConfigError({
        field: at(path, 'throttle'),
        allowed: 'an AdaptiveThrottle',
        received: raw.throttle,
      });
    }),
    idempotent:
      readFunction<(opts: Dispatcher.DispatchOptions) => boolean>(raw, 'idempotent', path) ??
      isIdempotentRequest,
    readyTimeoutMs: readNumber(
      raw,
      'readyTimeoutMs',
      path,
      { min: 0, max: 3_600_000 },
      DEFAULT_READY_TIMEOUT_MS,
    ),
  };
}

/**
 * Validates undici Pool options by letting undici itself check them now, on a Pool and a Client that never connect:
 * a bad value (`connections: -1`, `headersTimeout: 'x'`) is a {@link ConfigError} at construction rather than an
 * error on the first request to each endpoint.
 */
function checkPoolOptions(pool: Pool.Options, field: string): void {
  const origin = 'http://127.0.0.1:1';
  try {
    new Pool(origin, pool).destroy().catch(() => {});
    new Client(origin, pool as Client.Options).destroy().catch(() => {});
  } catch (error) {
    throw new ConfigError({
      field,
      allowed: `undici Pool options (${(error as Error).message})`,
      received: pool,
    });
  }
}

/**
 * Balancer options with the adapter's defaults: outlier detection on unless the caller decided; for https
 * endpoints, HTTP health probes over TLS with the Pool's TLS options unless the caller set them.
 */
function withAdapterDefaults(
  options: BalancerOptions,
  protocol: 'http:' | 'https:',
  pool: Pool.Options,
): BalancerOptions {
  let out = options.outlierDetection === undefined ? { ...options, outlierDetection: true } : options;
  const check = options.healthCheck as Record<string, unknown> | false | undefined;
  if (protocol === 'https:' && typeof check === 'object' && check !== null && check.protocol !== 'grpc') {
    const connect = pool.connect;
    const tls =
      check.tls ?? (typeof connect === 'object' && connect !== null ? tlsOptionsOf(connect) : undefined);
    out = {
      ...out,
      healthCheck: {
        ...check,
        scheme: check.scheme ?? 'https',
        ...(tls === undefined ? {} : { tls }),
      } as BalancerOptions['healthCheck'],
    };
  }
  return out;
}

/** The node:tls options among undici `connect` options (the rest — timeouts, keep-alive — are the Pool's). */
const TLS_KEYS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
  'ciphers',
  'minVersion',
  'maxVersion',
  'checkServerIdentity',
  'crl',
  'ecdhCurve',
  'secureOptions',
  'sigalgs',
] as const;

function tlsOptionsOf(connect: object): Record<string, unknown> {
  const source = connect as Record<string, unknown>;
  const tls: Record<string, unknown> = {};
  for (const key of TLS_KEYS) if (source[key] !== undefined) tls[key] = source[key];
  return tls;
}

/** Turns a {@link HashKeySource} into a function. */
export function resolveHashKey(source: unknown, path: string): HashKeyFunction | undefined {
  if (source === undefined) return undefined;
  if (typeof source === 'function') return source as HashKeyFunction;
  const raw = readObject(source, path, ['header', 'cookie']);
  const header = readString(raw, 'header', path);
  const cookie = readString(raw, 'cookie', path);
  if ((header === undefined) === (cookie === undefined)) {
    throw new ConfigError({
      field: path,
      allowed: 'a function, { header: name } or { cookie: name }',
      received: source,
    });
  }
  // The shared affinity-key extractors (src/affinity): same name rules and multi-value handling as grpc-js's.
  const extract =
    header !== undefined ? headerKey(header, at(path, 'header')) : cookieKey(cookie!, at(path, 'cookie'));
  return (opts) => (opts.headers == null ? undefined : extract(toHeaderSource(opts.headers)));
}

/** undici's header forms as an affinity {@link HeaderSource}; iterables of pairs (rare) become a record. */
function toHeaderSource(headers: NonNullable<Dispatcher.DispatchOptions['headers']>): HeaderSource {
  if (
    Array.isArray(headers) ||
    typeof (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  ) {
    return headers as HeaderSource;
  }
  const record: Record<string, string | string[]> = {};
  for (const [key, value] of headers as Iterable<[string, string | string[] | undefined]>) {
    if (value !== undefined) record[key.toLowerCase()] = value;
  }
  return record;
}

/** `undefined`/`false` → off; an instance → shared; anything else → options for a new one (validated there). */
function instanceOrOptions<T>(
  value: unknown,
  type: abstract new (...args: never[]) => T,
  create: (options: unknown) => T,
): T | undefined {
  if (value === undefined || value === false) return undefined;
  return value instanceof type ? value : create(value);
}
