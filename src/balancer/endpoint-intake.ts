/**
 * What an endpoint list goes through before the Balancer applies it: a resolver update's validation (rejected whole
 * when anything in it is bad, so the last good state stays) and the address policy's verdict. Off the hot path.
 */
import { type Endpoint, parseEndpoints } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import { channels, publish } from '../observability/channels.js';
import type { AddressPolicy, EndpointSource } from './address-policy.js';
import type { ClusterSettings, ClusterSettingsChange } from './cluster-settings.js';
import { type ParsedPolicy, parsePolicyConfig } from './policy/registry.js';
import type { ResolverUpdate } from './resolver.js';
import { clusterRouting, type RoutingOptions } from './routing/options.js';

/** Where admitted endpoints are published from, and whether a first set is in place. */
export interface AdmitContext {
  readonly balancer: string;
  readonly addressPolicy: AddressPolicy;
  /** A first endpoint set is in place: a list rejected whole then keeps it rather than route nowhere. */
  readonly resolved: boolean;
}

/**
 * The address policy's verdict on an endpoint list: the accepted endpoints, each rejection published on
 * `switchyard:endpoint:rejected`. `undefined` when the list had endpoints and every one was rejected after a
 * first set was in place: the caller keeps the last good set rather than route nowhere.
 */
export function admitEndpoints(
  endpoints: Endpoint[],
  source: EndpointSource,
  note: string | undefined,
  ctx: AdmitContext,
): Endpoint[] | undefined {
  const { kept, rejected } = ctx.addressPolicy.filter(endpoints, source);
  for (const { address, rule } of rejected) {
    publish(channels.endpointRejected, {
      balancer: ctx.balancer,
      address,
      source,
      rule,
      ...(note === undefined ? {} : { note }),
    });
  }
  if (rejected.length > 0 && kept.length === 0 && ctx.resolved) return undefined;
  return rejected.length === 0 ? endpoints : kept;
}

/** The Balancer's state a resolver update is validated against. */
export interface UpdateContext extends AdmitContext {
  readonly routing: RoutingOptions;
  readonly clusterSettings: ClusterSettings;
  /** The serialised policy configuration last taken from a control plane. */
  readonly clusterPolicyKey: string | undefined;
}

/** A resolver update, validated whole: what the Balancer puts in force. */
export interface AcceptedUpdate {
  readonly endpoints: Endpoint[];
  readonly routing: RoutingOptions;
  readonly settings: ClusterSettingsChange;
  /** The control plane's policy, when it changed (serialised in `policyKey`). */
  readonly policy: ParsedPolicy | undefined;
  readonly policyKey: string | undefined;
}

/**
 * Validates everything a resolver update asks for before anything changes: the endpoints, the cluster's routing,
 * health and limit settings, its policy, and the address policy's verdict. Throws (a ConfigError naming
 * `resolver.…`, or an Error when the address policy rejected every endpoint); the caller keeps its last good state.
 */
export function acceptResolverUpdate(update: ResolverUpdate, ctx: UpdateContext): AcceptedUpdate {
  if (typeof update !== 'object' || update === null)
    throw new ConfigError({ field: 'resolver.update', allowed: 'an object', received: update });
  const policyConfig = update.cluster?.policy;
  // Control planes resend the cluster with every update; rebuild the policy (and lose its cached state, such as a
  // hash ring) only when its configuration actually changed. The same goes for the settings.
  const policyKey = policyConfig === undefined ? undefined : JSON.stringify(policyConfig);
  const endpoints = parseEndpoints(update.endpoints, 'resolver.endpoints');
  const routing = clusterRouting(ctx.routing, update.cluster);
  const settings = ctx.clusterSettings.diff(update.cluster);
  const policy =
    policyKey !== undefined && policyKey !== ctx.clusterPolicyKey
      ? parsePolicyConfig(policyConfig, 'resolver.cluster.policy')
      : undefined;
  const admitted = admitEndpoints(endpoints, 'resolver', update.note, ctx);
  if (admitted === undefined) {
    throw new Error(
      `switchyard: every endpoint of the update for "${ctx.balancer}" was rejected by the address policy; the last good set stays`,
    );
  }
  return { endpoints: admitted, routing, settings, policy, policyKey };
}
