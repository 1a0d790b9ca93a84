/**
 * The JSON configuration of the `switchyard` grpc-js LB policy: what goes under the `switchyard` key of a
 * `loadBalancingConfig` entry in a gRPC service config.
 *
 * ```json
 * { "loadBalancingConfig": [{ "switchyard": {
 *     "policy": { "name": "least_request", "choiceCount": 2 },
 *     "balancer": { "name": "orders", "panicThreshold": 50 },
 *     "failureStatuses": ["UNAVAILABLE", "INTERNAL"],
 *     "hashHeader": "x-user-id"
 * } }] }
 * ```
 *
 * Keys are camelCase, like every other switchyard option, so a policy block copied from code works unchanged.
 * Validation is strict and eager: unknown keys, unknown policies and out-of-range values throw a {@link ConfigError}
 * naming the field. grpc-js silently falls back to `pick_first` when a config's `createFromJson` throws, so
 * {@link SwitchyardLbConfig.createFromJson} does not throw: it returns a config carrying the error, and the policy
 * built from it fails every call with that message (see lb-policy.ts) — a bad config is never silently ignored.
 */
import type { experimental } from '@grpc/grpc-js';
import { isBinaryHeader } from '../affinity/keys.js';
import { Balancer, type BalancerOptions, defaultBalancerOptions } from '../balancer/balancer.js';
import { CLUSTER_SETTINGS, clusterBalancerOptions } from '../balancer/cluster-settings.js';
import type { BalancerExtension } from '../balancer/extension.js';
import { parseBalancerOptions } from '../balancer/parse-options.js';
import { type PolicyConfig, parsePolicyConfig } from '../balancer/policy/registry.js';
import type { Resolver, ResolverClusterConfig } from '../balancer/resolver.js';
import { join, readNumber, readObject, readString } from '../config/validate.js';
import { ConfigError, isConfigError } from '../errors/config-error.js';
import type { HealthCheckConfig } from '../health/options.js';
import { Subset } from '../subsetting/subset.js';
import { grpcHealthProber } from './health-check.js';
import { type OrcaOptions, parseOrcaOptions } from './orca.js';
import { DEFAULT_FAILURE_STATUSES, parseStatusList, statusName } from './status.js';

/** The name the policy is registered under in grpc-js. */
export const LB_POLICY_NAME = 'switchyard';

/** The `switchyard` LB config as JSON (what users write). */
export interface SwitchyardLbJson {
  /** Any registered switchyard policy: a name or `{ name, ...options }`. Default `'p2c_robust_ewma'` (Balancer default). */
  readonly policy?: PolicyConfig;
  /**
   * Options passed to `new Balancer(...)` as they are — `name`, `panicThreshold`, `closeTimeoutMs` and whatever
   * health and resilience options the Balancer accepts (outlier detection, active health checks, slow start, …).
   * One adapter default differs from a bare Balancer's, the same as in the undici adapter: `outlierDetection` is on
   * (Envoy's defaults) unless set; `outlierDetection: false` turns it off.
   * The Balancer validates them. `endpoints`, `resolver`, `policy`, `clock`, `random` and `extensions` are not
   * allowed here: the policy supplies endpoints from grpc-js, and the rest are not JSON.
   */
  readonly balancer?: Readonly<Record<string, unknown>>;
  /**
   * gRPC status codes (numbers or names) that count as endpoint failures. Default `UNAVAILABLE`,
   * `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `INTERNAL`. Other codes are the application answering and count as
   * successes; `CANCELLED` is the caller giving up and only frees the in-flight slot.
   */
  readonly failureStatuses?: readonly (number | string)[];
  /**
   * Request metadata key whose value is the hash key for `ring_hash` / `multiprobe` / `maglev` (gRFC A76
   * `request_hash_header`). Lower-case gRPC metadata key, not a binary (`-bin`) one (gRFC A76 rejects those).
   * Several values are joined with `,`. A call without the header, or with an empty value, gets no hash key (the
   * hashing policy then picks at random) — the same rule as the undici adapter's `affinityKey` (affinity/keys.ts).
   * Default: none.
   */
  readonly hashHeader?: string;
  /**
   * How long a pick may wait for its call to start before its in-flight slot is given back, in ms, from 100 to
   * 600,000. Default 5,000. grpc-js may abandon a pick without telling the policy (the subchannel left READY while
   * call credentials were generated, or the deadline expired then); the slot is held until the call starts so that
   * bursts of picks see each other's load, and swept after this long so an abandoned pick cannot leak.
   */
  readonly unstartedPickTimeoutMs?: number;
  /**
   * Weight endpoints from ORCA per-call load reports (gRFC A51/A58): `true` for the A58 defaults, or
   * `{ weightUpdatePeriodMs, blackoutPeriodMs, expirationPeriodMs, errorUtilizationPenalty }` (orca.ts). The weights
   * replace the resolver's; use with a weight-aware policy such as `weighted_round_robin`. Default off.
   */
  readonly orca?: boolean | Partial<OrcaOptions>;
  /**
   * A control plane's cluster settings (`policy`, `panicThreshold`, `overprovisioningFactor`, `outlierDetection`,
   * `circuitBreaker`, `slowStart`, in the resolver's shapes), written here by the switchyard resolver schemes
   * (resolver-schemes.ts). The policy hands them to its Balancer as a resolver update would, so a change applies in
   * place — latency estimates, ejections and in-flight counts survive it. Default none.
   */
  readonly cluster?: ResolverClusterConfig;
  /**
   * How long, in ms, what the Balancer learned about each endpoint (latency estimates, outlier ejections with their
   * remaining time, multipliers and counters, slow-start progress, lifetime counts) is kept after grpc-js destroys
   * the policy — when the channel goes idle (`grpc.client_idle_timeout_ms`) or is closed, which the policy cannot tell
   * apart — for the channel's next policy instance to take back (src/grpc/retained-state.ts). 0 to 86,400,000; 0
   * keeps nothing. Default 600,000 (10 minutes): twice Envoy's longest default ejection (300 s), and far past the
   * estimators' time constants (1–10 s), so whatever still means something when a channel idles is there when it
   * wakes; a closed channel's copy is freed after it. No timers or connections are kept, only copies of numbers.
   */
  readonly stateRetentionMs?: number;
}

