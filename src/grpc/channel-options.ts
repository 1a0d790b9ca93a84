/**
 * `channelOptions(config)`: the channel options that select the `switchyard` policy — the "passed as a gRPC channel
 * option" path:
 *
 * ```ts
 * const client = new EchoClient('switchyard-static:///echo', credentials.createInsecure(),
 *   channelOptions({ policy: 'least_request', balancer: { name: 'echo' } }));
 * ```
 *
 * Validates eagerly and throws {@link ConfigError} here, at the call site, rather than letting grpc-js discover the
 * problem at first resolution (and silently pick `pick_first`). Registers the policy and schemes if needed.
 */
import { type ChannelOptions, experimental, type Interceptor, type InterceptorProvider } from '@grpc/grpc-js';
import { ConfigError } from '../errors/config-error.js';
import { LB_POLICY_NAME, parseGrpcLbOptions, type SwitchyardLbJson } from './config.js';
import { switchyardInterceptor } from './interceptor.js';
import { nextRetentionToken, RETENTION_KEY_OPTION } from './retained-state.js';
import type { GrpcResilienceOptions } from './retry-config.js';
import { setup } from './setup.js';

/** What {@link channelOptions} takes: the `switchyard` LB config plus the channel's resilience options. */
export type ChannelConfig = SwitchyardLbJson & GrpcResilienceOptions;

/** Extra choices of {@link channelOptions}. */
export interface ChannelOptionsExtras {
  /**
   * Wrap the policy in grpc-js's own `outlier_detection` (gRFC A50) with this raw config (snake_case, durations as
   * `{ seconds, nanos }`). The `child_policy` is filled in. Validated with grpc-js's own parser. Default: not wrapped —
   * switchyard's outlier detection (a Balancer option, on by default) is the usual choice.
   */
  readonly grpcOutlierDetection?: Readonly<Record<string, unknown>>;
  /**
   * Other channel/client options to merge in (e.g. `grpc.client_idle_timeout_ms`). A `grpc.service_config` here is
   * merged: its `methodConfig` (timeouts, wait-for-ready), `retryThrottling` and the rest are kept, and its
   * `loadBalancingConfig` is refused (this function builds it). Its own `interceptors` / `interceptor_providers` run
   * before switchyard's.
   */
  readonly options?: ChannelOptions;
}

/**
 * Returns client options: `{ 'grpc.service_config': … }` selecting the `switchyard` policy with the LB part of
 * `config`, merged with `extras.options`, and `interceptors` holding {@link switchyardInterceptor} with the
 * `retry` / `hedging` / `throttle` / `idempotentMethods` part (retries through switchyard's executor; time-to-headers latency
 * for every call), and a token naming this call's channels (`grpc.internal.no_subchannel.switchyard.retention_key`:
 * the policy keeps their endpoint state across the channel idle timeout under it; not part of the subchannel pool
 * key). Pass them to a generated client's constructor. Throws {@link ConfigError} naming the field when
 * `config` is invalid, and when the service config in `extras.options` has a grpc-js `retryPolicy` or
 * `hedgingPolicy` while `retry` or `hedging` is on (both would repeat the same calls).
 */
export function channelOptions(
  config: ChannelConfig = {},
  extras: ChannelOptionsExtras = {},
): ChannelOptions {
  setup();
  const { retry, hedging, throttle, idempotentMethods, ...lbConfig } = config;
  const interceptor = switchyardInterceptor({ retry, hedging, throttle, idempotentMethods });
  parseGrpcLbOptions(lbConfig);
  let entry: Record<string, unknown> = { [LB_POLICY_NAME]: lbConfig };
  if (extras.grpcOutlierDetection !== undefined)
    entry = wrapInOutlierDetection(entry, extras.grpcOutlierDetection);
  const serviceConfig = mergeServiceConfig(
    extras.options?.['grpc.service_config'],
    entry,
    (retry !== undefined && retry !== false) || (hedging !== undefined && hedging !== false),
  );
  return {
    // Tells this call's channels apart from others with the same config, for state kept across idle (retained-state.ts).
    [RETENTION_KEY_OPTION]: nextRetentionToken(),
    ...extras.options,
    'grpc.service_config': JSON.stringify(serviceConfig),
    ...withInterceptor(extras.options, interceptor),
  };
}

function wrapInOutlierDetection(
  entry: Record<string, unknown>,
  od: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (typeof od !== 'object' || od === null || Array.isArray(od) || 'child_policy' in od) {
    throw new ConfigError({
      field: 'grpcOutlierDetection',
      allowed: 'an outlier_detection config object without child_policy',
      received: od,
    });
  }
  const wrapped = { outlier_detection: { ...od, child_policy: [entry] } };
  try {
    experimental.parseLoadBalancingConfig(wrapped as never);
  } catch (error) {
    throw new ConfigError({
      field: 'grpcOutlierDetection',
      allowed: `a config grpc-js accepts (${(error as Error).message})`,
      received: od,
    });
  }
  return wrapped;
}

const FIELD = "options['grpc.service_config']";

/** The user's service config (if any) with our `loadBalancingConfig`; refuses what would conflict. */
function mergeServiceConfig(
  raw: unknown,
  entry: Record<string, unknown>,
  retrying: boolean,
): Record<string, unknown> {
  if (raw === undefined) return { loadBalancingConfig: [entry] };
  let parsed: unknown;
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError({
      field: FIELD,
      allowed: 'a JSON string of a service config object',
      received: raw,
    });
  }
  const user = parsed as Record<string, unknown>;
  if ('loadBalancingConfig' in user || 'loadBalancingPolicy' in user) {
    throw new ConfigError({
      field: `${FIELD}.loadBalancingConfig`,
      allowed: 'absent: channelOptions() selects the switchyard policy (configure it in the first argument)',
      received: user.loadBalancingConfig ?? user.loadBalancingPolicy,
    });
  }
  const methods = Array.isArray(user.methodConfig) ? (user.methodConfig as unknown[]) : [];
  methods.forEach((method, i) => {
    if (!retrying || typeof method !== 'object' || method === null) return;
    for (const key of ['retryPolicy', 'hedgingPolicy'] as const) {
      if (key in method) {
        throw new ConfigError({
          field: `${FIELD}.methodConfig[${i}].${key}`,
          allowed: `absent while switchyard retries or hedges (\`retry\`, \`hedging\`): both would repeat the same calls. Drop one — switchyard's attempts go to endpoints not yet tried, under a retry budget`,
          received: (method as Record<string, unknown>)[key],
        });
      }
    }
  });
  return { ...user, loadBalancingConfig: [entry] };
}

/** Adds switchyard's interceptor after the caller's own (so theirs see one logical call). */
function withInterceptor(options: ChannelOptions | undefined, interceptor: Interceptor): ChannelOptions {
  const providers = options?.interceptor_providers as InterceptorProvider[] | undefined;
  if (providers !== undefined && providers.length > 0) {
    return { interceptor_providers: [...providers, () => interceptor] };
  }
  const own = (options?.interceptors as Interceptor[] | undefined) ?? [];
  return { interceptors: [...own, interceptor] };
}
