/**
 * CDS/EDS decoding, validation and mapping, on bytes produced by the full envoy protos (wire compatibility of
 * the hand-written subset) — one rule per test, with its boundary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getPolicyDefinition } from '../../src/balancer/policy/registry.js';
import { isXdsResourceError, type XdsResourceError } from '../../src/errors/xds-resource-error.js';
import { decodeCluster } from '../../src/resolvers/xds/cds.js';
import { decodeAssignment } from '../../src/resolvers/xds/eds.js';
import { encodeDiscoveryRequest } from '../../src/resolvers/xds/proto/codec.js';
import { envoyProtos, TYPE } from '../helpers/xds-control-plane.js';
import { assignmentBytes, clusterBytes, edsCluster } from '../helpers/xds-encode.js';

beforeAll(() => {
  envoyProtos();
});

/** The error a decode throws (fails the test when it does not throw one). */
function rejection(fn: () => unknown): XdsResourceError {
  try {
    fn();
  } catch (error) {
    if (isXdsResourceError(error)) return error;
    throw error;
  }
  throw new Error('expected an XdsResourceError, got a result');
}

const ep = (address: string, port: number, extra: object = {}) => ({
  endpoint: { address: { socket_address: { address, port_value: port } } },
  ...extra,
});

describe('CDS', () => {
  it('maps an EDS cluster with every supported setting', () => {
    const cluster = decodeCluster(
      clusterBytes(
        edsCluster({
          lb_policy: 'LEAST_REQUEST',
          least_request_lb_config: {
            choice_count: { value: 4 },
            active_request_bias: { default_value: 0.5 },
            slow_start_config: {
              slow_start_window: { seconds: 30 },
              aggression: { default_value: 2 },
              min_weight_percent: { value: 10 },
            },
          },
          common_lb_config: { healthy_panic_threshold: { value: 0 }, locality_weighted_lb_config: {} },
          outlier_detection: {
            consecutive_5xx: { value: 5 },
            consecutive_gateway_failure: { value: 3 },
            consecutive_local_origin_failure: { value: 4 },
            interval: { seconds: 10 },
            base_ejection_time: { seconds: 30 },
            max_ejection_time: { seconds: 300 },
            max_ejection_percent: { value: 10 },
            success_rate_stdev_factor: { value: 1900 },
            success_rate_minimum_hosts: { value: 5 },
            success_rate_request_volume: { value: 100 },
            enforcing_success_rate: { value: 100 },
            failure_percentage_threshold: { value: 85 },
            enforcing_failure_percentage: { value: 0 },
            split_external_local_origin_errors: true,
          },
          circuit_breakers: {
            thresholds: [
              { priority: 'HIGH', max_requests: { value: 9 } },
              {
                max_connections: { value: 1000 },
                max_pending_requests: { value: 50 },
                max_requests: { value: 200 },
                max_retries: { value: 3 },
                retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: { value: 3 } },
              },
            ],
          },
        }),
      ),
    );
    expect(cluster).toEqual({
      name: 'c',
      edsServiceName: 'e',
      config: {
        policy: { name: 'least_request', choiceCount: 4, activeRequestBias: 0.5 },
        panicThreshold: 0,
        localityWeighted: true,
        slowStart: { windowMs: 30_000, aggression: 2, minWeightPercent: 10 },
        outlierDetection: {
          consecutive5xx: 5,
          consecutiveGatewayFailure: 3,
          consecutiveLocalOriginFailure: 4,
          intervalMs: 10_000,
          baseEjectionTimeMs: 30_000,
          maxEjectionTimeMs: 300_000,
          maxEjectionPercent: 10,
          successRateStdevFactor: 1.9,
          successRateMinimumHosts: 5,
          successRateRequestVolume: 100,
          enforcingSuccessRate: 100,
          failurePercentageThreshold: 85,
          enforcingFailurePercentage: 0,
          splitExternalLocalOriginErrors: true,
        },
        circuitBreaker: {
          maxConnections: 1000,
          maxPendingRequests: 50,
          maxRequests: 200,
          maxRetries: 3,
          retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 },
        },
      },
    });
  });

  it('defaults: ROUND_ROBIN, EDS name = cluster name, nothing else set', () => {
    const cluster = decodeCluster(
      clusterBytes({ name: 'orders', type: 'EDS', eds_cluster_config: { eds_config: { self: {} } } }),
    );
    expect(cluster).toEqual({ name: 'orders', edsServiceName: 'orders', config: { policy: 'round_robin' } });
  });

  it('skips every field outside the subset (a full envoy Cluster decodes)', () => {
    const cluster = decodeCluster(
      clusterBytes(
        edsCluster({
          connect_timeout: { seconds: 1 },
          per_connection_buffer_limit_bytes: { value: 32_768 },
          health_checks: [
            { timeout: { seconds: 1 }, interval: { seconds: 5 }, http_health_check: { path: '/healthz' } },
          ],
          dns_lookup_family: 'V4_ONLY',
          metadata: { filter_metadata: { team: { fields: { owner: { string_value: 'core' } } } } },
          upstream_connection_options: { tcp_keepalive: { keepalive_time: { value: 30 } } },
          transport_socket_matches: [{ name: 'm', match: {} }],
          lb_policy: 'RANDOM',
        }),
      ),
    );
    expect(cluster).toEqual({ name: 'c', edsServiceName: 'e', config: { policy: 'random' } });
  });

  it('maps RANDOM, and the typed load_balancing_policy over lb_policy', () => {
    expect(decodeCluster(clusterBytes(edsCluster({ lb_policy: 'RANDOM' }))).config.policy).toBe('random');
    const typed = decodeCluster(
      clusterBytes(
        edsCluster({
          lb_policy: 'RANDOM',
          load_balancing_policy: {
            policies: [
              {
                typed_extension_config: {
                  name: 'x',
                  typed_config: { '@type': 'type.googleapis.com/unknown.Policy' },
                },
              },
              {
                typed_extension_config: {
                  name: 'rr',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin',
                  },
                },
              },
            ],
          },
        }),
      ),
    );
    expect(typed.config.policy).toBe('round_robin');
  });

  it('maps RING_HASH and MAGLEV by name to the built-in ring_hash and maglev policies', () => {
    // Both are built in (src/pickers/builtin.ts): the mapping must produce them, never NACK or degrade.
    expect(getPolicyDefinition('ring_hash')).toBeDefined();
    expect(getPolicyDefinition('maglev')).toBeDefined();
    const ring = decodeCluster(
      clusterBytes(
        edsCluster({
          lb_policy: 'RING_HASH',
          ring_hash_lb_config: { minimum_ring_size: { value: 2048 }, maximum_ring_size: { value: 4096 } },
        }),
      ),
    );
    expect(ring.config.policy).toEqual({ name: 'ring_hash', minRingSize: 2048, maxRingSize: 4096 });
    const maglev = decodeCluster(
      clusterBytes(edsCluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 65537 } } })),
    );
    expect(maglev.config.policy).toEqual({ name: 'maglev', tableSize: 65537 });
    // ring_hash is A42's XXH64 ring: MURMUR_HASH_2 would silently map keys unlike Envoy's clients, so it is NACKed.
    const murmur = () =>
      decodeCluster(
        clusterBytes(
          edsCluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'MURMUR_HASH_2' } }),
        ),
      );
    expect(rejection(murmur).detail).toMatch(/ring_hash_lb_config.hash_function: must be XX_HASH/);
    const xx = decodeCluster(
      clusterBytes(edsCluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'XX_HASH' } })),
    );
    expect(xx.config.policy).toEqual({ name: 'ring_hash' });
  });

  it.each([
    ['a non-EDS type', { type: 'LOGICAL_DNS' }, 'type: must be EDS'],
    [
      'a custom cluster type',
      { type: undefined, cluster_type: { name: 'envoy.clusters.aggregate' } },
      'custom cluster type "envoy.clusters.aggregate"',
    ],
    [
      'a non-ADS EDS source',
      { eds_cluster_config: { eds_config: { path: '/etc/eds.yaml' } } },
      'switchyard speaks ADS only',
    ],
    ['a missing EDS source', { eds_cluster_config: {} }, 'eds_cluster_config.eds_config: must be set'],
    ['an unknown lb_policy value', { lb_policy: 42 }, 'lb_policy: unsupported value 42'],
    ['CLUSTER_PROVIDED', { lb_policy: 'CLUSTER_PROVIDED' }, 'lb_policy: unsupported value CLUSTER_PROVIDED'],
    [
      'choice_count 1',
      { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: { value: 1 } } },
      'choice_count: must be >= 2, got 1',
    ],
    [
      'choice_count above the registry limit',
      { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: { value: 101 } } },
      'policy.choiceCount',
    ],
    [
      'a panic threshold above 100',
      { common_lb_config: { healthy_panic_threshold: { value: 100.5 } } },
      'healthy_panic_threshold: must be a percentage from 0 to 100, got 100.5',
    ],
    [
      'a negative panic threshold',
      { common_lb_config: { healthy_panic_threshold: { value: -1 } } },
      'got -1',
    ],
    [
      'max_ejection_percent 101',
      { outlier_detection: { max_ejection_percent: { value: 101 } } },
      'outlier_detection.max_ejection_percent',
    ],
    ['a zero interval', { outlier_detection: { interval: {} } }, 'outlier_detection.interval: must be > 0'],
    [
      'a negative duration',
      { outlier_detection: { base_ejection_time: { seconds: -1 } } },
      'must be a non-negative duration',
    ],
    [
      'nanos out of range',
      { outlier_detection: { max_ejection_time: { seconds: 1, nanos: 1_000_000_000 } } },
      'outlier_detection.max_ejection_time',
    ],
    [
      'DEFAULT thresholds twice',
      { circuit_breakers: { thresholds: [{}, { priority: 'DEFAULT' }] } },
      'DEFAULT thresholds given twice',
    ],
    [
      'an unknown threshold priority',
      { circuit_breakers: { thresholds: [{ priority: 5 }] } },
      'priority: unsupported value 5',
    ],
    [
      'an unknown typed policy',
      { load_balancing_policy: { policies: [] } },
      'load_balancing_policy: no supported policy',
    ],
    ['an empty name', { name: '' }, 'name: must be a non-empty string'],
  ])('NACKs %s', (_what, extra, message) => {
    const error = rejection(() => decodeCluster(clusterBytes(edsCluster(extra))));
    expect(error.problem).toBe('invalid');
    expect(error.typeUrl).toBe(TYPE.CDS);
    expect(error.detail).toContain(message);
  });

  it('reports every problem of a cluster at once', () => {
    const error = rejection(() =>
      decodeCluster(
        clusterBytes(
          edsCluster({
            type: 'STATIC',
            lb_policy: 77,
            common_lb_config: { healthy_panic_threshold: { value: 200 } },
          }),
        ),
      ),
    );
    expect(error.detail.split('; ')).toHaveLength(3);
    expect(error.message).toMatch(/^xds: invalid Cluster "c": type: must be EDS/);
  });
});

