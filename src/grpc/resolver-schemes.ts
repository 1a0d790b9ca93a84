/**
 * switchyard resolvers as grpc-js resolver schemes.
 *
 * {@link registerResolverScheme} turns any switchyard {@link Resolver} factory into a grpc-js scheme, so
 * `new Client('switchyard-static:///orders', …)` gets its endpoints from switchyard. The wrapper keeps the contracts
 * of both sides:
 *
 * - grpc-js listener calls never happen synchronously inside the constructor or `updateResolution()` (pitfall 1):
 *   switchyard resolvers already answer asynchronously, and the wrapper defers once more with `process.nextTick`.
 * - `updateResolution()` starts the resolver the first time and asks it to `refresh()` after (grpc-js calls it when
 *   the policy requests re-resolution); the switchyard resolver rate-limits.
 * - `destroy()` closes the resolver. grpc-js destroys resolvers when a channel goes idle and may call
 *   `updateResolution()` again on the same object when it wakes (pitfall 9), so the wrapper keeps the factory and
 *   builds a fresh resolver then.
 * - A switchyard update is validated (`parseEndpoints`) before grpc-js sees it; an invalid one is dropped and the last
 *   good list stays, as everywhere in switchyard. Errors reach grpc-js only while there is no good list yet; after
 *   that the channel keeps its endpoints (the resolver contract: a failed refresh never empties the set).
 * - Endpoint attributes (weight, locality, priority, health, metadata) ride on the grpc-js endpoint objects
 *   (endpoints.ts), not as resolver attributes, so they do not split the subchannel pool (pitfall 7).
 * - Cluster settings a control plane sends — `policy`, `panicThreshold`, `overprovisioningFactor`, `outlierDetection`,
 *   `circuitBreaker`, `slowStart` (mapped onto the Balancer's shapes by balancer/cluster-settings.ts), what the
 *   Balancer itself takes from cluster settings — override those of the channel's `switchyard` config: the wrapper hands
 *   grpc-js a service config that is the channel's own with those settings under the entry's `cluster` key
 *   (validated first; an invalid one rejects the update), and the policy applies them to its Balancer in place. Without cluster settings it hands `null`, so the channel's config applies; a channel not
 *   configured with `switchyard` ignores them.
 */
import { type ChannelOptions, experimental, Metadata, status as Status } from '@grpc/grpc-js';
import type { Resolver, ResolverClusterConfig, ResolverUpdate } from '../balancer/resolver.js';
import { type Endpoint, type EndpointInput, parseEndpoints } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import { StaticResolver } from '../resolvers/static.js';
import { CLUSTER_KEYS, LB_POLICY_NAME, parseGrpcLbOptions } from './config.js';
import { toGrpcEndpoint } from './endpoints.js';

/** The parts of a grpc-js target a factory gets: `scheme://authority/path`. */
export interface ResolverTarget {
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
}

/**
 * Builds a switchyard resolver for one channel target. Called when the channel starts resolving and again after an
 * idle period. Throw {@link ConfigError} for a target it cannot serve: the channel then fails calls with that message.
 */
export type ResolverFactory = (target: ResolverTarget, options: ChannelOptions) => Resolver;

/**
 * Registers `scheme` with grpc-js, resolving through switchyard resolvers built by `factory`. grpc-js registries are
 * process-wide and the last registration of a scheme wins; registering a scheme twice here replaces the factory.
 */
export function registerResolverScheme(scheme: string, factory: ResolverFactory): void {
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) {
    throw new ConfigError({ field: 'scheme', allowed: 'a URI scheme ([a-z][a-z0-9+.-]*)', received: scheme });
  }
  class SchemeResolver extends GrpcResolverAdapter {
    constructor(
      target: experimental.GrpcUri,
      listener: experimental.ResolverListener,
      options: ChannelOptions,
    ) {
      super(target, listener, options, factory);
    }
    static getDefaultAuthority(target: experimental.GrpcUri): string {
      return defaultAuthority(target);
    }
  }
  experimental.registerResolver(scheme, SchemeResolver);
}

/** `:authority` for a target: the path's first `host[:port]` for lists, else the path (a service name). */
function defaultAuthority(target: experimental.GrpcUri): string {
  const first = target.path.split(',')[0] ?? '';
  return first === '' ? target.authority || 'localhost' : first;
}