/** Defaults of {@link SwitchyardLbJson}. */
export const defaultGrpcLbOptions = {
  policy: defaultBalancerOptions.policy,
  failureStatuses: DEFAULT_FAILURE_STATUSES,
  unstartedPickTimeoutMs: 5_000,
  stateRetentionMs: 600_000,
} as const;

const KEYS = [
  'policy',
  'balancer',
  'failureStatuses',
  'hashHeader',
  'unstartedPickTimeoutMs',
  'orca',
  'cluster',
  'stateRetentionMs',
];
/** The cluster settings a control plane may send that this policy applies (each also a Balancer option). */
export const CLUSTER_KEYS = [
  'policy',
  'panicThreshold',
  'overprovisioningFactor',
  ...CLUSTER_SETTINGS,
] as const;
/** Balancer options the policy owns itself, or that cannot travel in JSON. */
const RESERVED_BALANCER_KEYS = ['endpoints', 'resolver', 'policy', 'clock', 'random', 'extensions'];
/** gRPC metadata keys: lower-case letters, digits, `-`, `_`, `.` (HTTP/2 header field names as gRPC allows them). */
const METADATA_KEY = /^[0-9a-z_.-]+$/;

/** The validated form of {@link SwitchyardLbJson}. */
export interface GrpcLbOptions {
  readonly policy: PolicyConfig;
  readonly balancer: Readonly<Record<string, unknown>>;
  readonly failureStatuses: readonly number[];
  readonly hashHeader: string | undefined;
  readonly unstartedPickTimeoutMs: number;
  readonly orca: OrcaOptions | undefined;
  readonly cluster: ResolverClusterConfig | undefined;
  readonly stateRetentionMs: number;
}

/**
 * Validates a `switchyard` LB config. Throws {@link ConfigError} naming the field (e.g. `policy.choiceCount`,
 * `balancer.panicThreshold`, `failureStatuses[1]`).
 */