describe('EDS', () => {
  it('maps localities, priorities, weights, health and the overprovisioning factor', () => {
    const assignment = decodeAssignment(
      assignmentBytes({
        cluster_name: 'e',
        policy: { overprovisioning_factor: { value: 200 } },
        endpoints: [
          {
            locality: { region: 'eu', zone: 'eu-1a', sub_zone: 'rack1' },
            load_balancing_weight: { value: 3 },
            lb_endpoints: [
              ep('10.0.0.1', 80, { load_balancing_weight: { value: 7 }, health_status: 'HEALTHY' }),
              ep('10.0.0.2', 80, { health_status: 'TIMEOUT' }),
              {
                ...ep('::1', 8080, { health_status: 'DEGRADED' }),
                endpoint: { ...ep('::1', 8080).endpoint, hostname: 'v6.local' },
              },
            ],
          },
          {
            priority: 1,
            lb_endpoints: [
              ep('10.0.1.1', 81, { health_status: 'DRAINING' }),
              ep('10.0.1.2', 81, { health_status: 'UNKNOWN' }),
            ],
          },
        ],
      }),
    );
    expect(assignment.clusterName).toBe('e');
    expect(assignment.overprovisioningFactor).toBe(2);
    expect(assignment.localities).toBe(2);
    const locality = { region: 'eu', zone: 'eu-1a', subZone: 'rack1' };
    expect(assignment.endpoints).toEqual([
      {
        host: '10.0.0.1',
        port: 80,
        weight: 7,
        health: 'healthy',
        locality,
        priority: 0,
        metadata: { localityWeight: '3' },
      },
      {
        host: '10.0.0.2',
        port: 80,
        weight: 1,
        health: 'unhealthy',
        locality,
        priority: 0,
        metadata: { localityWeight: '3' },
      },
      {
        host: '::1',
        port: 8080,
        weight: 1,
        health: 'degraded',
        locality,
        priority: 0,
        metadata: { localityWeight: '3', hostname: 'v6.local' },
      },
      { host: '10.0.1.1', port: 81, weight: 1, health: 'draining', locality: {}, priority: 1, metadata: {} },
      { host: '10.0.1.2', port: 81, weight: 1, health: 'unknown', locality: {}, priority: 1, metadata: {} },
    ]);
  });

  it('accepts an empty assignment: a valid answer that says "no endpoints"', () => {
    expect(decodeAssignment(assignmentBytes({ cluster_name: 'e' }))).toMatchObject({
      endpoints: [],
      localities: 0,
    });
  });

  it.each([
    [
      'a zero endpoint weight',
      [{ lb_endpoints: [ep('10.0.0.1', 80, { load_balancing_weight: { value: 0 } })] }],
      'load_balancing_weight: must be from 1 to 1000000, got 0',
    ],
    [
      'a "negative" endpoint weight (uint32 wraps)',
      [{ lb_endpoints: [ep('10.0.0.1', 80, { load_balancing_weight: { value: -1 } })] }],
      'got 4294967295',
    ],
    [
      "a weight above switchyard's cap",
      [{ lb_endpoints: [ep('10.0.0.1', 80, { load_balancing_weight: { value: 1_000_001 } })] }],
      'got 1000001',
    ],
    [
      'a zero locality weight',
      [{ load_balancing_weight: { value: 0 }, lb_endpoints: [ep('10.0.0.1', 80)] }],
      'endpoints[0].load_balancing_weight: must be >= 1',
    ],
    [
      'an unknown health status',
      [{ lb_endpoints: [ep('10.0.0.1', 80, { health_status: 17 })] }],
      'health_status: unknown value 17',
    ],
    [
      'a hostname',
      [{ lb_endpoints: [ep('backend.local', 80)] }],
      'must be an IPv4 or IPv6 literal, got "backend.local"',
    ],
    ['port 0', [{ lb_endpoints: [ep('10.0.0.1', 0)] }], 'port_value: must be from 1 to 65535, got 0'],
    ['port 65536', [{ lb_endpoints: [ep('10.0.0.1', 65536)] }], 'got 65536'],
    [
      'UDP',
      [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: { socket_address: { protocol: 'UDP', address: '10.0.0.1', port_value: 53 } },
              },
            },
          ],
        },
      ],
      'protocol: must be TCP',
    ],
    [
      'a named port',
      [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '10.0.0.1', named_port: 'http' } } } },
          ],
        },
      ],
      'named_port: is not supported',
    ],
    [
      'a pipe',
      [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: '/tmp/s' } } } }] }],
      'pipe is not supported',
    ],
    ['a named endpoint', [{ lb_endpoints: [{ endpoint_name: 'x' }] }], 'named endpoints are not supported'],
    ['a missing endpoint', [{ lb_endpoints: [{}] }], 'lb_endpoints[0].endpoint: must be set'],
    [
      'a duplicate address across localities',
      [
        { locality: { zone: 'a' }, lb_endpoints: [ep('10.0.0.1', 80)] },
        { locality: { zone: 'b' }, lb_endpoints: [ep('10.0.0.1', 80)] },
      ],
      '10.0.0.1:80 duplicates endpoints[0]',
    ],
    [
      'the same IPv6 address spelt twice',
      [{ lb_endpoints: [ep('::1', 80), ep('0:0:0:0:0:0:0:1', 80)] }],
      '[::1]:80 duplicates',
    ],
    [
      'a duplicate locality',
      [
        { locality: { zone: 'a' }, lb_endpoints: [] },
        { locality: { zone: 'a' }, lb_endpoints: [] },
      ],
      'duplicates another locality',
    ],
    [
      'a priority gap',
      [
        { priority: 0, lb_endpoints: [ep('10.0.0.1', 80)] },
        { priority: 2, locality: { zone: 'z' }, lb_endpoints: [ep('10.0.0.2', 80)] },
      ],
      'priority 2 is used but priority 1 is not',
    ],
    ['a priority above 127', [{ priority: 128, lb_endpoints: [] }], 'priority: must be at most 127'],
    ['LEDS', [{ leds_cluster_locality_config: { leds_collection_name: 'x' } }], 'LEDS'],
  ])('NACKs %s', (_what, endpoints, message) => {
    const error = rejection(() => decodeAssignment(assignmentBytes({ cluster_name: 'e', endpoints })));
    expect(error.problem).toBe('invalid');
    expect(error.resourceName).toBe('e');
    expect(error.detail).toContain(message);
  });

  it('names the first occurrence of a duplicate by its field path', () => {
    const error = rejection(() =>
      decodeAssignment(
        assignmentBytes({
          cluster_name: 'e',
          endpoints: [
            { locality: { zone: 'a' }, lb_endpoints: [ep('10.0.0.1', 80)] },
            {
              locality: { zone: 'b' },
              lb_endpoints: [ep('10.0.0.9', 0), ep('10.0.0.1', 80), ep('10.0.0.2', 80)],
            },
            { locality: { zone: 'c' }, lb_endpoints: [ep('10.0.0.2', 80)] },
          ],
        }),
      ),
    );
    expect(error.detail.split('; ')).toEqual([
      'endpoints[1].lb_endpoints[0].endpoint.address.socket_address.port_value: must be from 1 to 65535, got 0',
      'endpoints[1].lb_endpoints[1].endpoint.address.socket_address: 10.0.0.1:80 duplicates endpoints[0].lb_endpoints[0]',
      'endpoints[2].lb_endpoints[0].endpoint.address.socket_address: 10.0.0.2:80 duplicates endpoints[1].lb_endpoints[2]',
    ]);
  });

  it('NACKs drop_overloads, a zero overprovisioning factor and a missing name', () => {
    expect(
      rejection(() =>
        decodeAssignment(
          assignmentBytes({ cluster_name: 'e', policy: { drop_overloads: [{ category: 'lb' }] } }),
        ),
      ).detail,
    ).toContain('policy.drop_overloads');
    expect(
      rejection(() =>
        decodeAssignment(assignmentBytes({ cluster_name: 'e', policy: { overprovisioning_factor: {} } })),
      ).detail,
    ).toContain('overprovisioning_factor: must be > 0');
    expect(rejection(() => decodeAssignment(assignmentBytes({}))).detail).toContain(
      'cluster_name: must be a non-empty string',
    );
  });

  it('calls malformed bytes malformed', () => {
    const error = rejection(() => decodeAssignment(Uint8Array.from([0x12, 0x05, 0x0a])));
    expect(error.problem).toBe('malformed');
    expect(error.message).toMatch(/^xds: malformed ClusterLoadAssignment: cannot decode 3 bytes/);
  });
});