/** One grpc-js resolver instance over a (re-creatable) switchyard resolver. */
class GrpcResolverAdapter implements experimental.Resolver {
  readonly #target: ResolverTarget;
  readonly #listener: experimental.ResolverListener;
  readonly #options: ChannelOptions;
  readonly #factory: ResolverFactory;
  #resolver: Resolver | undefined;
  #hasGood = false;
  #generation = 0;

  constructor(
    target: experimental.GrpcUri,
    listener: experimental.ResolverListener,
    options: ChannelOptions,
    factory: ResolverFactory,
  ) {
    this.#target = { scheme: target.scheme ?? '', authority: target.authority ?? '', path: target.path };
    this.#listener = listener;
    this.#options = options;
    this.#factory = factory;
  }

  updateResolution(): void {
    if (this.#resolver !== undefined) {
      this.#resolver.refresh();
      return;
    }
    const generation = ++this.#generation;
    let resolver: Resolver;
    try {
      resolver = this.#factory(this.#target, this.#options);
    } catch (error) {
      process.nextTick(() => this.#error(error as Error, generation));
      return;
    }
    this.#resolver = resolver;
    resolver.start({
      onUpdate: (update) => process.nextTick(() => this.#update(update, generation)),
      onError: (error) => process.nextTick(() => this.#error(error, generation)),
    });
  }

  destroy(): void {
    this.#generation++;
    const resolver = this.#resolver;
    this.#resolver = undefined;
    this.#hasGood = false;
    void resolver?.close();
  }

  #update(update: ResolverUpdate, generation: number): void {
    if (generation !== this.#generation) return;
    let endpoints: Endpoint[];
    let serviceConfig: object | null;
    try {
      endpoints = parseEndpoints(update.endpoints, 'resolver.endpoints');
      serviceConfig = withClusterSettings(this.#options, update.cluster, update.hashHeader);
    } catch (error) {
      // Rejected whole; the last good list stays.
      this.#error(error as Error, generation);
      return;
    }
    this.#hasGood = true;
    this.#listener(
      experimental.statusOrFromValue(endpoints.map(toGrpcEndpoint)),
      {},
      serviceConfig === null ? null : experimental.statusOrFromValue(serviceConfig as never),
      update.note ?? `${this.#target.scheme}: ${endpoints.length} endpoints`,
    );
  }

  #error(error: Error, generation: number): void {
    if (generation !== this.#generation || this.#hasGood) return;
    this.#listener(
      experimental.statusOrFromError({
        code: Status.UNAVAILABLE,
        details: `${this.#target.scheme} resolver: ${error.message}`,
        metadata: new Metadata(),
      }),
      {},
      null,
      `${this.#target.scheme} resolver error`,
    );
  }
}

/**
 * The channel's service config with a control plane's cluster settings (policy, panic threshold, overprovisioning
 * factor, outlier detection, circuit breaker, slow start) and route hash header (`hashHeader`) written into every
 * `switchyard` entry, or `null` when there is nothing to override. Throws {@link ConfigError} when the result is
 * invalid.
 */
function withClusterSettings(
  options: ChannelOptions,
  clusterConfig: ResolverClusterConfig | undefined,
  hashHeader: string | undefined,
): object | null {
  const cluster = clusterConfig ?? {};
  if (hashHeader === undefined && !OVERRIDING_KEYS.some((key) => cluster[key] !== undefined)) return null;
  const raw = options['grpc.service_config'];
  if (typeof raw !== 'string') return null;
  const config = JSON.parse(raw) as { loadBalancingConfig?: unknown[]; methodConfig?: unknown[] };
  let found = false;
  const rewrite = (list: unknown[] | undefined): unknown[] | undefined =>
    list?.map((entry) => {
      const e = entry as Record<string, Record<string, unknown>>;
      if (e[LB_POLICY_NAME] !== undefined) {
        found = true;
        const mine = e[LB_POLICY_NAME];
        // The settings travel as they are, under `cluster`: the policy hands them to its Balancer as a resolver
        // update would, so a change applies in place (lb-policy.ts). Validated here, with what they make of the
        // channel's config, so that an invalid one rejects the update.
        const sent = clusterKeysOf(cluster);
        const next = {
          ...mine,
          // The route's header hash_policy (xDS): the control plane wins, as for the cluster settings.
          ...(hashHeader === undefined ? {} : { hashHeader }),
          ...(sent === undefined ? {} : { cluster: sent }),
        };
        parseGrpcLbOptions(next);
        return { [LB_POLICY_NAME]: next };
      }
      // Parents such as outlier_detection hold their children in child_policy.
      const [name] = Object.keys(e);
      const body = name === undefined ? undefined : e[name];
      if (body !== undefined && Array.isArray(body.child_policy)) {
        return { [name!]: { ...body, child_policy: rewrite(body.child_policy) } };
      }
      return entry;
    });
  const loadBalancingConfig = rewrite(config.loadBalancingConfig);
  if (!found) return null;
  return { ...config, loadBalancingConfig, methodConfig: config.methodConfig ?? [] };
}

/** Cluster settings that change the service config. */
const OVERRIDING_KEYS = CLUSTER_KEYS;

/** The settings of `cluster` the policy applies, or `undefined` when it sends none. */
function clusterKeysOf(cluster: ResolverClusterConfig): ResolverClusterConfig | undefined {
  const out: Record<string, unknown> = {};
  for (const key of CLUSTER_KEYS) if (cluster[key] !== undefined) out[key] = cluster[key];
  return Object.keys(out).length === 0 ? undefined : out;
}

// ---- switchyard-static: ------------------------------------------------------------------------------------

/** The scheme of the static resolver. */
export const STATIC_SCHEME = 'switchyard-static';

const staticServices = new Map<
  string,
  { endpoints: readonly EndpointInput[]; resolvers: Set<StaticResolver> }
>();

/**
 * Sets (or replaces) the endpoints of a named static service, the target `switchyard-static:///<name>`. Channels
 * already resolving it receive the new list at once: added endpoints get connections, removed ones drain. Validates
 * first and throws {@link ConfigError}, keeping the old list, on bad input.
 */
export function setStaticEndpoints(name: string, endpoints: readonly EndpointInput[]): void {
  if (!/^[^,:/\s]+$/.test(name)) {
    throw new ConfigError({
      field: 'name',
      allowed: 'a service name without ",", ":", "/" or spaces',
      received: name,
    });
  }
  parseEndpoints(endpoints, 'endpoints');
  const entry = staticServices.get(name) ?? { endpoints, resolvers: new Set<StaticResolver>() };
  entry.endpoints = endpoints;
  staticServices.set(name, entry);
  for (const resolver of entry.resolvers) resolver.set(endpoints);
}

/** Forgets a named static service; channels resolving it keep their last list. */
export function deleteStaticEndpoints(name: string): boolean {
  return staticServices.delete(name);
}

/**
 * The `switchyard-static:` factory. Targets: `switchyard-static:///10.0.0.1:50051,10.0.0.2:50051` (a literal list;
 * `[v6]:port` allowed) or `switchyard-static:///<name>` (a list set with {@link setStaticEndpoints}).
 */
export const staticResolverFactory: ResolverFactory = (target) => {
  const path = target.path;
  if (path.includes(':')) {
    const endpoints = path.split(',').filter((s) => s !== '');
    parseEndpoints(endpoints, 'target');
    return new StaticResolver(endpoints);
  }
  const entry = staticServices.get(path);
  if (entry === undefined) {
    throw new ConfigError({
      field: 'target',
      allowed: `"host:port,…" or the name of a service set with setStaticEndpoints() (known: ${[...staticServices.keys()].join(', ') || 'none'})`,
      received: path,
    });
  }
  return new NamedStaticResolver(entry);
};

/** A static resolver that follows its named service until closed. */
class NamedStaticResolver extends StaticResolver {
  readonly #entry: { resolvers: Set<StaticResolver> };

  constructor(entry: { endpoints: readonly EndpointInput[]; resolvers: Set<StaticResolver> }) {
    super(entry.endpoints);
    this.#entry = entry;
    entry.resolvers.add(this);
  }

  override close(): void {
    this.#entry.resolvers.delete(this);
    super.close();
  }
}
