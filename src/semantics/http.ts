/**
 * Request semantics every HTTP adapter needs, whatever client it drives (undici today; a Node `http.Agent` adapter
 * would use the same rules): which requests are safe to repeat, which bodies can be sent again, and how long the
 * server asked us to wait.
 */

/** Methods RFC 9110 §9.2.2 defines as idempotent. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Whether a request is safe to send again: the caller's explicit `idempotent` flag when it is a boolean, else the
 * method (RFC 9110 §9.2.2). Method names are case-sensitive (RFC 9110 §9.1): `get` is not `GET`.
 */
export function isIdempotent(method: string, flag?: unknown): boolean {
  return typeof flag === 'boolean' ? flag : IDEMPOTENT_METHODS.has(method);
}

/** True when a request body can be sent again: none, a string or bytes. Streams and iterables are consumed once. */
export function isReplayableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer
  );
}

/**
 * Parses an HTTP `Retry-After` header (RFC 9110 §10.2.3) into a delay in ms: either delay-seconds (`"120"`) or an
 * HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, measured from `nowEpochMs`, never negative). Returns `undefined` for
 * a missing or malformed value, so the jittered backoff applies instead. For several headers, the first is used.
 */
export function parseRetryAfter(
  header: string | readonly string[] | undefined,
  nowEpochMs: number = Date.now(),
): number | undefined {
  const value = (typeof header === 'string' ? header : header?.[0])?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date (IMF-fixdate, RFC 850 or asctime) starts with a weekday and ends in GMT or a year; Date.parse
  // alone would also accept things like "May 5".
  if (!/^[A-Za-z]{3,9},? .*(?:GMT|\d{4})$/.test(value)) return undefined;
  // asctime carries no zone; HTTP dates are always UTC, so say so rather than let Date.parse assume local time.
  const at = Date.parse(value.endsWith('GMT') ? value : `${value} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}

/**
 * Parses gRPC's `grpc-retry-pushback-ms` trailer (gRFC A6): a non-negative integer is the delay in ms before the
 * next attempt; anything else (negative, not a number) means "do not retry" and returns `'stop'`. An absent
 * trailer returns `undefined` (the jittered backoff applies).
 */
export function parseGrpcPushback(
  value: string | readonly string[] | undefined,
): number | 'stop' | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) ? Number(text) : 'stop';
}