export function parseGrpcLbOptions(raw: unknown): GrpcLbOptions {
  const obj = readObject(raw ?? {}, '', KEYS);
  const cluster = readCluster(obj.cluster);
  // The cluster settings as the Balancer will apply them must be valid too: check the config they make.
  if (cluster !== undefined) parseGrpcLbOptions(withClusterApplied(obj, cluster));
  const policy = (obj.policy ?? defaultGrpcLbOptions.policy) as PolicyConfig;
  parsePolicyConfig(policy, 'policy');
  const balancerOptions = readBalancerOptions(obj.balancer);
  const failureStatuses =
    obj.failureStatuses === undefined
      ? defaultGrpcLbOptions.failureStatuses
      : parseStatusList(obj.failureStatuses, 'failureStatuses');
  const hashHeader = readString(obj, 'hashHeader', '');
  if (hashHeader !== undefined && (!METADATA_KEY.test(hashHeader) || hashHeader.startsWith('grpc-'))) {
    throw new ConfigError({
      field: 'hashHeader',
      allowed: 'a lower-case gRPC metadata key ([0-9a-z_.-], not starting with "grpc-")',
      received: hashHeader,
    });
  }
  if (hashHeader !== undefined && isBinaryHeader(hashHeader)) {
    throw new ConfigError({
      field: 'hashHeader',
      allowed: 'a non-binary metadata key (not ending in -bin, gRFC A76)',
      received: hashHeader,
    });
  }
  const unstartedPickTimeoutMs = readNumber(
    obj,
    'unstartedPickTimeoutMs',
    '',
    { min: 100, max: 600_000 },
    defaultGrpcLbOptions.unstartedPickTimeoutMs,
  );
  const stateRetentionMs = readNumber(
    obj,
    'stateRetentionMs',
    '',
    { min: 0, max: 86_400_000 },
    defaultGrpcLbOptions.stateRetentionMs,
  );
  const options: GrpcLbOptions = {
    policy,
    balancer: balancerOptions,
    failureStatuses,
    hashHeader,
    unstartedPickTimeoutMs,
    orca: parseOrcaOptions(obj.orca, 'orca'),
    cluster,
    stateRetentionMs,
  };
  // The policy applies `subset` itself, before subchannels exist (lb-policy.ts): validate it here.
  if (balancerOptions.subset !== undefined) void new Subset(balancerOptions.subset, 'balancer.subset');
  // The Balancer's own validation (including options added by health/resilience modules), as a pure function, so
  // this file does not re-declare them.
  try {
    parseBalancerOptions(balancerOptionsOf(options));
  } catch (error) {
    if (!isConfigError(error) || error.field.startsWith('policy')) throw error;
    throw new ConfigError({
      field: join('balancer', error.field),
      allowed: error.allowed,
      received: error.received,
    });
  }
  return options;
}

/**
 * The config `raw` (without `cluster`) with the cluster settings written over its own, as the Balancer applies them:
 * the control plane's policy, panic threshold and overprovisioning factor, and its outlier detection, circuit
 * breaker and slow start mapped onto the Balancer's shapes (balancer/cluster-settings.ts).
 */
export function withClusterApplied(
  raw: Readonly<Record<string, unknown>>,
  cluster: ResolverClusterConfig,
): Record<string, unknown> {
  const { cluster: _applied, ...rest } = raw;
  const own = (rest.balancer ?? {}) as Record<string, unknown>;
  const balancer = {
    ...own,
    ...(cluster.panicThreshold === undefined ? {} : { panicThreshold: cluster.panicThreshold }),
    ...(cluster.overprovisioningFactor === undefined
      ? {}
      : { overprovisioningFactor: cluster.overprovisioningFactor }),
    ...clusterBalancerOptions(cluster, own),
  };
  return {
    ...rest,
    ...(cluster.policy === undefined ? {} : { policy: cluster.policy }),
    ...(Object.keys(balancer).length === 0 ? {} : { balancer }),
  };
}

function readCluster(raw: unknown): ResolverClusterConfig | undefined {
  if (raw === undefined) return undefined;
  const obj = readObject(raw, 'cluster', CLUSTER_KEYS);
  return obj as ResolverClusterConfig;
}

/**
 * Builds the Balancer a policy instance owns. With `feed`, the policy hands it endpoints and cluster settings as a
 * resolver would (so cluster settings apply in place); without, it starts over no endpoints. A `healthCheck` with
 * `protocol: "grpc"` gets {@link grpcHealthProber}: service-config JSON cannot carry a function, and this entry loads
 * grpc-js anyway. `extensions` are the policy's own (state-keeper.ts), after the health ones.
 */
export function createBalancer(
  options: GrpcLbOptions,
  feed?: Resolver,
  extensions?: readonly BalancerExtension[],
): Balancer {
  const { endpoints: _none, ...rest } = balancerOptionsOf(options);
  const withExtensions = extensions === undefined ? rest : { ...rest, extensions };
  return new Balancer(
    feed === undefined ? { ...withExtensions, endpoints: [] } : { ...withExtensions, resolver: feed },
  );
}

