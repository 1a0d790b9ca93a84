/**
 * LDS and RDS, as far as a client-side balancer needs them: listener → HttpConnectionManager → route configuration
 * (inline or by RDS name) → virtual host → the catch-all route → its cluster and its header `hash_policy`.
 *
 * Mapping (gRFC A42 for the hash policy, gRFC A28 for the rest):
 * - `Listener.api_listener.api_listener` must be an HttpConnectionManager with `rds` (config_source ads/self) or an
 *   inline `route_config`; `scoped_routes` is NACKed.
 * - Virtual host: the one whose `domains` match the listener name best (exact, then `*.suffix` / `prefix*`, then
 *   `*`), as gRPC matches the target authority. Route: the first whose match catches every request (`prefix` ''
 *   or '/', no header or query matchers) — a balancer has one route for all calls, not one per RPC method.
 * - `hash_policy`: one `header` policy gives `hashHeader` (its value, repeated values joined with `,`, is the
 *   hash key). NACKed, because we could not hash as Envoy and gRPC do: `regex_rewrite`, a second header policy
 *   (combining hashes needs the 64-bit rotate of A42, not one key string), `filter_state` (gRPC's per-channel
 *   hash), and header names that are not valid lowercase metadata keys or end in `-bin`. `cookie`,
 *   `connection_properties` and `query_parameter` are ignored, as gRPC ignores them.
 * - A route we would use whose action is not a single `cluster` (weighted clusters, cluster_header, plugins) is
 *   NACKed; routes we would not use are not inspected beyond their hash policies.
 */
import { XdsResourceError } from '../../errors/xds-resource-error.js';
import {
  decodeHttpConnectionManagerMessage,
  decodeListenerMessage,
  decodeRouteConfigurationMessage,
  TYPE_URL,
} from './proto/codec.js';
import { Issues } from './proto/fields.js';

/** The route a client-side balancer follows: its cluster and, when the route has one, the header to hash. */
export interface XdsRoute {
  readonly cluster: string;
  readonly hashHeader: string | undefined;
}

/** A decoded RouteConfiguration: per virtual host, its domains and its catch-all route (if any). */
export interface XdsRouteConfig {
  readonly name: string;
  readonly virtualHosts: readonly {
    readonly domains: readonly string[];
    readonly route: XdsRoute | undefined;
  }[];
}

/** A decoded Listener: where its routes come from. */
export interface XdsListener {
  readonly name: string;
  /** RDS resource name, when routes come from RDS. */
  readonly routeConfigName: string | undefined;
  /** The inline route configuration, when there is one. */
  readonly routeConfig: XdsRouteConfig | undefined;
}

interface HashPolicyMessage {
  readonly header?: { readonly header_name?: string; readonly regex_rewrite?: object };
  readonly filter_state?: { readonly key?: string };
  readonly cookie?: object;
  readonly connection_properties?: object;
  readonly query_parameter?: object;
  readonly terminal?: boolean;
}
interface RouteMessage {
  readonly match?: {
    readonly prefix?: string;
    readonly path?: string;
    readonly safe_regex?: object;
    readonly path_separated_prefix?: string;
    readonly headers?: readonly object[];
    readonly query_parameters?: readonly object[];
  };
  readonly route?: {
    readonly cluster?: string;
    readonly cluster_header?: string;
    readonly weighted_clusters?: object;
    readonly cluster_specifier_plugin?: string;
    readonly hash_policy?: readonly HashPolicyMessage[];
  };
}
interface RouteConfigMessage {
  readonly name?: string;
  readonly virtual_hosts?: readonly {
    readonly domains?: readonly string[];
    readonly routes?: readonly RouteMessage[];
  }[];
}

/** Lowercase metadata key (gRPC's rule for header hash policies and `hashHeader`). */
const HEADER_NAME = /^[0-9a-z_.-]+$/;

/** Decodes and validates one LDS resource. Throws {@link XdsResourceError} (`malformed` or `invalid`). */
export function decodeListener(bytes: Uint8Array): XdsListener {
  const message = decodeListenerMessage(bytes) as {
    name?: string;
    api_listener?: { api_listener?: { type_url?: string; value?: Uint8Array } };
  };
  const name = message.name ?? '';
  const issues = new Issues();
  const any = message.api_listener?.api_listener;
  if (any?.type_url !== TYPE_URL.httpConnectionManager || any.value === undefined) {
    issues.add('api_listener.api_listener', 'must be an HttpConnectionManager');
    issues.throwIfAny(TYPE_URL.listener, name);
  }
  const hcm = decodeHttpConnectionManagerMessage(any!.value!) as {
    rds?: { config_source?: { ads?: object; self?: object }; route_config_name?: string };
    route_config?: RouteConfigMessage;
    scoped_routes?: object;
  };
  if (hcm.scoped_routes !== undefined)
    issues.add('api_listener.scoped_routes', 'scoped routes are not supported');
  let routeConfig: XdsRouteConfig | undefined;
  if (hcm.route_config !== undefined)
    routeConfig = readRouteConfig(hcm.route_config, issues, 'route_config.');
  const rds = hcm.rds;
  if (rds !== undefined) {
    if (rds.config_source?.ads === undefined && rds.config_source?.self === undefined)
      issues.add('rds.config_source', 'must be ads {} or self {}: switchyard speaks ADS only');
    if (!rds.route_config_name) issues.add('rds.route_config_name', 'must be a non-empty string');
  }
  if (routeConfig === undefined && rds === undefined) issues.add('api_listener', 'needs rds or route_config');
  issues.throwIfAny(TYPE_URL.listener, name);
  return { name, routeConfigName: rds?.route_config_name, routeConfig };
}

