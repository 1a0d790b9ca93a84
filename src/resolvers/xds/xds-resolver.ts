/**
 * The xDS resolver: endpoints and cluster settings for one cluster, from an envoy v3 control plane over ADS.
 *
 * Starts from a CDS cluster name (not a listener: there is no HTTP routing in a client-side balancer), subscribes
 * to that `Cluster`, then to the `ClusterLoadAssignment` it names, and pushes one {@link ResolverUpdate} whenever
 * the mapped result changes (change detection by content, not by version strings):
 *
 * ```ts
 * const balancer = new Balancer({
 *   resolver: new XdsResolver({ cluster: 'orders', bootstrap: '/etc/xds/bootstrap.json' }),
 *   policy: 'round_robin', // replaced by the cluster's lb_policy once CDS arrives
 * });
 * ```
 *
 * Last known good, always: a NACKed response, a broken stream, a deleted cluster or a slow control plane are
 * reported through `onError` (the Balancer's `resolver-error` event) and never clear the endpoint set.
 */
import { createRequire } from 'node:module';
import type { Resolver, ResolverListener, ResolverUpdate } from '../../balancer/resolver.js';
import type { Clock } from '../../clock.js';
import { checkClock, checkRandom } from '../../config/injectables.js';
import { readNumber, readObject } from '../../config/validate.js';
import { ConfigError } from '../../errors/config-error.js';
import { XdsResourceError } from '../../errors/xds-resource-error.js';
import type { RandomSource } from '../../random.js';
import {
  type AdsBackoffOptions,
  AdsClient,
  type AdsResourceType,
  defaultAdsBackoff,
  readBackoff,
} from './ads-client.js';
import { loadXdsBootstrap, type XdsBootstrap, type XdsBootstrapInput } from './bootstrap.js';
import { decodeCluster, type XdsCluster } from './cds.js';
import { decodeAssignment, type XdsAssignment } from './eds.js';
import {
  decodeListener,
  decodeRouteConfig,
  selectRoute,
  type XdsListener,
  type XdsRouteConfig,
} from './lds-rds.js';
import { TYPE_URL } from './proto/codec.js';

/** Options of {@link XdsResolver}. */
export interface XdsResolverOptions {
  /** CDS resource name of the cluster to balance over. Exactly one of `cluster` and `listener`. */
  readonly cluster?: string;
  /**
   * LDS resource name (what gRPC's `xds:///<name>` names): the cluster then comes from the listener's route
   * (inline or RDS), and the route's header `hash_policy` arrives as `ResolverUpdate.hashHeader`. Exactly one of
   * `cluster` and `listener`.
   */
  readonly listener?: string;
  /**
   * gRPC xDS bootstrap: an object, or the path of a JSON file. Default: the file named by `GRPC_XDS_BOOTSTRAP`,
   * else the JSON in `GRPC_XDS_BOOTSTRAP_CONFIG` (as gRPC clients do).
   */
  readonly bootstrap?: XdsBootstrapInput;
  /**
   * How long to wait for the first usable cluster and assignment before reporting a `does-not-exist`
   * {@link XdsResourceError} (the resolver keeps waiting after that), ms from 1 to 3,600,000.
   * Default 15,000 (gRFC A27's resource does-not-exist timer).
   */
  readonly initialFetchTimeoutMs?: number;
  /** Reconnect backoff of the ADS stream; each field defaults to {@link defaultAdsBackoff} (gRPC's). */
  readonly backoff?: Partial<AdsBackoffOptions>;
  /**
   * Largest DiscoveryResponse accepted, bytes, from 1,024 to 2^31-1. Larger ones fail the stream
   * (RESOURCE_EXHAUSTED), which is retried with backoff. Default 4,194,304 (gRPC's default receive limit).
   */
  readonly maxResponseBytes?: number;
  /** Time source for the backoff and the fetch timer. Override for deterministic tests. Default: system clock. */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for backoff jitter. Override with `seededRandom(n)` for tests. */
  readonly random?: RandomSource;
}

/** Defaults of {@link XdsResolverOptions}, with their sources. */
export const defaultXdsResolverOptions = {
  /** gRFC A27 does-not-exist timer. */
  initialFetchTimeoutMs: 15_000,
  /** gRPC's default max receive message length. */
  maxResponseBytes: 4 * 1024 * 1024,
  backoff: defaultAdsBackoff,
} as const;

const OPTION_KEYS = [
  'cluster',
  'listener',
  'bootstrap',
  'initialFetchTimeoutMs',
  'backoff',
  'maxResponseBytes',
  'clock',
  'random',
] as const;

const clusterType: AdsResourceType<XdsCluster> = {
  typeUrl: TYPE_URL.cluster,
  decode: decodeCluster,
  nameOf: (cluster) => cluster.name,
  complete: true,
};
const endpointType: AdsResourceType<XdsAssignment> = {
  typeUrl: TYPE_URL.endpoint,
  decode: decodeAssignment,
  nameOf: (assignment) => assignment.clusterName,
  complete: false,
};

