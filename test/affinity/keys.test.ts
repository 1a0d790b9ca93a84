import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  callerKey,
  cookieKey,
  findCookie,
  firstKey,
  headerKey,
  parseAffinityKey,
  readHeader,
} from '../../src/affinity/keys.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { checkProperty } from '../helpers/properties.js';

describe('headerKey', () => {
  const key = headerKey('X-Session-Id');

  it('reads a header from a record in any letter case, from a flat array, Headers and grpc-js Metadata', () => {
    expect(key({ 'x-session-id': 'abc' })).toBe('abc');
    expect(key({ 'X-SESSION-ID': 'abc' })).toBe('abc');
    expect(key(['host', 'a', 'X-Session-Id', 'abc'])).toBe('abc');
    expect(key(new Headers({ 'x-session-id': 'abc' }))).toBe('abc');
    const metadata = new Metadata();
    metadata.set('x-session-id', 'abc');
    expect(key(metadata)).toBe('abc');
  });

  it('joins repeated values with a comma (RFC 9110, gRPC A76) in every form', () => {
    expect(key({ 'x-session-id': ['a', 'b'] })).toBe('a,b');
    expect(key(['x-session-id', 'a', 'x-session-id', 'b'])).toBe('a,b');
    const metadata = new Metadata();
    metadata.add('x-session-id', 'a');
    metadata.add('x-session-id', 'b');
    expect(key(metadata)).toBe('a,b');
  });

  it('yields undefined when the header is absent or empty (the policy then picks at random)', () => {
    expect(key({})).toBeUndefined();
    expect(key({ 'x-session-id': '' })).toBeUndefined();
    expect(key({ 'x-session-id': [] })).toBeUndefined();
    expect(key({ 'x-session-id': undefined })).toBeUndefined();
    expect(key(new Metadata())).toBeUndefined();
    expect(key(['x-session-id', ''])).toBeUndefined();
  });

  it('reads numbers as strings', () => {
    expect(key({ 'x-session-id': 42 })).toBe('42');
  });

  it('rejects invalid and binary header names with a ConfigError', () => {
    expect(() => headerKey('bad name')).toThrow(ConfigError);
    expect(() => headerKey('')).toThrow('header: expected a header name (RFC 9110 token characters), got ""');
    expect(() => headerKey('x-trace-bin')).toThrow(
      'header: expected a non-binary header (not ending in -bin)',
    );
  });

  it('finds the same value whatever the case of the name in the record (property)', () => {
    checkProperty(
      fc.property(
        // Binary (-bin) names are refused by design (gRFC A76), tested above.
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((name) => !name.endsWith('-bin')),
        fc.string({ minLength: 1 }),
        fc.nat(),
        (name, value, mask) => {
          const mixed = [...name].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');
          expect(headerKey(name)({ other: 'x', [mixed]: value })).toBe(value);
          expect(readHeader({ [mixed]: value }, name)).toBe(value);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('cookieKey', () => {
  const key = cookieKey('sid');

  it('finds a cookie among others, trims spaces and surrounding quotes', () => {
    expect(key({ cookie: 'a=1; sid=xyz; b=2' })).toBe('xyz');
    expect(key({ cookie: 'sid=xyz' })).toBe('xyz');
    expect(key({ cookie: 'a=1;sid="quoted value"' })).toBe('quoted value');
    expect(key({ Cookie: 'theme=dark; sid=s1' })).toBe('s1');
  });

  it('does not match a cookie whose name merely ends or starts with the wanted name', () => {
    expect(key({ cookie: 'xsid=1; sidx=2' })).toBeUndefined();
    expect(key({ cookie: 'xsid=1; sidx=2; sid=3' })).toBe('3');
  });

  it('joins several cookie headers with "; " (HTTP/2 splits them) and reads grpc-js Metadata', () => {
    expect(key({ cookie: ['a=1', 'sid=two'] })).toBe('two');
    const metadata = new Metadata();
    metadata.add('cookie', 'a=1');
    metadata.add('cookie', 'sid=m');
    expect(key(metadata)).toBe('m');
  });

  it('yields undefined without the cookie, without a cookie header, or with an empty value', () => {
    expect(key({})).toBeUndefined();
    expect(key({ cookie: 'a=1' })).toBeUndefined();
    expect(key({ cookie: 'sid=' })).toBeUndefined();
    expect(findCookie('sid', 'sid')).toBeUndefined();
  });

  it('round-trips any token value placed among other cookies (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
    checkProperty(
      fc.property(
        fc.array(fc.tuple(token, token), { maxLength: 5 }),
        token,
        fc.nat(),
        (others, value, at) => {
          const pairs = others.filter(([n]) => n !== 'sid').map(([n, v]) => `${n}=${v}`);
          pairs.splice(at % (pairs.length + 1), 0, `sid=${value}`);
          expect(findCookie(pairs.join('; '), 'sid')).toBe(value);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('rejects an invalid cookie name', () => {
    expect(() => cookieKey('a;b')).toThrow(ConfigError);
  });
});

describe('callerKey, firstKey, parseAffinityKey', () => {
  it('wraps a caller function and treats "" as no key', () => {
    const key = callerKey((req: { tenant: string }) => req.tenant);
    expect(key({ tenant: 't-1' })).toBe('t-1');
    expect(key({ tenant: '' })).toBeUndefined();
    expect(() => callerKey('nope' as never)).toThrow('key: expected a function, got "nope"');
  });

  it('tries extractors in order', () => {
    const key = firstKey(cookieKey('sid'), headerKey('x-user'));
    expect(key({ cookie: 'sid=c', 'x-user': 'u' })).toBe('c');
    expect(key({ 'x-user': 'u' })).toBe('u');
    expect(key({})).toBeUndefined();
    expect(() => firstKey()).toThrow(ConfigError);
  });

  it('builds extractors from plain JSON and rejects anything but exactly one source', () => {
    expect(parseAffinityKey({ header: 'x-user' })({ 'x-user': 'u' })).toBe('u');
    expect(parseAffinityKey({ cookie: 'sid' })({ cookie: 'sid=s' })).toBe('s');
    expect(() => parseAffinityKey({}, 'route.key')).toThrow(
      'route.key: expected exactly one of `header` or `cookie`',
    );
    expect(() => parseAffinityKey({ header: 'a', cookie: 'b' })).toThrow(ConfigError);
    expect(() => parseAffinityKey({ header: 'a b' }, 'route.key')).toThrow('route.key.header');
    expect(() => parseAffinityKey({ query: 'id' })).toThrow('affinityKey.query');
  });
});