/** The options `createBalancer` builds with; `parseGrpcLbOptions` validates exactly these. */
function balancerOptionsOf(options: GrpcLbOptions): BalancerOptions {
  // `subset` is the policy's: it decides which endpoints get subchannels, and the Balancer sees only those.
  const { subset: _policyApplies, ...balancer } = options.balancer;
  return {
    // On unless set, as in the undici adapter (docs/grpc.md): without it a server failing every call keeps its share.
    outlierDetection: true,
    ...balancer,
    ...withGrpcProber(options.balancer.healthCheck),
    policy: options.policy,
    endpoints: [],
  };
}

function withGrpcProber(healthCheck: unknown): { healthCheck?: HealthCheckConfig } {
  if (typeof healthCheck !== 'object' || healthCheck === null) return {};
  const check = healthCheck as Record<string, unknown>;
  if (check.protocol !== 'grpc' || check.prober !== undefined) return {};
  return { healthCheck: { ...(check as HealthCheckConfig & object), prober: grpcHealthProber } };
}

function readBalancerOptions(raw: unknown): Readonly<Record<string, unknown>> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError({ field: 'balancer', allowed: 'an object of Balancer options', received: raw });
  for (const key of RESERVED_BALANCER_KEYS) {
    if (key in raw) {
      throw new ConfigError({
        field: join('balancer', key),
        allowed:
          key === 'policy'
            ? 'absent: give the policy as the top-level "policy" key'
            : 'absent: the grpc-js policy supplies endpoints, and clocks, random sources and extensions are not JSON',
        received: (raw as Record<string, unknown>)[key],
      });
    }
  }
  return raw as Readonly<Record<string, unknown>>;
}

/**
 * The grpc-js `TypedLoadBalancingConfig` of the `switchyard` policy. Holds either validated options or the
 * {@link ConfigError} that the raw config failed with.
 */
export class SwitchyardLbConfig implements experimental.TypedLoadBalancingConfig {
  readonly options: GrpcLbOptions | undefined;
  readonly error: ConfigError | undefined;
  readonly #raw: unknown;

  constructor(options: GrpcLbOptions | undefined, error?: ConfigError, raw?: unknown) {
    this.options = options;
    this.error = error;
    this.#raw = raw;
  }

  getLoadBalancerName(): string {
    return LB_POLICY_NAME;
  }

  /** The config back as service-config JSON (status codes by name, defaults filled in). */
  toJsonObject(): object {
    const o = this.options;
    if (o === undefined) return { [LB_POLICY_NAME]: this.#raw ?? {} };
    return {
      [LB_POLICY_NAME]: {
        policy: o.policy,
        balancer: o.balancer,
        failureStatuses: o.failureStatuses.map(statusName),
        ...(o.hashHeader === undefined ? {} : { hashHeader: o.hashHeader }),
        unstartedPickTimeoutMs: o.unstartedPickTimeoutMs,
        stateRetentionMs: o.stateRetentionMs,
        ...(o.orca === undefined ? {} : { orca: o.orca }),
        ...(o.cluster === undefined ? {} : { cluster: o.cluster }),
      },
    };
  }

  /**
   * Called by grpc-js with the value under the `switchyard` key. Never throws for an invalid config (grpc-js would
   * silently skip to the next entry or to `pick_first`): the error is kept and surfaced by the policy, and a
   * process warning is emitted once per distinct message.
   */
  static createFromJson(obj: unknown): SwitchyardLbConfig {
    // grpc-js parses the service config again on every resolver update; the same JSON gives the same config.
    const json = JSON.stringify(obj);
    if (json === lastParsed.json && lastParsed.config !== undefined) return lastParsed.config;
    let config: SwitchyardLbConfig;
    try {
      config = new SwitchyardLbConfig(parseGrpcLbOptions(obj), undefined, obj);
    } catch (error) {
      if (!isConfigError(error)) throw error;
      warnOnce(error);
      config = new SwitchyardLbConfig(undefined, error, obj);
    }
    lastParsed = { json, config };
    return config;
  }

  /** True when both configs would build the same Balancer (so a policy update can keep its state). */
  sameBalancer(other: SwitchyardLbConfig): boolean {
    return JSON.stringify(this.options?.balancer) === JSON.stringify(other.options?.balancer);
  }
}

let lastParsed: { json: string | undefined; config: SwitchyardLbConfig | undefined } = {
  json: undefined,
  config: undefined,
};
const warned = new Set<string>();

function warnOnce(error: ConfigError): void {
  if (warned.has(error.message)) return;
  warned.add(error.message);
  process.emitWarning(`switchyard grpc-js LB config rejected: ${error.message}`, {
    code: ConfigError.code,
    detail: 'Every call on channels using this config fails with UNAVAILABLE until the config is fixed.',
  });
}
