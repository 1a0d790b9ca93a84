import { hasErrorCode, SwitchyardError } from './switchyard-error.js';

/** Details of an {@link XdsStreamError}. */
export interface XdsStreamErrorDetails {
  /** The control plane's URI from the bootstrap. */
  readonly serverUri: string;
  /** gRPC status code of the failed stream (14 UNAVAILABLE when the server is down). */
  readonly grpcCode: number;
  /** gRPC status details. */
  readonly grpcDetails: string;
  /** Milliseconds until the next connection attempt. */
  readonly retryInMs: number;
}

/**
 * The ADS stream to the control plane failed or ended. The resolver keeps serving its last accepted endpoints,
 * reconnects after a jittered exponential backoff and re-subscribes with its last accepted versions.
 * Match on `code`, not on the message.
 */
export class XdsStreamError extends SwitchyardError {
  static readonly code = 'SY_ERR_XDS_STREAM';
  readonly serverUri: string;
  readonly grpcCode: number;
  readonly grpcDetails: string;
  readonly retryInMs: number;

  constructor(details: XdsStreamErrorDetails, options?: { cause?: unknown }) {
    super(
      `xds: ADS stream to ${details.serverUri} failed (gRPC ${details.grpcCode}: ${details.grpcDetails}); ` +
        `retrying in ${Math.round(details.retryInMs)} ms, keeping the last accepted endpoints`,
      XdsStreamError.code,
      options,
    );
    this.name = 'XdsStreamError';
    this.serverUri = details.serverUri;
    this.grpcCode = details.grpcCode;
    this.grpcDetails = details.grpcDetails;
    this.retryInMs = details.retryInMs;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasErrorCode(value, XdsStreamError.code);
  }
}

/** Type guard for {@link XdsStreamError}. */
export function isXdsStreamError(value: unknown): value is XdsStreamError {
  return hasErrorCode(value, XdsStreamError.code);
}
