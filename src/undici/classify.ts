/**
 * What an undici error or an HTTP status says about the endpoint: the {@link FailureKind} the balancer is fed, and
 * whether the request could have reached the application (which decides if a non-idempotent request may be retried).
 */
import type { FailureKind } from '../balancer/outcome.js';

/** Error codes meaning the connection was never established: nothing was sent. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  // undici's connect timeout: Envoy counts a connect timeout as a connect failure (it is locally originated).
  'UND_ERR_CONNECT_TIMEOUT',
  // TLS handshake failures surface as ERR_TLS_* / ERR_SSL_* from node:tls.
]);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'ECONNABORTED',
  'HPE_INVALID_CONSTANT',
]);

const CANCEL_CODES = new Set(['UND_ERR_ABORTED', 'ABORT_ERR', 'UND_ERR_ABORT']);

/**
 * Errors of the client's own making, raised before anything reached the endpoint or about limits the caller set:
 * invalid request arguments (a header value with CR LF), unsupported options, a request body that does not match its
 * Content-Length, a response larger than the caller's `maxResponseSize`, and dispatching to a Pool that we closed or
 * destroyed ourselves (`UND_ERR_CLOSED`, `UND_ERR_DESTROYED`: undici raises these only for a local close). None says
 * anything about the endpoint, so they count as `cancelled`: in-flight bookkeeping only, never retried.
 */
const CALLER_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  // An origin undici cannot parse: the caller's request origin, or an endpoint address no Pool can be built for.
  'ERR_INVALID_URL',
  'ERR_HTTP2_INVALID_HEADER_VALUE',
  'ERR_HTTP2_INVALID_CONNECTION_HEADERS',
  'ERR_HTTP2_HEADER_SINGLE_VALUE',
  'ERR_HTTP2_INVALID_PSEUDOHEADER',
]);

/** True for an error of the client's own making (see {@link CALLER_CODES}): never the endpoint's fault. */
export function isCallerError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CALLER_CODES.has(code);
}

/**
 * The failure kind of an error raised while talking to one endpoint. Caller aborts and errors of the client's own
 * making map to `cancelled` (not the endpoint's fault: in-flight bookkeeping only); anything unknown is `other` and
 * counts as a failure.
 */
export function failureOfError(error: unknown): FailureKind {
  const err = error as { code?: unknown; name?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (CANCEL_CODES.has(code) || CALLER_CODES.has(code) || err?.name === 'AbortError') return 'cancelled';
  if (CONNECT_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return 'connect';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  // HTTP/2: a stream reset by the peer (RST_STREAM: REFUSED_STREAM, INTERNAL_ERROR, …), a session error, or one of
  // undici's HTTP/2 informational errors (a stream closed or reset before the response completed).
  if (RESET_CODES.has(code) || code.startsWith('ERR_HTTP2_') || code === 'UND_ERR_INFO') return 'reset';

  return 'other';
}

/** Which response statuses count as failures of the endpoint. */
export type FailureStatusPredicate = (status: number) => boolean;

/**
 * Default: 5xx (Envoy's outlier detection counts 5xx as gateway failures) and 429 (the endpoint is shedding load;
 * fed as `overloaded`, which health modules may treat differently from an error).
 */
export const defaultFailureStatus: FailureStatusPredicate = (status) => status >= 500 || status === 429;

/**
 * The failure kind of a failing status: `overloaded` for 429, and for 503 with Retry-After (the endpoint asks us to
 * back off, as Envoy's `retriable-status-codes` + Retry-After handling does); `status` otherwise.
 */
export function failureOfStatus(status: number, retryAfter: string | undefined): FailureKind {
  return status === 429 || (status === 503 && retryAfter !== undefined) ? 'overloaded' : 'status';
}

/**
 * True when an HTTP/2 stream was refused (RST_STREAM REFUSED_STREAM): RFC 9113 §8.7 guarantees the server did not
 * process it, so even a non-idempotent request may be sent again. Node reports it as `ERR_HTTP2_STREAM_ERROR` naming
 * the code; undici (for some stream states) as an informational error carrying code 7.
 */
export function isRefusedStream(error: unknown): boolean {
  const err = error as { code?: unknown; message?: unknown } | null;
  if (typeof err?.message !== 'string') return false;
  if (err.code === 'ERR_HTTP2_STREAM_ERROR') return err.message.includes('NGHTTP2_REFUSED_STREAM');
  return err.code === 'UND_ERR_INFO' && err.message.includes('"stream error" received - code 7');
}
