/**
 * gRPC health probe: the real `grpc.health.v1.Health/Check` RPC over @grpc/grpc-js.
 *
 * It lives in `switchyard-lb/grpc`, not in the core: the core entry must never load @grpc/grpc-js (an optional
 * peer dependency), not even through a dynamic import, which bundlers follow. Users opt in by passing
 * `healthCheck: { protocol: 'grpc', prober: grpcHealthProber }`. The two messages of the health protocol are tiny, so they are encoded and decoded here by hand
 * (protobuf wire format) instead of loading a .proto file at run time:
 *
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2;
 *                                                      SERVICE_UNKNOWN = 3; } ServingStatus status = 1; }
 *
 * Healthy only on SERVING. Any RPC error (UNAVAILABLE for a refused connection, UNIMPLEMENTED for a server without
 * the health service, CANCELLED when our timeout fires) is unhealthy. One client (channel) per endpoint, kept
 * between probes and closed when the endpoint goes away.
 */
import * as grpc from '@grpc/grpc-js';
import type { Endpoint } from '../endpoint.js';
import type { HealthCheckOptions, ProberFactory } from '../health/active/options.js';
import { type ProbeResult, type Prober, TIMEOUT_DETAIL } from '../health/active/prober.js';

export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';

/** `ServingStatus` names by value. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/** Encodes `HealthCheckRequest { service }`: field 1, wire type 2 (length-delimited). */
export function encodeHealthCheckRequest(service: string): Buffer {
  const body = Buffer.from(service, 'utf8');
  if (body.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(body.length), body]);
}

/** Decodes `HealthCheckResponse.status` (0 when absent, the proto3 default), skipping unknown fields. */
export function decodeHealthCheckResponse(bytes: Buffer): number {
  let status = 0;
  let i = 0;
  while (i < bytes.length) {
    const [key, afterKey] = readVarint(bytes, i);
    const field = key >>> 3;
    const wire = key & 7;
    i = afterKey;
    if (wire === 0) {
      const [value, next] = readVarint(bytes, i);
      if (field === 1) status = value;
      i = next;
    } else if (wire === 2) {
      const [length, next] = readVarint(bytes, i);
      i = next + length;
    } else if (wire === 5) {
      i += 4;
    } else if (wire === 1) {
      i += 8;
    } else {
      throw new Error(`HealthCheckResponse: unsupported wire type ${wire}`);
    }
  }
  if (i > bytes.length) throw new Error('HealthCheckResponse: truncated message');
  return status;
}

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return Buffer.from(out);
}

function readVarint(bytes: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = start;
  for (;;) {
    if (i >= bytes.length) throw new Error('HealthCheckResponse: truncated varint');
    const b = bytes[i++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
    if (shift > 63) throw new Error('HealthCheckResponse: varint too long');
  }
}

/** Probes `grpc.health.v1.Health/Check` for `options.service`; one kept channel per endpoint. */
export class GrpcProber implements Prober {
  readonly #request: Buffer;
  readonly #clients = new Map<string, grpc.Client>();
  #closed = false;

  constructor(options: HealthCheckOptions) {
    this.#request = encodeHealthCheckRequest(options.service);
  }

  async probe(endpoint: Endpoint, signal: AbortSignal): Promise<ProbeResult> {
    if (this.#closed || signal.aborted)
      return { healthy: false, detail: signal.aborted ? TIMEOUT_DETAIL : 'closed' };
    const client = this.#client(endpoint);
    return new Promise<ProbeResult>((resolve) => {
      const call = client.makeUnaryRequest(
        HEALTH_CHECK_METHOD,
        (request: Buffer) => request,
        (response: Buffer) => decodeHealthCheckResponse(response),
        this.#request,
        new grpc.Metadata(),
        {},
        (error: grpc.ServiceError | null, status?: number) => {
          signal.removeEventListener('abort', onAbort);
          if (error !== null) {
            const name = grpc.status[error.code] ?? String(error.code);
            resolve({ healthy: false, detail: signal.aborted ? TIMEOUT_DETAIL : name });
            return;
          }
          const s = status ?? 0;
          resolve({ healthy: s === 1, detail: SERVING_STATUS[s] ?? `status ${s}` });
        },
      );
      const onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #client(endpoint: Endpoint): grpc.Client {
    let client = this.#clients.get(endpoint.address);
    if (client === undefined) {
      client = new grpc.Client(endpoint.address, grpc.credentials.createInsecure(), {
        // A probe must see this endpoint's answer now, not a retried or queued one.
        'grpc.enable_retries': 0,
      });
      this.#clients.set(endpoint.address, client);
    }
    return client;
  }

  forget(endpoint: Endpoint): void {
    this.#clients.get(endpoint.address)?.close();
    this.#clients.delete(endpoint.address);
  }

  close(): void {
    this.#closed = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}

/**
 * The `healthCheck.prober` for `protocol: 'grpc'`:
 * `new Balancer({ …, healthCheck: { protocol: 'grpc', service: 'app.Orders', prober: grpcHealthProber } })`.
 * Balancers built by the grpc-js LB policy (service config JSON cannot carry a function) get it automatically.
 */
export const grpcHealthProber: ProberFactory = (options) => new GrpcProber(options);