/** Decodes and validates one RDS resource. Throws {@link XdsResourceError}. */
export function decodeRouteConfig(bytes: Uint8Array): XdsRouteConfig {
  const message = decodeRouteConfigurationMessage(bytes) as RouteConfigMessage;
  const issues = new Issues();
  const config = readRouteConfig(message, issues, '');
  issues.throwIfAny(TYPE_URL.route, config.name);
  return config;
}

function readRouteConfig(message: RouteConfigMessage, issues: Issues, at: string): XdsRouteConfig {
  const virtualHosts = (message.virtual_hosts ?? []).map((vh, v) => {
    const routes = vh.routes ?? [];
    routes.forEach((route, r) => {
      readHashHeader(route.route?.hash_policy ?? [], issues, `${at}virtual_hosts[${v}].routes[${r}].route`);
    });
    const r = routes.findIndex(catchesAll);
    const route = r < 0 ? undefined : readRoute(routes[r]!, issues, `${at}virtual_hosts[${v}].routes[${r}]`);
    return { domains: vh.domains ?? [], route };
  });
  return { name: message.name ?? '', virtualHosts };
}

/** True for a route every request matches. */
function catchesAll(route: RouteMessage): boolean {
  const m = route.match;
  if (m === undefined || m.path !== undefined || m.safe_regex !== undefined) return false;
  if (m.path_separated_prefix !== undefined) return false;
  if ((m.headers?.length ?? 0) > 0 || (m.query_parameters?.length ?? 0) > 0) return false;
  return (m.prefix ?? '') === '' || m.prefix === '/';
}

function readRoute(route: RouteMessage, issues: Issues, at: string): XdsRoute | undefined {
  const action = route.route;
  if (action === undefined) {
    issues.add(`${at}`, 'the catch-all route must forward to a cluster (not redirect or respond directly)');
    return undefined;
  }
  if (!action.cluster) {
    issues.add(
      `${at}.route`,
      'must name one cluster (weighted_clusters, cluster_header and plugins are not supported)',
    );
    return undefined;
  }
  return { cluster: action.cluster, hashHeader: readHashHeader(action.hash_policy ?? [], new Issues(), at) };
}

/** The one header policy's header name; records what cannot be honoured. */
function readHashHeader(
  policies: readonly HashPolicyMessage[],
  issues: Issues,
  at: string,
): string | undefined {
  let header: string | undefined;
  policies.forEach((policy, i) => {
    const path = `${at}.hash_policy[${i}]`;
    if (policy.filter_state !== undefined) {
      issues.add(
        `${path}.filter_state`,
        `filter_state "${policy.filter_state.key ?? ''}" hashing is not supported`,
      );
      return;
    }
    if (policy.header === undefined) return; // cookie, connection_properties, query_parameter: ignored, as in gRPC
    const name = policy.header.header_name ?? '';
    if (policy.header.regex_rewrite !== undefined)
      issues.add(`${path}.header.regex_rewrite`, 'is not supported (the hash would differ from Envoy/gRPC)');
    if (!HEADER_NAME.test(name) || name.endsWith('-bin') || name.startsWith('grpc-'))
      issues.add(
        `${path}.header.header_name`,
        `must be a lowercase metadata key, not -bin or grpc-, got "${name}"`,
      );
    if (header !== undefined)
      issues.add(`${path}`, 'only one header hash policy is supported (combined hashes are not)');
    header = name;
  });
  return header;
}

/**
 * The route for `authority` (the listener name): the best-matching virtual host's catch-all route. Throws an
 * {@link XdsResourceError} when no virtual host matches or it has no catch-all route.
 */
export function selectRoute(config: XdsRouteConfig, authority: string): XdsRoute {
  let best: { score: number; route: XdsRoute | undefined } | undefined;
  for (const vh of config.virtualHosts) {
    for (const domain of vh.domains) {
      const score = domainScore(domain.toLowerCase(), authority.toLowerCase());
      if (score > 0 && (best === undefined || score > best.score)) best = { score, route: vh.route };
    }
  }
  if (best?.route === undefined) {
    throw new XdsResourceError({
      problem: 'invalid',
      typeUrl: TYPE_URL.route,
      resourceName: config.name,
      detail:
        best === undefined
          ? `no virtual host matches "${authority}"`
          : `the virtual host for "${authority}" has no route that matches every request`,
    });
  }
  return best.route;
}

/** gRPC's domain match order: exact (4) > suffix `*.x` (3) > prefix `x*` (2) > `*` (1); 0 = no match. */
function domainScore(domain: string, host: string): number {
  if (domain === host) return 4 * 1000 + domain.length;
  if (domain === '*') return 1;
  if (domain.startsWith('*') && host.endsWith(domain.slice(1))) return 3 * 1000 + domain.length;
  if (domain.endsWith('*') && host.startsWith(domain.slice(0, -1))) return 2 * 1000 + domain.length;
  return 0;
}
