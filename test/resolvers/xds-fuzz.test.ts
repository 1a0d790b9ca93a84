/**
 * Bad input, fuzzed (seeded fast-check): resource decoding and validation never crash, never hand the Balancer a
 * set it would refuse, and never turn garbage into an endpoint set — the answer is a NACK-able typed error.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { parseEndpoints } from '../../src/endpoint.js';
import { isXdsResourceError } from '../../src/errors/xds-resource-error.js';
import { decodeCluster } from '../../src/resolvers/xds/cds.js';
import { decodeAssignment } from '../../src/resolvers/xds/eds.js';
import { XdsResolver } from '../../src/resolvers/xds/xds-resolver.js';
import { checkAsyncProperty, checkProperty } from '../helpers/properties.js';
import { type ControlPlane, envoyProtos, startControlPlane, TYPE } from '../helpers/xds-control-plane.js';
import { assignmentBytes, clusterBytes, edsCluster } from '../helpers/xds-encode.js';
import { localBootstrap, until } from '../helpers/xds-fixtures.js';

beforeAll(() => {
  envoyProtos();
});

/** Runs a decoder; returns 'rejected' for a typed error and rethrows anything else (a crash). */
function outcome<T>(decode: () => T): T | 'rejected' {
  try {
    return decode();
  } catch (error) {
    if (isXdsResourceError(error)) return 'rejected';
    throw error;
  }
}

describe('raw bytes', () => {
  it('random bytes: a typed error or a resource the Balancer accepts, never a crash', () => {
    let rejected = 0;
    checkProperty(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const assignment = outcome(() => decodeAssignment(bytes));
        if (assignment === 'rejected') rejected++;
        else expect(() => parseEndpoints(assignment.endpoints, 'endpoints')).not.toThrow();
        if (outcome(() => decodeCluster(bytes)) === 'rejected') rejected++;
      }),
      { seed: 42, numRuns: 3_000 },
    );
    expect(rejected).toBeGreaterThan(3_000); // most garbage is rejected (both decoders ran 3,000 times each)
  });

  it('mutated valid encodings (overwrites, truncation, insertion): typed error or a Balancer-valid set', () => {
    const valid = assignmentBytes({
      cluster_name: 'e',
      endpoints: [
        {
          locality: { zone: 'a' },
          load_balancing_weight: { value: 2 },
          lb_endpoints: [1, 2, 3, 4, 5].map((i) => ({
            endpoint: { address: { socket_address: { address: `10.0.0.${i}`, port_value: 8000 + i } } },
            load_balancing_weight: { value: i },
            health_status: 'HEALTHY',
          })),
        },
      ],
    });
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
    );
    const seen = { rejected: 0, accepted: 0 };
    checkProperty(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let bytes = Uint8Array.from(valid);
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === 'set' && bytes.length > 0) bytes[at % bytes.length] = m.byte;
          else if (m.kind === 'cut') bytes = bytes.slice(0, at);
          else if (m.kind === 'insert')
            bytes = Uint8Array.from([...bytes.slice(0, at), ...m.bytes, ...bytes.slice(at)]);
        }
        const assignment = outcome(() => decodeAssignment(bytes));
        if (assignment === 'rejected') {
          seen.rejected++;
          return;
        }
        seen.accepted++;
        expect(() => parseEndpoints(assignment.endpoints, 'endpoints')).not.toThrow();
      }),
      { seed: 42, numRuns: 2_000 },
    );
    // Protobuf cannot tell a message cut at a field boundary from a shorter valid one, so some mutants decode;
    // gRPC's length-prefixed framing is what keeps truncation off the wire.
    expect(seen.rejected).toBeGreaterThan(0);
    expect(seen.accepted).toBeGreaterThan(0);
  });

  it('an oversized assignment (20,000 endpoints) decodes and validates', () => {
    const lb_endpoints = Array.from({ length: 20_000 }, (_, i) => ({
      endpoint: {
        address: {
          socket_address: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port_value: 80 },
        },
      },
    }));
    const assignment = decodeAssignment(
      assignmentBytes({ cluster_name: 'big', endpoints: [{ lb_endpoints }] }),
    );
    expect(assignment.endpoints).toHaveLength(20_000);
  });
});