const listenerType: AdsResourceType<XdsListener> = {
  typeUrl: TYPE_URL.listener,
  decode: decodeListener,
  nameOf: (listener) => listener.name,
  complete: true,
};
const routeType: AdsResourceType<XdsRouteConfig> = {
  typeUrl: TYPE_URL.route,
  decode: decodeRouteConfig,
  nameOf: (config) => config.name,
  complete: false,
};

const VERSION = readPackageVersion();

/** A {@link Resolver} fed by an xDS control plane (ADS, state of the world, CDS + EDS). */
export class XdsResolver implements Resolver {
  #clusterName: string;
  readonly #listenerName: string | undefined;
  #routeName: string | undefined;
  #hashHeader: string | undefined;
  readonly #bootstrap: XdsBootstrap;
  readonly #initialFetchTimeoutMs: number;
  readonly #backoff: AdsBackoffOptions;
  readonly #maxResponseBytes: number;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  #listener: ResolverListener | undefined;
  #client: AdsClient | undefined;
  #fetchTimer: { cancel(): void } | undefined;
  #cluster: XdsCluster | undefined;
  #edsName: string | undefined;
  #assignment: XdsAssignment | undefined;
  #versions = { lds: '', rds: '', cds: '', eds: '' };
  #lastKey = '';
  #closed = false;

