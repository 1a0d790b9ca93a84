/**
 * The gRPC probe (`grpc.health.v1.Health/Check`) against real @grpc/grpc-js servers on 127.0.0.1.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { parseEndpoint } from '../../src/endpoint.js';
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  GrpcProber,
  grpcHealthProber,
  HEALTH_CHECK_METHOD,
} from '../../src/grpc/health-check.js';
import { parseHealthCheck } from '../../src/health/options.js';
import { seededRandom } from '../../src/random.js';

/** Decodes HealthCheckRequest.service (the server side of our hand encoding). */
function decodeService(bytes: Buffer): string {
  if (bytes.length === 0) return '';
  expect(bytes[0]).toBe(0x0a);
  return bytes.subarray(2, 2 + bytes[1]!).toString('utf8');
}

const healthService: grpc.ServiceDefinition = {
  Check: {
    path: HEALTH_CHECK_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (status: number) => (status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status])),
    responseDeserialize: (b: Buffer) => b,
  },
};

const unusedService: grpc.ServiceDefinition = {
  Echo: { ...healthService.Check!, path: '/test.Echo/Echo' },
};

async function serve(
  service: grpc.ServiceDefinition,
  impl: grpc.UntypedServiceImplementation,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(service, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { server, port };
}

/** Serving status per service name; unknown names answer SERVICE_UNKNOWN (3). */
const statuses = new Map<string, number>([
  ['', 1],
  ['app.Orders', 1],
  ['app.Billing', 2],
]);
let main: { server: grpc.Server; port: number };
let hanging: { server: grpc.Server; port: number };
let noHealth: { server: grpc.Server; port: number };
let hangingCalls = 0;
let refusedPort = 0;

beforeAll(async () => {
  main = await serve(healthService, {
    Check: (call: grpc.ServerUnaryCall<Buffer, number>, callback: grpc.sendUnaryData<number>) => {
      callback(null, statuses.get(decodeService(call.request)) ?? 3);
    },
  });
  hanging = await serve(healthService, {
    Check: () => {
      hangingCalls++;
    },
  });
  noHealth = await serve(unusedService, { Echo: () => {} });
  const closed = await serve(healthService, { Check: () => {} });
  refusedPort = closed.port;
  closed.server.forceShutdown();
});

afterAll(() => {
  for (const s of [main, hanging, noHealth]) s.server.forceShutdown();
});

const endpoint = (port: number) => parseEndpoint(`127.0.0.1:${port}`, 'e');
const probe = async (port: number, service = '', signal = new AbortController().signal) => {
  const prober = new GrpcProber(
    parseHealthCheck({ protocol: 'grpc', service, prober: grpcHealthProber }, 'healthCheck')!,
  );
  try {
    return await prober.probe(endpoint(port), signal);
  } finally {
    prober.close();
  }
};

describe('health protocol encoding', () => {
  it('encodes HealthCheckRequest.service and decodes HealthCheckResponse.status', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeHealthCheckRequest('a.B')).toEqual(Buffer.from([0x0a, 3, 0x61, 0x2e, 0x42]));
    expect(encodeHealthCheckRequest('x'.repeat(200)).subarray(0, 3)).toEqual(Buffer.from([0x0a, 0xc8, 0x01]));
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(0);
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 1]))).toBe(1);
    // Unknown fields (a string field 2) are skipped.
    expect(decodeHealthCheckResponse(Buffer.from([0x12, 2, 0x61, 0x62, 0x08, 2]))).toBe(2);
    expect(() => decodeHealthCheckResponse(Buffer.from([0x08]))).toThrow(/truncated/);
  });
});

describe('GrpcProber against real grpc-js servers', () => {
  it('SERVING passes (whole server and a named service)', async () => {
    expect(await probe(main.port)).toEqual({ healthy: true, detail: 'SERVING' });
    expect(await probe(main.port, 'app.Orders')).toEqual({ healthy: true, detail: 'SERVING' });
  });

  it('NOT_SERVING and SERVICE_UNKNOWN fail', async () => {
    expect(await probe(main.port, 'app.Billing')).toEqual({ healthy: false, detail: 'NOT_SERVING' });
    expect(await probe(main.port, 'app.Missing')).toEqual({ healthy: false, detail: 'SERVICE_UNKNOWN' });
  });

  it('a server without the health service fails with UNIMPLEMENTED', async () => {
    expect(await probe(noHealth.port)).toEqual({ healthy: false, detail: 'UNIMPLEMENTED' });
  });

  it('refusing: UNAVAILABLE', async () => {
    expect(await probe(refusedPort)).toEqual({ healthy: false, detail: 'UNAVAILABLE' });
  });

  it('hanging: the abort signal cancels the call → "timeout"', async () => {
    const controller = new AbortController();
    const before = hangingCalls;
    const pending = probe(hanging.port, '', controller.signal);
    for (let i = 0; i < 500 && hangingCalls === before; i++) await new Promise((r) => setTimeout(r, 5));
    expect(hangingCalls).toBeGreaterThan(before);
    controller.abort();
    expect(await pending).toEqual({ healthy: false, detail: 'timeout' });
  });
});

describe('healthCheck { protocol: "grpc" } in the Balancer', () => {
  it('routes to SERVING endpoints only, and follows a status change', async () => {
    const clock = new ManualClock();
    const b = new Balancer({
      endpoints: [`127.0.0.1:${main.port}`, `127.0.0.1:${noHealth.port}`],
      policy: 'round_robin',
      clock,
      random: seededRandom(1),
      panicThreshold: 0,
      healthCheck: {
        protocol: 'grpc',
        service: 'app.Orders',
        unhealthyThreshold: 1,
        prober: grpcHealthProber,
      },
    });
    await b.health.healthChecker!.checkAll();
    expect(b.stats().endpoints.map((e) => e.condition)).toEqual(['routable', 'unhealthy']);
    statuses.set('app.Orders', 2);
    await b.health.healthChecker!.checkAll();
    expect(b.stats().routable).toBe(0);
    expect(b.pick()).toBeUndefined();
    statuses.set('app.Orders', 1);
    await b.health.healthChecker!.checkAll();
    expect(b.stats().routable).toBe(1);
    await b.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
