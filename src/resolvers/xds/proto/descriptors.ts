/**
 * The xDS-lite proto subset, written by hand as protobufjs JSON descriptors.
 *
 * Only the messages and fields switchyard reads or writes, with envoy's exact package names, message names, field
 * names and field numbers (checked against envoy-api v3 as vendored by @grpc/grpc-js-xds 1.14). Everything else in
 * a message is an unknown field to us and is skipped on decode, which is how protobuf stays compatible: a full
 * envoy `Cluster` decodes fine against this subset. Presence-only messages (e.g. `ConfigSource.ads`, LEDS configs)
 * are declared with no fields so we can tell that they were set.
 *
 * Kept as a TS module (not `.proto` files) so the build needs no file copying and no proto parser at runtime.
 * The test control plane encodes with the *full* envoy protos, which is what proves wire compatibility.
 */

/** protobufjs JSON descriptor of one field. */
interface FieldJson {
  readonly type: string;
  readonly id: number;
  readonly rule?: 'repeated';
  readonly keyType?: string;
}
/** protobufjs JSON descriptor of a message (fields plus nested messages/enums). */
interface TypeJson {
  readonly fields: Readonly<Record<string, FieldJson>>;
  readonly oneofs?: Readonly<Record<string, { readonly oneof: readonly string[] }>>;
  readonly nested?: Readonly<Record<string, TypeJson | EnumJson>>;
}
interface EnumJson {
  readonly values: Readonly<Record<string, number>>;
}
type NamespaceJson = { nested: Record<string, NamespaceJson | TypeJson | EnumJson> };

const f = (id: number, type: string): FieldJson => ({ id, type });
const rep = (id: number, type: string): FieldJson => ({ id, type, rule: 'repeated' });
const EMPTY: TypeJson = { fields: {} };