  /** Validates options and reads the bootstrap; throws {@link ConfigError} on bad input. */
  constructor(options: XdsResolverOptions) {
    const raw = readObject(options, '', OPTION_KEYS);
    const named = (key: 'cluster' | 'listener') => typeof raw[key] === 'string' && raw[key] !== '';
    if (named('cluster') === named('listener') || (raw.cluster !== undefined && !named('cluster')))
      throw new ConfigError({
        field: raw.cluster === undefined ? 'listener' : 'cluster',
        allowed: 'a non-empty CDS cluster name or LDS listener name (exactly one of cluster and listener)',
        received: raw.cluster ?? raw.listener,
      });
    this.#clusterName = named('cluster') ? (raw.cluster as string) : '';
    this.#listenerName = named('listener') ? (raw.listener as string) : undefined;
    this.#bootstrap = loadXdsBootstrap(options.bootstrap);
    this.#initialFetchTimeoutMs = readNumber(
      raw,
      'initialFetchTimeoutMs',
      '',
      { min: 1, max: 3_600_000 },
      defaultXdsResolverOptions.initialFetchTimeoutMs,
    );
    this.#maxResponseBytes = readNumber(
      raw,
      'maxResponseBytes',
      '',
      { integer: true, min: 1024, max: 2 ** 31 - 1 },
      defaultXdsResolverOptions.maxResponseBytes,
    );
    this.#backoff = readBackoff(raw.backoff);
    this.#clock = checkClock(raw.clock);
    this.#random = checkRandom(raw.random);
  }

  /** The validated bootstrap in use (server URI, node identity). */
  get bootstrap(): XdsBootstrap {
    return this.#bootstrap;
  }

  start(listener: ResolverListener): void {
    if (this.#closed || this.#listener !== undefined) return;
    this.#listener = listener;
    this.#client = new AdsClient({
      bootstrap: this.#bootstrap,
      types: [listenerType, routeType, clusterType, endpointType] as AdsResourceType<unknown>[],
      events: {
        onResources: (typeUrl, resources, version) => this.#onResources(typeUrl, resources, version),
        onRejected: (error) => this.#report(error),
        onStreamError: (error) => this.#report(error),
      },
      clock: this.#clock,
      random: this.#random,
      backoff: this.#backoff,
      maxResponseBytes: this.#maxResponseBytes,
      userAgentVersion: VERSION,
    });
    if (this.#listenerName !== undefined) this.#client.subscribe(TYPE_URL.listener, [this.#listenerName]);
    else this.#client.subscribe(TYPE_URL.cluster, [this.#clusterName]);
    this.#fetchTimer = this.#clock.setTimer(() => {
      this.#fetchTimer = undefined;
      if (this.#lastKey !== '') return;
      const waitingFor =
        this.#clusterName === ''
          ? this.#routeName === undefined
            ? TYPE_URL.listener
            : TYPE_URL.route
          : this.#cluster === undefined
            ? TYPE_URL.cluster
            : TYPE_URL.endpoint;
      const names: Record<string, string> = {
        [TYPE_URL.listener]: this.#listenerName ?? '',
        [TYPE_URL.route]: this.#routeName ?? '',
        [TYPE_URL.cluster]: this.#clusterName,
        [TYPE_URL.endpoint]: this.#edsName ?? '',
      };
      this.#report(
        new XdsResourceError({
          problem: 'does-not-exist',
          typeUrl: waitingFor,
          resourceName: names[waitingFor]!,
          detail: `no usable resource within ${this.#initialFetchTimeoutMs} ms; still waiting`,
        }),
      );
    }, this.#initialFetchTimeoutMs);
  }

  /**
   * No-op. xDS pushes changes as they happen, so there is nothing to re-resolve; and while the stream is down
   * the reconnect backoff is what protects the control plane, so a refresh does not cut it short.
   */
  refresh(): void {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fetchTimer?.cancel();
    this.#client?.close();
    this.#listener = undefined;
  }

  #onResources(typeUrl: string, resources: ReadonlyMap<string, unknown>, version: string): void {
    if (typeUrl === TYPE_URL.listener) {
      this.#versions.lds = version;
      const listener = resources.get(this.#listenerName ?? '') as XdsListener | undefined;
      if (listener === undefined) {
        this.#missing(typeUrl, this.#listenerName ?? '', version);
        return;
      }
      if (listener.routeConfig !== undefined) {
        if (this.#routeName !== undefined) this.#client?.subscribe(TYPE_URL.route, []);
        this.#routeName = undefined;
        this.#onRoute(listener.routeConfig);
        return;
      }
      if (listener.routeConfigName !== this.#routeName) {
        this.#routeName = listener.routeConfigName;
        this.#client?.subscribe(TYPE_URL.route, [listener.routeConfigName ?? '']);
      }
      return;
    }
    if (typeUrl === TYPE_URL.route) {
      this.#versions.rds = version;
      const config = resources.get(this.#routeName ?? '') as XdsRouteConfig | undefined;
      if (config !== undefined) this.#onRoute(config);
      return;
    }
    if (typeUrl === TYPE_URL.cluster) {
      this.#versions.cds = version;
      const cluster = resources.get(this.#clusterName) as XdsCluster | undefined;
      if (cluster === undefined) {
        this.#missing(typeUrl, this.#clusterName, version);
        return;
      }
      this.#cluster = cluster;
      if (cluster.edsServiceName !== this.#edsName) {
        this.#edsName = cluster.edsServiceName;
        this.#assignment = undefined;
        this.#client?.subscribe(TYPE_URL.endpoint, [cluster.edsServiceName]);
      }
    } else if (typeUrl === TYPE_URL.endpoint) {
      this.#versions.eds = version;
      const assignment = this.#edsName === undefined ? undefined : resources.get(this.#edsName);
      if (assignment === undefined) return;
      this.#assignment = assignment as XdsAssignment;
    }
    this.#emit();
  }

  /**
   * Deleted or never existed. Keep the last good endpoints either way (gRFC A53 lets a server declare
   * `ignore_resource_deletion`, in which case we do not even report it).
   */
  #missing(typeUrl: string, resourceName: string, version: string): void {
    if (this.#bootstrap.serverFeatures.includes('ignore_resource_deletion')) return;
    this.#report(
      new XdsResourceError({
        problem: 'does-not-exist',
        typeUrl,
        resourceName,
        detail: `not in version ${JSON.stringify(version)}; keeping the last known endpoints`,
      }),
    );
  }

  /** A route configuration arrived (RDS or inline): follow its cluster, take its hash header. */
  #onRoute(config: XdsRouteConfig): void {
    let route: ReturnType<typeof selectRoute>;
    try {
      route = selectRoute(config, this.#listenerName ?? '');
    } catch (error) {
      this.#report(error as Error);
      return;
    }
    this.#hashHeader = route.hashHeader;
    if (route.cluster !== this.#clusterName) {
      this.#clusterName = route.cluster;
      this.#cluster = undefined;
      this.#client?.subscribe(TYPE_URL.cluster, [route.cluster]);
    }
    this.#emit();
  }

  #emit(): void {
    const cluster = this.#cluster;
    const assignment = this.#assignment;
    if (cluster === undefined || assignment === undefined || this.#listener === undefined) return;
    const update: ResolverUpdate = {
      endpoints: assignment.endpoints,
      ...(this.#hashHeader === undefined ? {} : { hashHeader: this.#hashHeader }),
      cluster: {
        ...cluster.config,
        ...(assignment.overprovisioningFactor === undefined
          ? {}
          : { overprovisioningFactor: assignment.overprovisioningFactor }),
      },
      note:
        `xds: cluster ${cluster.name} (cds ${this.#versions.cds}), eds ${assignment.clusterName} ` +
        `(${this.#versions.eds}): ${assignment.endpoints.length} endpoints in ${assignment.localities} localities`,
    };
    const key = JSON.stringify([update.endpoints, update.cluster, update.hashHeader]);
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    this.#fetchTimer?.cancel();
    this.#fetchTimer = undefined;
    this.#listener.onUpdate(update);
  }

  #report(error: Error): void {
    if (!this.#closed) this.#listener?.onError(error);
  }
}

function readPackageVersion(): string {
  try {
    // src/resolvers/xds/ and dist/resolvers/xds/ are both three levels below the package root.
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
