/**
 * Reading and amending request headers in every shape undici's `DispatchOptions.headers` may take: a plain object,
 * a flat `[name, value, name, value]` array, or an iterable of `[name, value]` pairs (fetch passes its headers list).
 * Names compare case-insensitively; we never mutate the caller's headers.
 */
import type { Dispatcher } from 'undici';

type Headers = Dispatcher.DispatchOptions['headers'];

/** The first value of header `name` (lower-case), or `undefined`. */
export function getHeader(headers: Headers, name: string): string | undefined {
  if (headers == null) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const key = String(headers[i]);
      if (key.length === name.length && key.toLowerCase() === name) return firstValue(headers[i + 1]);
    }
    return undefined;
  }
  if (isIterable(headers)) {
    for (const [key, value] of headers) if (key.toLowerCase() === name) return firstValue(value);
    return undefined;
  }
  const record = headers as Record<string, unknown>;
  // Fast path: undici and most callers already use lower-case names.
  if (record[name] !== undefined) return firstValue(record[name]);
  // Compare lengths first: most keys differ in length, and lower-casing allocates.
  for (const key in record) {
    if (key.length === name.length && key.toLowerCase() === name) return firstValue(record[key]);
  }
  return undefined;
}

/** `headers` plus `host: value` when it carries no `host` header yet; the input is returned as is otherwise. */
export function withHostHeader(headers: Headers, host: string): Headers {
  if (headers == null) return { host };
  if (getHeader(headers, 'host') !== undefined) return headers;
  if (Array.isArray(headers)) return [...headers, 'host', host];
  if (isIterable(headers)) {
    const flat: string[] = [];
    for (const [key, value] of headers) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) flat.push(key, v);
      else flat.push(key, value);
    }
    flat.push('host', host);
    return flat;
  }
  return { ...(headers as Record<string, string | string[]>), host };
}

/**
 * Finds header `name` in a raw response header list (`[name, value, …]` as Buffers or strings), e.g. Retry-After on
 * a legacy-API response. Only called on failure statuses, so the linear scan is off the hot path.
 */
export function getRawHeader(
  raw: readonly (Buffer | string)[] | null | undefined,
  name: string,
): string | undefined {
  if (raw == null) return undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toString().toLowerCase() === name) return raw[i + 1]!.toString();
  }
  return undefined;
}

/** Retry-After from parsed (`{ 'retry-after': … }`) or raw (`[name, value, …]`) response headers. */
export function readRetryAfter(
  source: Readonly<Record<string, string | string[] | undefined>> | readonly Buffer[],
): string | undefined {
  if (Array.isArray(source)) return getRawHeader(source as readonly Buffer[], 'retry-after');
  return firstValue((source as Record<string, unknown>)['retry-after']);
}

function firstValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? (value[0] === undefined ? undefined : String(value[0])) : String(value);
}

function isIterable(value: object): value is Iterable<[string, string | string[] | undefined]> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
