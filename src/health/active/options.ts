/**
 * Options of active health checking, with their defaults (Envoy `HealthCheck` unless docs/health.md says why not),
 * and the factory type that plugs a protocol's {@link Prober} in. Strict: a bad value is a ConfigError naming it.
 */
import {
  checkNumber,
  join,
  type RawOptions,
  readEnum,
  readNumber,
  readObject,
  readString,
} from '../../config/validate.js';
import { ConfigError } from '../../errors/config-error.js';
import type { Prober } from './prober.js';

const DAY_MS = 86_400_000;
const PERCENT = { min: 0, max: 100 } as const;
const COUNT = { integer: true, min: 1, max: 1_000_000 } as const;

/**
 * Makes the prober of one Balancer's active health check from its validated options (`healthCheck.prober`).
 * The core ships the HTTP prober; `switchyard-lb/grpc` exports `grpcHealthProber`.
 */
export type ProberFactory = (options: HealthCheckOptions) => Prober;

/** Active health checking: probe every endpoint on a jittered interval. */
export interface HealthCheckOptions {
  /** `'http'` (GET `path`) or `'grpc'` (`grpc.health.v1.Health/Check`). Default `'http'`. */
  readonly protocol: 'http' | 'grpc';
  /** HTTP path probed. Default `'/healthz'` (Envoy has no default; the Kubernetes convention). */
  readonly path: string;
  /** HTTP statuses that pass. Default `[200]` (Envoy `expected_statuses` default: 200 only). */
  readonly expectedStatuses: readonly number[];
  /** HTTP `Host` header. Default: the endpoint's `host:port`. With `scheme: 'https'` its host name is also the SNI. */
  readonly hostHeader: string | undefined;
  /**
   * Scheme of the HTTP probe: `'https'` probes over TLS. Default `'http'`; a `BalancedDispatcher` with
   * `protocol: 'https:'` defaults its owned balancer's probe to `'https'`.
   */
  readonly scheme: 'http' | 'https';
  /**
   * TLS options of an `'https'` probe (node:tls `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`, …).
   * Default: none (system CAs; SNI from `hostHeader`). A `BalancedDispatcher` passes its `pool.connect` options.
   */
  readonly tls: Readonly<Record<string, unknown>> | undefined;
  /** gRPC service name asked about; `''` is the whole server. Default `''` (grpc.health.v1). */
  readonly service: string;
  /** Time between probes of one endpoint, in ms. Default 10,000 (Kubernetes `periodSeconds`; Envoy has no default). */
  readonly intervalMs: number;
  /** Probe deadline, in ms; a probe that takes longer fails. Default 1,000 (Kubernetes `timeoutSeconds`). */
  readonly timeoutMs: number;
  /** Failed probes in a row that mark an endpoint unhealthy. Default 3 (Kubernetes `failureThreshold`). */
  readonly unhealthyThreshold: number;
  /** Passed probes in a row that mark it healthy again. Default 1 (Kubernetes `successThreshold`). */
  readonly healthyThreshold: number;
  /** Random extra delay per interval, uniform in [0, this], in ms. Default 0 (Envoy `interval_jitter`). */
  readonly intervalJitterMs: number;
  /**
   * Random extra delay per interval, uniform in [0, this percent of `intervalMs`]. Default 10 — Envoy's default is
   * 0; we jitter by default so that many client processes started together do not probe in lockstep.
   */
  readonly intervalJitterPercent: number;
  /** Most probes in flight at once per Balancer (p-limit). Default 32; see docs/health.md for the sizing. */
  readonly concurrency: number;
  /**
   * Makes the prober. Default `undefined`: the built-in HTTP prober. `protocol: 'grpc'` needs `grpcHealthProber`
   * from `switchyard-lb/grpc` (kept out of the core entry so that it never loads @grpc/grpc-js); any other
   * factory plugs in a custom check (TCP connect, a Redis PING, …).
   */
  readonly prober: ProberFactory | undefined;
}

/** What a `protocol: 'grpc'` check without `prober` is told. */
export const GRPC_PROBER_REQUIRED =
  'grpcHealthProber from "switchyard-lb/grpc" when protocol is "grpc" (the core does not load @grpc/grpc-js)';

