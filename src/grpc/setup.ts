/**
 * Registration with grpc-js: the `switchyard` LB policy and the `switchyard-static`, `switchyard-dns` and
 * `switchyard-xds` resolver schemes.
 *
 * grpc-js registries are process-wide, keyed by name, last write wins, and invisible to a second copy of grpc-js
 * (pitfall 8): `@grpc/grpc-js` is a peer dependency so the application's copy is the one registered with.
 * `setup()` is idempotent; importing `switchyard-lb/grpc` does not register anything by itself (the package has no side
 * effects), `channelOptions()` calls it, and code that writes its own service config calls it once.
 */
import { experimental } from '@grpc/grpc-js';
import { LB_POLICY_NAME, SwitchyardLbConfig } from './config.js';
import { DNS_SCHEME, dnsResolverFactory } from './dns-scheme.js';
import { SwitchyardLoadBalancer } from './lb-policy.js';
import { registerResolverScheme, STATIC_SCHEME, staticResolverFactory } from './resolver-schemes.js';
import { XDS_SCHEME, xdsResolverFactory } from './xds-scheme.js';

let done = false;

/** Registers the `switchyard` policy and the `switchyard-static:`, `-dns:` and `-xds:` schemes. Idempotent. */
export function setup(): void {
  if (done) return;
  done = true;
  experimental.registerLoadBalancerType(LB_POLICY_NAME, SwitchyardLoadBalancer, SwitchyardLbConfig);
  registerResolverScheme(STATIC_SCHEME, staticResolverFactory);
  registerResolverScheme(DNS_SCHEME, dnsResolverFactory());
  registerResolverScheme(XDS_SCHEME, xdsResolverFactory());
}
