import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Why an xDS resource was not used. */
export type XdsResourceProblem =
  /** The bytes did not decode as the expected message (malformed, truncated, wrong wire types). */
  | 'malformed'
  /** It decoded, but failed validation (unsupported cluster type, zero weight, duplicate endpoint, …). */
  | 'invalid'
  /** The control plane said it does not exist (missing from a CDS response), or never sent it in time. */
  | 'does-not-exist';

/** Details of an {@link XdsResourceError}. */
export interface XdsResourceErrorDetails {
  readonly problem: XdsResourceProblem;
  /** The resource type, e.g. `type.googleapis.com/envoy.config.cluster.v3.Cluster`. */
  readonly typeUrl: string;
  /** The resource name when known (cluster name, EDS service name). */
  readonly resourceName?: string;
  /** What was wrong, naming the field by its envoy path, e.g. `endpoints[0].lb_endpoints[2].load_balancing_weight: …`. */
  readonly detail: string;
}

/**
 * An xDS resource switchyard could not use. A response carrying one is NACKed with this message as
 * `error_detail`, the last accepted state stays in force, and the resolver reports the error through
 * `onError` (the Balancer emits it as `resolver-error`). Match on `code`, not on the message.
 */
export class XdsResourceError extends SwitchyardError {
  static readonly code = 'SY_ERR_XDS_RESOURCE';
  readonly problem: XdsResourceProblem;
  readonly typeUrl: string;
  readonly resourceName: string | undefined;
  readonly detail: string;

  constructor(details: XdsResourceErrorDetails, options?: { cause?: unknown }) {
    const short = details.typeUrl.slice(details.typeUrl.lastIndexOf('.') + 1);
    const name = details.resourceName === undefined ? '' : ` "${details.resourceName}"`;
    super(`xds: ${details.problem} ${short}${name}: ${details.detail}`, XdsResourceError.code, options);
    this.name = 'XdsResourceError';
    this.problem = details.problem;
    this.typeUrl = details.typeUrl;
    this.resourceName = details.resourceName;
    this.detail = details.detail;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, XdsResourceError.code);
  }
}

/** Type guard for {@link XdsResourceError}. */
export function isXdsResourceError(value: unknown): value is XdsResourceError {
  return hasErrorCode(value, XdsResourceError.code);
}
