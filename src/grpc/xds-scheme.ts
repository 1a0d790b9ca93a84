/**
 * The `switchyard-xds:` scheme: switchyard's xDS-lite resolver behind grpc-js channels.
 *
 * `switchyard-xds:///orders-cluster` resolves the CDS cluster `orders-cluster` (and its EDS assignment) from the
 * control plane named in the gRPC bootstrap (`GRPC_XDS_BOOTSTRAP` / `GRPC_XDS_BOOTSTRAP_CONFIG`, or the `bootstrap`
 * option of {@link xdsResolverFactory}). The cluster's `lb_policy`, panic threshold, overprovisioning factor,
 * outlier detection, circuit breakers and slow start reach the `switchyard` policy as cluster settings
 * (resolver-schemes.ts); endpoint weights, localities, priorities
 * and health ride on the endpoints.
 *
 * The xDS resolver needs `protobufjs`, an optional peer dependency, so it is imported only when a channel first
 * resolves an xDS target: `switchyard-lb/grpc` itself loads without it, and a missing `protobufjs` fails that
 * channel's calls with a message saying so.
 */

import type { Resolver, ResolverListener } from '../balancer/resolver.js';
import { ConfigError } from '../errors/config-error.js';
import type { XdsResolverOptions } from '../resolvers/xds/xds-resolver.js';
import type { ResolverFactory } from './resolver-schemes.js';

/** The scheme `setup()` registers. */
export const XDS_SCHEME = 'switchyard-xds';

/** Options a factory applies to every xDS resolver it builds; the target supplies `cluster` or `listener`. */
export type XdsSchemeOptions = Omit<XdsResolverOptions, 'cluster' | 'listener'> & {
  /**
   * What the target's path names: a CDS `cluster` (default) or an LDS `listener`, as gRPC's `xds:///<listener>`.
   * With a listener the cluster comes from its route, and the route's header `hash_policy` becomes the
   * `switchyard` policy's `hashHeader`.
   */
  readonly resource?: 'cluster' | 'listener';
};

/**
 * A factory for `switchyard-xds:///<cluster>` targets with `options` applied (e.g. `{ bootstrap: '/etc/xds.json' }`):
 * `registerResolverScheme('my-xds', xdsResolverFactory({ bootstrap }))`. With `resource: 'listener'` the path
 * names an LDS listener instead.
 */
export function xdsResolverFactory(options: XdsSchemeOptions = {}): ResolverFactory {
  const { resource = 'cluster', ...rest } = options;
  if (resource !== 'cluster' && resource !== 'listener') {
    throw new ConfigError({ field: 'resource', allowed: '"cluster" or "listener"', received: resource });
  }
  return (target) => {
    if (target.path === '' || target.path.includes('/')) {
      throw new ConfigError({
        field: 'target',
        allowed: `a ${resource === 'cluster' ? 'CDS cluster' : 'LDS listener'} name ("switchyard-xds:///<name>")`,
        received: target.path,
      });
    }
    return new LazyXdsResolver({ ...rest, [resource]: target.path });
  };
}

/** Loads the xDS module on start, then behaves as the XdsResolver it builds. */
class LazyXdsResolver implements Resolver {
  readonly #options: XdsResolverOptions;
  #inner: Resolver | undefined;
  #closed = false;

  constructor(options: XdsResolverOptions) {
    this.#options = options;
  }

  start(listener: ResolverListener): void {
    import('../resolvers/xds/xds-resolver.js').then(
      ({ XdsResolver }) => {
        if (this.#closed) return;
        try {
          this.#inner = new XdsResolver(this.#options);
        } catch (error) {
          listener.onError(error as Error);
          return;
        }
        this.#inner.start(listener);
      },
      (error: Error) => {
        if (!this.#closed)
          listener.onError(
            new Error(`the xDS resolver needs @grpc/grpc-js and protobufjs: ${error.message}`),
          );
      },
    );
  }

  refresh(): void {
    this.#inner?.refresh();
  }

  close(): void | Promise<void> {
    this.#closed = true;
    return this.#inner?.close();
  }
}