describe('DiscoveryRequest encoding', () => {
  it('is readable by the full envoy protos, node metadata Struct included', () => {
    const bytes = encodeDiscoveryRequest({
      version_info: '7',
      resource_names: ['a', 'b'],
      type_url: TYPE.EDS,
      response_nonce: 'n1',
      error_detail: { code: 3, message: 'bad' },
      node: {
        id: 'me',
        cluster: 'c',
        locality: { region: 'r', zone: 'z', sub_zone: 's' },
        metadata: { team: 'core', shards: [1, 2], canary: true, nested: { x: null } },
        user_agent_name: 'switchyard',
        user_agent_version: '0.1.0',
        client_features: [],
      },
    });
    const method = envoyProtos().ads.service.StreamAggregatedResources!;
    const decoded = method.requestDeserialize(bytes);
    expect(decoded).toMatchObject({
      version_info: '7',
      resource_names: ['a', 'b'],
      type_url: TYPE.EDS,
      response_nonce: 'n1',
      error_detail: { code: 3, message: 'bad' },
      node: {
        id: 'me',
        cluster: 'c',
        locality: { region: 'r', zone: 'z', sub_zone: 's' },
        user_agent_name: 'switchyard',
        user_agent_version: '0.1.0',
      },
    });
    // protobufjs's bundled struct.proto names Value's fields in camelCase; on the wire only numbers count.
    expect(decoded.node.metadata.fields.team).toMatchObject({ stringValue: 'core' });
    expect(decoded.node.metadata.fields.canary).toMatchObject({ boolValue: true });
    expect(
      decoded.node.metadata.fields.shards.listValue.values.map((v: { numberValue: number }) => v.numberValue),
    ).toEqual([1, 2]);
    expect(decoded.node.metadata.fields.nested.structValue.fields.x).toMatchObject({
      nullValue: 'NULL_VALUE',
    });
  });
});