// ---- structured EDS inputs with a known verdict ---------------------------------------------------------------

type Fault =
  | 'hostname'
  | 'emptyHost'
  | 'port0'
  | 'portHigh'
  | 'weight0'
  | 'weightNeg'
  | 'weightHigh'
  | 'health'
  | null;

interface EndpointSpec {
  readonly v6: boolean;
  readonly port: number;
  readonly weight: number | undefined;
  readonly health: string;
  readonly fault: Fault;
}

const HEALTH_MAP: Record<string, string> = {
  UNKNOWN: 'unknown',
  HEALTHY: 'healthy',
  UNHEALTHY: 'unhealthy',
  DRAINING: 'draining',
  TIMEOUT: 'unhealthy',
  DEGRADED: 'degraded',
};

const endpointSpec: fc.Arbitrary<EndpointSpec> = fc.record({
  v6: fc.boolean(),
  port: fc.integer({ min: 1, max: 65_535 }),
  weight: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
  health: fc.constantFrom(...Object.keys(HEALTH_MAP)),
  // Mostly clean endpoints, so that whole valid assignments are common too.
  fault: fc.oneof(
    { weight: 12, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Fault>(
        'hostname',
        'emptyHost',
        'port0',
        'portHigh',
        'weight0',
        'weightNeg',
        'weightHigh',
        'health',
      ),
    },
  ),
});

const groupSpec = fc.record({
  localityWeight: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: undefined, freq: 3 }),
  endpoints: fc.array(endpointSpec, { maxLength: 6 }),
});

function build(
  groups: readonly { localityWeight: number | undefined; endpoints: readonly EndpointSpec[] }[],
  duplicate: boolean,
  gap: boolean,
) {
  let n = 0;
  const expected: object[] = [];
  // A priority gap is always a fault; a duplicated locality only when it has endpoints to duplicate.
  let invalid = gap;
  const endpoints = groups.map((g, gi) => {
    if (g.localityWeight === 0) invalid = true;
    const metadata = g.localityWeight === undefined ? {} : { localityWeight: String(g.localityWeight) };
    return {
      locality: { zone: `z${gi}` },
      ...(g.localityWeight === undefined ? {} : { load_balancing_weight: { value: g.localityWeight } }),
      priority: 0,
      lb_endpoints: g.endpoints.map((e) => {
        n++;
        let host = e.v6 ? `fd00::${n.toString(16)}` : `10.0.${n >> 8}.${n & 255}`;
        let port = e.port;
        let weight: number | undefined = e.weight;
        let health: string | number = e.health;
        if (e.fault !== null) invalid = true;
        if (e.fault === 'hostname') host = `backend-${n}.internal`;
        if (e.fault === 'emptyHost') host = '';
        if (e.fault === 'port0') port = 0;
        if (e.fault === 'portHigh') port = 65_536 + n;
        if (e.fault === 'weight0') weight = 0;
        if (e.fault === 'weightNeg') weight = -n; // uint32 on the wire: wraps to ~4.29e9
        if (e.fault === 'weightHigh') weight = 1_000_001 + n;
        if (e.fault === 'health') health = 6 + n; // not a HealthStatus value
        expected.push({
          host,
          port,
          weight: weight ?? 1,
          health: HEALTH_MAP[e.health],
          locality: { zone: `z${gi}` },
          priority: 0,
          metadata,
        });
        return {
          endpoint: { address: { socket_address: { address: host, port_value: port } } },
          health_status: health,
          ...(weight === undefined ? {} : { load_balancing_weight: { value: weight } }),
        };
      }),
    };
  });
  if (duplicate && n > 0) {
    endpoints.push({ ...endpoints.find((g) => g.lb_endpoints.length > 0)!, locality: { zone: 'dup' } });
    invalid = true;
  }
  if (gap) endpoints.push({ locality: { zone: 'gap' }, priority: 2, lb_endpoints: [] } as never);
  return { cla: { cluster_name: 'e', endpoints }, expected, invalid };
}

