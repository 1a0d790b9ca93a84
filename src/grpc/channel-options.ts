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
import { type ChannelOptions, experimental } from '@grpc/grpc-js';
import { ConfigError } from '../errors/config-error.js';
import { LB_POLICY_NAME, parseGrpcLbOptions, type SwitchyardLbJson } from './config.js';
import { setup } from './setup.js';

/** Extra choices of {@link channelOptions}. */
export interface ChannelOptionsExtras {
  /**
   * Wrap the policy in grpc-js's own `outlier_detection` (gRFC A50) with this raw config (snake_case, durations as
   * `{ seconds, nanos }`). The `child_policy` is filled in. Validated with grpc-js's own parser. Default: not wrapped —
   * switchyard's outlier detection (a Balancer option) is the usual choice.
   */
  readonly grpcOutlierDetection?: Readonly<Record<string, unknown>>;
  /** Other channel options to merge in (e.g. `grpc.client_idle_timeout_ms`). */
  readonly options?: ChannelOptions;
}

/**
 * Returns `{ 'grpc.service_config': … }` selecting the `switchyard` policy with `config`, merged with
 * `extras.options`. Throws {@link ConfigError} naming the field when `config` is invalid.
 */
export function channelOptions(
  config: SwitchyardLbJson = {},
  extras: ChannelOptionsExtras = {},
): ChannelOptions {
  setup();
  parseGrpcLbOptions(config);
  let entry: Record<string, unknown> = { [LB_POLICY_NAME]: config };
  if (extras.grpcOutlierDetection !== undefined) {
    const od = extras.grpcOutlierDetection;
    if (typeof od !== 'object' || od === null || Array.isArray(od) || 'child_policy' in od) {
      throw new ConfigError({
        field: 'grpcOutlierDetection',
        allowed: 'an outlier_detection config object without child_policy',
        received: od,
      });
    }
    entry = { outlier_detection: { ...od, child_policy: [entry] } };
    try {
      experimental.parseLoadBalancingConfig(entry as never);
    } catch (error) {
      throw new ConfigError({
        field: 'grpcOutlierDetection',
        allowed: `a config grpc-js accepts (${(error as Error).message})`,
        received: od,
      });
    }
  }
  const serviceConfig = extras.options?.['grpc.service_config'];
  if (serviceConfig !== undefined) {
    throw new ConfigError({
      field: "options['grpc.service_config']",
      allowed: 'absent: channelOptions() builds the service config',
      received: serviceConfig,
    });
  }
  return { ...extras.options, 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [entry] }) };
}