export const defaultHealthCheckOptions: HealthCheckOptions = Object.freeze({
  protocol: 'http',
  path: '/healthz',
  expectedStatuses: Object.freeze([200]),
  hostHeader: undefined,
  scheme: 'http',
  tls: undefined,
  service: '',
  intervalMs: 10_000,
  timeoutMs: 1_000,
  unhealthyThreshold: 3,
  healthyThreshold: 1,
  intervalJitterMs: 0,
  intervalJitterPercent: 10,
  concurrency: 32,
  prober: undefined,
});

/** What users pass: any subset of {@link HealthCheckOptions}; `undefined`/`false` turns active checking off. */
export type HealthCheckConfig = false | Partial<HealthCheckOptions>;

/** Validates active health-check options; `undefined`/`false` → off. */
export function parseHealthCheck(raw: unknown, path: string): HealthCheckOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  const d = defaultHealthCheckOptions;
  const o = readObject(raw, path, Object.keys(d));
  const protocol = readEnum(o, 'protocol', path, ['http', 'grpc'] as const, d.protocol);
  const pathValue = readString(o, 'path', path) ?? d.path;
  if (!pathValue.startsWith('/'))
    throw new ConfigError({
      field: join(path, 'path'),
      allowed: 'a path starting with "/"',
      received: pathValue,
    });
  const service = o.service === undefined ? d.service : o.service;
  if (typeof service !== 'string')
    throw new ConfigError({ field: join(path, 'service'), allowed: 'a string', received: service });
  const options: HealthCheckOptions = {
    protocol,
    path: pathValue,
    expectedStatuses: parseStatuses(o, path),
    hostHeader: readString(o, 'hostHeader', path),
    scheme: readEnum(o, 'scheme', path, ['http', 'https'] as const, d.scheme),
    tls: readTlsOptions(o.tls, join(path, 'tls')),
    service,
    intervalMs: readNumber(o, 'intervalMs', path, { min: 1, max: DAY_MS }, d.intervalMs),
    timeoutMs: readNumber(o, 'timeoutMs', path, { min: 1, max: 600_000 }, d.timeoutMs),
    unhealthyThreshold: readNumber(o, 'unhealthyThreshold', path, COUNT, d.unhealthyThreshold),
    healthyThreshold: readNumber(o, 'healthyThreshold', path, COUNT, d.healthyThreshold),
    intervalJitterMs: readNumber(o, 'intervalJitterMs', path, { min: 0, max: DAY_MS }, d.intervalJitterMs),
    intervalJitterPercent: readNumber(o, 'intervalJitterPercent', path, PERCENT, d.intervalJitterPercent),
    concurrency: readNumber(o, 'concurrency', path, { integer: true, min: 1, max: 10_000 }, d.concurrency),
    prober: readProber(o, path, protocol),
  };
  return Object.freeze(options);
}

function readTlsOptions(raw: unknown, field: string): Readonly<Record<string, unknown>> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError({ field, allowed: 'an object of node:tls connect options', received: raw });
  return Object.freeze({ ...(raw as Record<string, unknown>) });
}

function readProber(o: RawOptions, path: string, protocol: 'http' | 'grpc'): ProberFactory | undefined {
  const prober = o.prober;
  if (prober === undefined && protocol === 'grpc')
    throw new ConfigError({
      field: join(path, 'prober'),
      allowed: GRPC_PROBER_REQUIRED,
      received: undefined,
    });
  if (prober !== undefined && typeof prober !== 'function')
    throw new ConfigError({
      field: join(path, 'prober'),
      allowed: 'a function (options) => Prober',
      received: prober,
    });
  return prober as ProberFactory | undefined;
}

function parseStatuses(o: RawOptions, path: string): readonly number[] {
  const raw = o.expectedStatuses;
  if (raw === undefined) return defaultHealthCheckOptions.expectedStatuses;
  const field = join(path, 'expectedStatuses');
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ConfigError({ field, allowed: 'a non-empty array of HTTP statuses', received: raw });
  return Object.freeze(
    raw.map((s, i) => checkNumber(s, `${field}[${i}]`, { integer: true, min: 100, max: 599 })),
  );
}