describe('structured EDS', () => {
  it('accepts exactly the clean assignments, with every endpoint mapped; rejects any fault whole', () => {
    const verdicts = { accepted: 0, rejected: 0 };
    checkProperty(
      fc.property(
        fc.array(groupSpec, { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (groups, duplicate, gap) => {
          const { cla, expected, invalid } = build(groups, duplicate, gap);
          const result = outcome(() => decodeAssignment(assignmentBytes(cla)));
          if (invalid) {
            // Never a smaller (or empty) set with the bad entries dropped: the whole assignment is refused.
            expect(result).toBe('rejected');
            verdicts.rejected++;
          } else {
            expect(result).not.toBe('rejected');
            expect((result as { endpoints: unknown }).endpoints).toEqual(expected);
            verdicts.accepted++;
          }
        },
      ),
      { seed: 42, numRuns: 400 },
    );
    expect(verdicts.accepted).toBeGreaterThan(50);
    expect(verdicts.rejected).toBeGreaterThan(50);
  });
});

describe('structured CDS', () => {
  it('random settings: a typed error, or a config with a registered policy and in-range numbers', () => {
    const cluster = fc.record({
      type: fc.constantFrom('EDS', 'EDS', 'EDS', 'STATIC', 'STRICT_DNS', 9),
      lb_policy: fc.constantFrom(
        'ROUND_ROBIN',
        'LEAST_REQUEST',
        'RANDOM',
        'RING_HASH',
        'MAGLEV',
        'CLUSTER_PROVIDED',
        4,
        99,
      ),
      least_request_lb_config: fc.record({
        choice_count: fc.record({ value: fc.integer({ min: 0, max: 200 }) }),
      }),
      common_lb_config: fc.record({
        healthy_panic_threshold: fc.record({ value: fc.double({ min: -50, max: 150, noNaN: true }) }),
      }),
      outlier_detection: fc.record({
        max_ejection_percent: fc.record({ value: fc.integer({ min: 0, max: 300 }) }),
        interval: fc.record({
          seconds: fc.integer({ min: -5, max: 100 }),
          nanos: fc.integer({ min: -10, max: 1_000_000_010 }),
        }),
      }),
    });
    checkProperty(
      fc.property(cluster, (c) => {
        const result = outcome(() => decodeCluster(clusterBytes(edsCluster(c))));
        if (result === 'rejected') return;
        expect(c.type).toBe('EDS');
        const { panicThreshold, outlierDetection } = result.config as {
          panicThreshold: number;
          outlierDetection: { maxEjectionPercent: number; intervalMs: number };
        };
        expect(panicThreshold).toBeGreaterThanOrEqual(0);
        expect(panicThreshold).toBeLessThanOrEqual(100);
        expect(outlierDetection.maxEjectionPercent).toBeLessThanOrEqual(100);
        expect(outlierDetection.intervalMs).toBeGreaterThan(0);
        // Whatever policy came out, a Balancer takes it.
        const balancer = new Balancer({ endpoints: ['10.0.0.1:80'], policy: result.config.policy! });
        void balancer.close();
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('garbage over a real ADS stream', () => {
  let cp: ControlPlane;
  let balancer: Balancer;
  const original = ['127.0.0.1:8001', '127.0.0.1:8002'];

  beforeAll(async () => {
    cp = await startControlPlane({ endpoints: [{ port: 8001 }, { port: 8002 }] });
    balancer = new Balancer({
      resolver: new XdsResolver({ cluster: 'svc-cluster', bootstrap: localBootstrap(cp.port) }),
      policy: 'round_robin',
    });
    await until(() => balancer.stats().endpoints.length === 2, 'the first update');
  }, 10_000);

  afterAll(async () => {
    await balancer?.close();
    cp?.forceClose();
  });

  it('every garbage EDS push is answered (ACK or NACK) and the endpoint set stays', {
    timeout: 30_000,
  }, async () => {
    await checkAsyncProperty(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
        const before = cp.events.length;
        cp.update(TYPE.EDS, { 'svc-eds': { type_url: TYPE.EDS, value: Buffer.from(bytes) } });
        await cp.waitFor((events) =>
          events.slice(before).some((e) => (e.kind === 'ACK' || e.kind === 'NACK') && e.type === TYPE.EDS),
        );
        expect(
          balancer
            .stats()
            .endpoints.map((e) => e.address)
            .sort(),
        ).toEqual(original);
      }),
      { seed: 42, numRuns: 40 },
    );
    expect(cp.events.some((e) => e.kind === 'NACK')).toBe(true);
  });
});