/** Messages by package. Nested messages sit in `nested` of their parent, as in the .proto files. */
const PACKAGES: Readonly<Record<string, Readonly<Record<string, TypeJson | EnumJson>>>> = {
  'google.protobuf': {
    Any: { fields: { type_url: f(1, 'string'), value: f(2, 'bytes') } },
    Duration: { fields: { seconds: f(1, 'int64'), nanos: f(2, 'int32') } },
    UInt32Value: { fields: { value: f(1, 'uint32') } },
    UInt64Value: { fields: { value: f(1, 'uint64') } },
    BoolValue: { fields: { value: f(1, 'bool') } },
    Struct: { fields: { fields: { id: 1, type: 'Value', keyType: 'string' } } },
    Value: {
      fields: {
        null_value: f(1, 'NullValue'),
        number_value: f(2, 'double'),
        string_value: f(3, 'string'),
        bool_value: f(4, 'bool'),
        struct_value: f(5, 'Struct'),
        list_value: f(6, 'ListValue'),
      },
      oneofs: {
        kind: {
          oneof: ['null_value', 'number_value', 'string_value', 'bool_value', 'struct_value', 'list_value'],
        },
      },
    },
    ListValue: { fields: { values: rep(1, 'Value') } },
    NullValue: { values: { NULL_VALUE: 0 } },
  },
  'google.rpc': {
    Status: { fields: { code: f(1, 'int32'), message: f(2, 'string') } },
  },
  'envoy.type.v3': {
    Percent: { fields: { value: f(1, 'double') } },
  },
  'envoy.config.core.v3': {
    Locality: { fields: { region: f(1, 'string'), zone: f(2, 'string'), sub_zone: f(3, 'string') } },
    Node: {
      fields: {
        id: f(1, 'string'),
        cluster: f(2, 'string'),
        metadata: f(3, 'google.protobuf.Struct'),
        locality: f(4, 'Locality'),
        user_agent_name: f(6, 'string'),
        user_agent_version: f(7, 'string'),
        client_features: rep(10, 'string'),
      },
      oneofs: { user_agent_version_type: { oneof: ['user_agent_version'] } },
    },
    ControlPlane: { fields: { identifier: f(1, 'string') } },
    RuntimeDouble: { fields: { default_value: f(1, 'double'), runtime_key: f(2, 'string') } },
    HealthStatus: {
      values: { UNKNOWN: 0, HEALTHY: 1, UNHEALTHY: 2, DRAINING: 3, TIMEOUT: 4, DEGRADED: 5 },
    },
    RoutingPriority: { values: { DEFAULT: 0, HIGH: 1 } },
    SocketAddress: {
      fields: {
        protocol: f(1, 'Protocol'),
        address: f(2, 'string'),
        port_value: f(3, 'uint32'),
        named_port: f(4, 'string'),
        resolver_name: f(5, 'string'),
        ipv4_compat: f(6, 'bool'),
      },
      oneofs: { port_specifier: { oneof: ['port_value', 'named_port'] } },
      nested: { Protocol: { values: { TCP: 0, UDP: 1 } } },
    },
    Pipe: { fields: { path: f(1, 'string') } },
    EnvoyInternalAddress: EMPTY,
    Address: {
      fields: {
        socket_address: f(1, 'SocketAddress'),
        pipe: f(2, 'Pipe'),
        envoy_internal_address: f(3, 'EnvoyInternalAddress'),
      },
    },
    AggregatedConfigSource: EMPTY,
    SelfConfigSource: EMPTY,
    ApiConfigSource: EMPTY,
    PathConfigSource: EMPTY,
    ConfigSource: {
      fields: {
        path: f(1, 'string'),
        api_config_source: f(2, 'ApiConfigSource'),
        ads: f(3, 'AggregatedConfigSource'),
        self: f(5, 'SelfConfigSource'),
        path_config_source: f(8, 'PathConfigSource'),
      },
    },
    TypedExtensionConfig: { fields: { name: f(1, 'string'), typed_config: f(2, 'google.protobuf.Any') } },
  },
  'envoy.config.cluster.v3': {
    Cluster: {
      fields: {
        name: f(1, 'string'),
        type: f(2, 'DiscoveryType'),
        eds_cluster_config: f(3, 'EdsClusterConfig'),
        lb_policy: f(6, 'LbPolicy'),
        circuit_breakers: f(10, 'CircuitBreakers'),
        outlier_detection: f(19, 'OutlierDetection'),
        ring_hash_lb_config: f(23, 'RingHashLbConfig'),
        common_lb_config: f(27, 'CommonLbConfig'),
        least_request_lb_config: f(37, 'LeastRequestLbConfig'),
        cluster_type: f(38, 'CustomClusterType'),
        load_balancing_policy: f(41, 'LoadBalancingPolicy'),
        maglev_lb_config: f(52, 'MaglevLbConfig'),
        round_robin_lb_config: f(56, 'RoundRobinLbConfig'),
      },
      oneofs: { cluster_discovery_type: { oneof: ['type', 'cluster_type'] } },
      nested: {
        DiscoveryType: { values: { STATIC: 0, STRICT_DNS: 1, LOGICAL_DNS: 2, EDS: 3, ORIGINAL_DST: 4 } },
        LbPolicy: {
          values: {
            ROUND_ROBIN: 0,
            LEAST_REQUEST: 1,
            RING_HASH: 2,
            RANDOM: 3,
            MAGLEV: 5,
            CLUSTER_PROVIDED: 6,
            LOAD_BALANCING_POLICY_CONFIG: 7,
          },
        },
        CustomClusterType: {
          fields: { name: f(1, 'string'), typed_config: f(2, 'google.protobuf.Any') },
        },
        EdsClusterConfig: {
          fields: { eds_config: f(1, 'envoy.config.core.v3.ConfigSource'), service_name: f(2, 'string') },
        },
        SlowStartConfig: {
          fields: {
            slow_start_window: f(1, 'google.protobuf.Duration'),
            aggression: f(2, 'envoy.config.core.v3.RuntimeDouble'),
            min_weight_percent: f(3, 'envoy.type.v3.Percent'),
          },
        },
        RoundRobinLbConfig: { fields: { slow_start_config: f(1, 'SlowStartConfig') } },
        LeastRequestLbConfig: {
          fields: {
            choice_count: f(1, 'google.protobuf.UInt32Value'),
            active_request_bias: f(2, 'envoy.config.core.v3.RuntimeDouble'),
            slow_start_config: f(3, 'SlowStartConfig'),
          },
        },
        RingHashLbConfig: {
          fields: {
            minimum_ring_size: f(1, 'google.protobuf.UInt64Value'),
            hash_function: f(3, 'HashFunction'),
            maximum_ring_size: f(4, 'google.protobuf.UInt64Value'),
          },
          nested: { HashFunction: { values: { XX_HASH: 0, MURMUR_HASH_2: 1 } } },
        },
        MaglevLbConfig: { fields: { table_size: f(1, 'google.protobuf.UInt64Value') } },
        CommonLbConfig: {
          fields: {
            healthy_panic_threshold: f(1, 'envoy.type.v3.Percent'),
            locality_weighted_lb_config: f(3, 'LocalityWeightedLbConfig'),
          },
          nested: { LocalityWeightedLbConfig: EMPTY },
        },
      },
    },
    CircuitBreakers: {
      fields: { thresholds: rep(1, 'Thresholds'), per_host_thresholds: rep(2, 'Thresholds') },
      nested: {
        Thresholds: {
          fields: {
            priority: f(1, 'envoy.config.core.v3.RoutingPriority'),
            max_connections: f(2, 'google.protobuf.UInt32Value'),
            max_pending_requests: f(3, 'google.protobuf.UInt32Value'),
            max_requests: f(4, 'google.protobuf.UInt32Value'),
            max_retries: f(5, 'google.protobuf.UInt32Value'),
            retry_budget: f(8, 'RetryBudget'),
          },
          nested: {
            RetryBudget: {
              fields: {
                budget_percent: f(1, 'envoy.type.v3.Percent'),
                min_retry_concurrency: f(2, 'google.protobuf.UInt32Value'),
              },
            },
          },
        },
      },
    },
    OutlierDetection: {
      fields: {
        consecutive_5xx: f(1, 'google.protobuf.UInt32Value'),
        interval: f(2, 'google.protobuf.Duration'),
        base_ejection_time: f(3, 'google.protobuf.Duration'),
        max_ejection_percent: f(4, 'google.protobuf.UInt32Value'),
        enforcing_consecutive_5xx: f(5, 'google.protobuf.UInt32Value'),
        enforcing_success_rate: f(6, 'google.protobuf.UInt32Value'),
        success_rate_minimum_hosts: f(7, 'google.protobuf.UInt32Value'),
        success_rate_request_volume: f(8, 'google.protobuf.UInt32Value'),
        success_rate_stdev_factor: f(9, 'google.protobuf.UInt32Value'),
        consecutive_gateway_failure: f(10, 'google.protobuf.UInt32Value'),
        enforcing_consecutive_gateway_failure: f(11, 'google.protobuf.UInt32Value'),
        split_external_local_origin_errors: f(12, 'bool'),
        consecutive_local_origin_failure: f(13, 'google.protobuf.UInt32Value'),
        enforcing_consecutive_local_origin_failure: f(14, 'google.protobuf.UInt32Value'),
        enforcing_local_origin_success_rate: f(15, 'google.protobuf.UInt32Value'),
        failure_percentage_threshold: f(16, 'google.protobuf.UInt32Value'),
        enforcing_failure_percentage: f(17, 'google.protobuf.UInt32Value'),
        enforcing_failure_percentage_local_origin: f(18, 'google.protobuf.UInt32Value'),
        failure_percentage_minimum_hosts: f(19, 'google.protobuf.UInt32Value'),
        failure_percentage_request_volume: f(20, 'google.protobuf.UInt32Value'),
        max_ejection_time: f(21, 'google.protobuf.Duration'),
        max_ejection_time_jitter: f(22, 'google.protobuf.Duration'),
      },
    },
    LoadBalancingPolicy: {
      fields: { policies: rep(1, 'Policy') },
      nested: {
        Policy: { fields: { typed_extension_config: f(4, 'envoy.config.core.v3.TypedExtensionConfig') } },
      },
    },
  },
  'envoy.config.endpoint.v3': {
    ClusterLoadAssignment: {
      fields: {
        cluster_name: f(1, 'string'),
        endpoints: rep(2, 'LocalityLbEndpoints'),
        policy: f(4, 'Policy'),
      },
      nested: {
        Policy: {
          fields: {
            drop_overloads: rep(2, 'DropOverload'),
            overprovisioning_factor: f(3, 'google.protobuf.UInt32Value'),
          },
          nested: { DropOverload: { fields: { category: f(1, 'string') } } },
        },
      },
    },
    LocalityLbEndpoints: {
      fields: {
        locality: f(1, 'envoy.config.core.v3.Locality'),
        lb_endpoints: rep(2, 'LbEndpoint'),
        load_balancing_weight: f(3, 'google.protobuf.UInt32Value'),
        priority: f(5, 'uint32'),
        load_balancer_endpoints: f(7, 'LbEndpointList'),
        leds_cluster_locality_config: f(8, 'LedsClusterLocalityConfig'),
      },
      nested: { LbEndpointList: EMPTY, LedsClusterLocalityConfig: EMPTY },
    },
    LbEndpoint: {
      fields: {
        endpoint: f(1, 'Endpoint'),
        health_status: f(2, 'envoy.config.core.v3.HealthStatus'),
        load_balancing_weight: f(4, 'google.protobuf.UInt32Value'),
        endpoint_name: f(5, 'string'),
      },
    },
    Endpoint: {
      fields: { address: f(1, 'envoy.config.core.v3.Address'), hostname: f(3, 'string') },
    },
  },
  'envoy.config.listener.v3': {
    Listener: { fields: { name: f(1, 'string'), api_listener: f(19, 'ApiListener') } },
    ApiListener: { fields: { api_listener: f(1, 'google.protobuf.Any') } },
  },
  'envoy.extensions.filters.network.http_connection_manager.v3': {
    HttpConnectionManager: {
      fields: {
        rds: f(3, 'Rds'),
        route_config: f(4, 'envoy.config.route.v3.RouteConfiguration'),
        scoped_routes: f(31, 'ScopedRoutes'),
      },
    },
    Rds: {
      fields: {
        config_source: f(1, 'envoy.config.core.v3.ConfigSource'),
        route_config_name: f(2, 'string'),
      },
    },
    ScopedRoutes: EMPTY,
  },
  'envoy.config.route.v3': {
    RouteConfiguration: { fields: { name: f(1, 'string'), virtual_hosts: rep(2, 'VirtualHost') } },
    VirtualHost: { fields: { name: f(1, 'string'), domains: rep(2, 'string'), routes: rep(3, 'Route') } },
    Route: {
      fields: {
        match: f(1, 'RouteMatch'),
        route: f(2, 'RouteAction'),
        redirect: f(3, 'Presence'),
        direct_response: f(7, 'Presence'),
        name: f(14, 'string'),
      },
    },
    Presence: EMPTY,
    RouteMatch: {
      fields: {
        prefix: f(1, 'string'),
        path: f(2, 'string'),
        headers: rep(6, 'Presence'),
        query_parameters: rep(7, 'Presence'),
        safe_regex: f(10, 'Presence'),
        path_separated_prefix: f(14, 'string'),
      },
    },
    RouteAction: {
      fields: {
        cluster: f(1, 'string'),
        cluster_header: f(2, 'string'),
        weighted_clusters: f(3, 'Presence'),
        hash_policy: rep(15, 'HashPolicy'),
        cluster_specifier_plugin: f(37, 'string'),
      },
      nested: {
        HashPolicy: {
          fields: {
            header: f(1, 'Header'),
            cookie: f(2, 'envoy.config.route.v3.Presence'),
            connection_properties: f(3, 'envoy.config.route.v3.Presence'),
            terminal: f(4, 'bool'),
            query_parameter: f(5, 'envoy.config.route.v3.Presence'),
            filter_state: f(6, 'FilterState'),
          },
          nested: {
            Header: {
              fields: {
                header_name: f(1, 'string'),
                regex_rewrite: f(2, 'envoy.config.route.v3.Presence'),
              },
            },
            FilterState: { fields: { key: f(1, 'string') } },
          },
        },
      },
    },
  },
  'envoy.service.discovery.v3': {
    DiscoveryRequest: {
      fields: {
        version_info: f(1, 'string'),
        node: f(2, 'envoy.config.core.v3.Node'),
        resource_names: rep(3, 'string'),
        type_url: f(4, 'string'),
        response_nonce: f(5, 'string'),
        error_detail: f(6, 'google.rpc.Status'),
      },
    },
    DiscoveryResponse: {
      fields: {
        version_info: f(1, 'string'),
        resources: rep(2, 'google.protobuf.Any'),
        canary: f(3, 'bool'),
        type_url: f(4, 'string'),
        nonce: f(5, 'string'),
        control_plane: f(6, 'envoy.config.core.v3.ControlPlane'),
      },
    },
  },
};

/** The whole subset as one protobufjs JSON namespace (`Root.fromJSON(xdsLiteDescriptor)`). */
export const xdsLiteDescriptor: NamespaceJson = buildNamespace();

function buildNamespace(): NamespaceJson {
  const root: NamespaceJson = { nested: {} };
  for (const [pkg, types] of Object.entries(PACKAGES)) {
    let ns = root;
    for (const part of pkg.split('.')) {
      const next = (ns.nested[part] ??= { nested: {} }) as NamespaceJson;
      ns = next;
    }
    Object.assign(ns.nested, types);
  }
  return root;
}
