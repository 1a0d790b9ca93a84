/**
 * Affinity keys: where the `hashKey` for `ring_hash` / `maglev` comes from — a request header, a cookie, or a
 * function of the caller's. Adapter-neutral: an extractor reads any {@link HeaderSource}, which covers
 *
 * - plain header records — Node's `IncomingHttpHeaders`, undici's `headers` option as an object;
 * - flat `[name, value, name, value, …]` arrays — undici's other `headers` form and raw headers;
 * - anything with `get(name)` — fetch `Headers` (string | null) and grpc-js `Metadata` (an array of values).
 *
 * Header names match case-insensitively. Several values of one header are joined with `,` (RFC 9110 §5.3, and
 * gRPC A76 for `request_hash_header`); several `cookie` headers with `; ` (RFC 9113 §8.2.3). An absent or empty
 * value yields `undefined`: the hashing policies then pick at random (gRPC A76) rather than pinning every key-less
 * request to the one endpoint that owns the hash of "".
 */
import { join, type RawOptions, readObject, readString } from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';

/** Headers as a record (any letter case in the names). */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | number | undefined>>;
/** Headers behind a `get(name)` method (fetch `Headers`, grpc-js `Metadata`). */
export interface HeaderGetter {
  get(name: string): unknown;
}
/** Any form of request headers an extractor accepts. */
export type HeaderSource = HeaderRecord | HeaderGetter | readonly string[];

/** Turns a request's headers (or whatever the caller passes) into an affinity key; `undefined` when it has none. */
export type AffinityKeyExtractor<Source = HeaderSource> = (source: Source) => string | undefined;

/** Plain-JSON form of an extractor, for service configs and xDS: exactly one of `header` or `cookie`. */
export interface AffinityKeyConfig {
  readonly header?: string;
  readonly cookie?: string;
}

/** RFC 9110 token characters: what a header or cookie name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Reads header `name` from `source`: the value, several values joined with `separator`, or `undefined` when absent.
 * `name` must be lower case (callers normalise once, up front). Only string (and number) values count: binary
 * grpc-js values (`Buffer`s of `-bin` keys) are not keys.
 */
export function readHeader(source: HeaderSource, name: string, separator = ','): string | undefined {
  if (Array.isArray(source)) return fromFlatArray(source as readonly string[], name, separator);
  if (typeof (source as HeaderGetter).get === 'function') {
    return normalise((source as HeaderGetter).get(name), separator);
  }
  const record = source as HeaderRecord;
  const exact = record[name];
  if (exact !== undefined) return normalise(exact, separator);
  // Caller-built records may use any case ("X-User-Id"); scan only when the lower-case lookup missed.
  for (const key in record) {
    if (key.length === name.length && key.toLowerCase() === name) return normalise(record[key], separator);
  }
  return undefined;
}

function fromFlatArray(flat: readonly string[], name: string, separator: string): string | undefined {
  let result: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const key = flat[i]!;
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = String(flat[i + 1]);
    result = result === undefined ? value : `${result}${separator}${value}`;
  }
  return result === '' ? undefined : result;
}

function normalise(value: unknown, separator: string): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    // One value is the common case (grpc-js Metadata always answers an array): no intermediate array.
    if (value.length === 1) return normalise(value[0], separator);
    const strings = value.filter((v): v is string => typeof v === 'string' && v !== '');
    return strings.length === 0 ? undefined : strings.join(separator);
  }
  return undefined;
}

function checkName(name: unknown, field: string, what: string): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new ConfigError({ field, allowed: `a ${what} name (RFC 9110 token characters)`, received: name });
  }
  return name;
}

/**
 * True for a binary gRPC header (`…-bin`, any case). gRFC A76 rejects a `request_hash_header` naming one: binary
 * values have no canonical text form, so every adapter refuses them as affinity keys at configuration time.
 */
export function isBinaryHeader(name: string): boolean {
  return name.length >= 4 && name.slice(-4).toLowerCase() === '-bin';
}

/**
 * Key from request header `name` (case-insensitive). Binary gRPC headers (`…-bin`) are refused, as in gRPC A76.
 * Throws {@link ConfigError} for an invalid name.
 */
export function headerKey(name: string, field = 'header'): AffinityKeyExtractor {
  const lower = checkName(name, field, 'header').toLowerCase();
  if (isBinaryHeader(lower)) {
    throw new ConfigError({ field, allowed: 'a non-binary header (not ending in -bin)', received: name });
  }
  return (source) => readHeader(source, lower);
}

/**
 * Key from cookie `name` in the request's `cookie` header(s): its value with surrounding double quotes removed,
 * not URL-decoded (the key is opaque; decoding would only cost time). Cookie names are case-sensitive.
 * Throws {@link ConfigError} for an invalid name.
 */
export function cookieKey(name: string, field = 'cookie'): AffinityKeyExtractor {
  checkName(name, field, 'cookie');
  return (source) => {
    const header = readHeader(source, 'cookie', '; ');
    return header === undefined ? undefined : findCookie(header, name);
  };
}

/** The value of cookie `name` in a `cookie` header value, or `undefined` (also for an empty value). */
export function findCookie(header: string, name: string): string | undefined {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    while (start < end && (header.charCodeAt(start) === 0x20 || header.charCodeAt(start) === 0x09)) start++;
    if (header.startsWith(name, start) && header.charCodeAt(start + name.length) === 0x3d /* = */) {
      let value = header.slice(start + name.length + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value === '' ? undefined : value;
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * Key from a function of the caller's (a tenant id from a parsed token, a shard from the URL path, …). The
 * function's empty-string result counts as no key, like an absent header. Throws {@link ConfigError} when `fn`
 * is not a function.
 */
export function callerKey<Source>(
  fn: (source: Source) => string | undefined,
  field = 'key',
): AffinityKeyExtractor<Source> {
  if (typeof fn !== 'function') throw new ConfigError({ field, allowed: 'a function', received: fn });
  return (source) => {
    const key = fn(source);
    return key === '' ? undefined : key;
  };
}

/** The first key any of `extractors` finds, tried in order (e.g. a session cookie, else a user-id header). */
export function firstKey<Source>(
  ...extractors: readonly AffinityKeyExtractor<Source>[]
): AffinityKeyExtractor<Source> {
  if (extractors.length === 0) {
    throw new ConfigError({ field: 'extractors', allowed: 'at least one extractor', received: 0 });
  }
  return (source) => {
    for (const extract of extractors) {
      const key = extract(source);
      if (key !== undefined) return key;
    }
    return undefined;
  };
}

/**
 * Builds an extractor from plain JSON: `{ header: 'x-session-id' }` or `{ cookie: 'sid' }`. Throws
 * {@link ConfigError} naming `path` for anything else.
 */
export function parseAffinityKey(raw: unknown, path = 'affinityKey'): AffinityKeyExtractor {
  const obj: RawOptions = readObject(raw, path, ['header', 'cookie']);
  const header = readString(obj, 'header', path);
  const cookie = readString(obj, 'cookie', path);
  if ((header === undefined) === (cookie === undefined)) {
    throw new ConfigError({ field: path, allowed: 'exactly one of `header` or `cookie`', received: raw });
  }
  return header !== undefined
    ? headerKey(header, join(path, 'header'))
    : cookieKey(cookie as string, join(path, 'cookie'));
}
