/**
 * Failure classification and the combination rules of the query layer, with scripted name-server answers
 * (dnsmasq cannot be made to fail one record type while answering another; the real-server tests cover the rest).
 */
import type { Resolver as NodeDnsResolver } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { DnsResolutionError } from '../../src/errors/dns-resolution-error.js';
import { classifyDnsError, queryAddresses, queryTargets } from '../../src/resolvers/dns/query.js';

const dnsError = (code: string) => Object.assign(new Error(`query failed ${code}`), { code });

/** A name server scripted per (type, name): an answer, or a node:dns error code. */
function scripted(answers: Record<string, readonly { address: string; ttl: number }[] | string>) {
  let inFlight = 0;
  let maxInFlight = 0;
  const answer = async (key: string) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight--;
    const value = answers[key] ?? 'ENOTFOUND';
    if (typeof value === 'string') throw dnsError(value);
    return value;
  };
  const resolver = {
    resolve4: (name: string) => answer(`A ${name}`),
    resolve6: (name: string) => answer(`AAAA ${name}`),
  } as unknown as NodeDnsResolver;
  return { resolver, maxInFlight: () => maxInFlight };
}

describe('classifyDnsError', () => {
  it.each([
    ['ENOTFOUND', 'not-found'],
    ['ENODATA', 'not-found'],
    ['ESERVFAIL', 'transient'],
    ['EREFUSED', 'transient'],
    ['ETIMEOUT', 'transient'],
    ['ECONNREFUSED', 'transient'],
    ['EBADRESP', 'transient'],
    ['ECANCELLED', 'transient'],
  ])('%s is %s', (code, kind) => {
    const error = classifyDnsError(dnsError(code), 'a.test', 'A');
    expect(error).toBeInstanceOf(DnsResolutionError);
    expect(error).toMatchObject({ code: 'SY_ERR_DNS_RESOLUTION', dnsCode: code, kind, hostname: 'a.test' });
    expect(error.message).toBe(`dns: A a.test failed with ${code} (${kind})`);
  });

  it('reads anything without a code as transient EUNKNOWN', () => {
    expect(classifyDnsError('boom', 'a.test', 'SRV')).toMatchObject({
      dnsCode: 'EUNKNOWN',
      kind: 'transient',
    });
  });
});

describe('queryAddresses', () => {
  const v4 = [{ address: '10.0.0.1', ttl: 5 }];
  const v6 = [{ address: 'fd00::1', ttl: 5 }];

  it('dual: one family with no records is fine, the other is used', async () => {
    const { resolver } = scripted({ 'A a.test': 'ENODATA', 'AAAA a.test': v6 });
    expect(await queryAddresses(resolver, 'a.test', 'dual')).toEqual({ ipv4: [], ipv6: v6 });
  });

  it('dual: a transient failure of either family fails the whole query (never half the endpoints)', async () => {
    const { resolver } = scripted({ 'A a.test': v4, 'AAAA a.test': 'ESERVFAIL' });
    await expect(queryAddresses(resolver, 'a.test', 'dual')).rejects.toMatchObject({
      kind: 'transient',
      dnsCode: 'ESERVFAIL',
      rrtype: 'AAAA',
    });
  });

  it('not found only when every queried family is not found', async () => {
    const { resolver } = scripted({ 'A a.test': 'ENOTFOUND', 'AAAA a.test': 'ENOTFOUND' });
    await expect(queryAddresses(resolver, 'a.test', 'dual')).rejects.toMatchObject({ kind: 'not-found' });
    await expect(queryAddresses(resolver, 'a.test', 'ipv6')).rejects.toMatchObject({ rrtype: 'AAAA' });
  });

  it('queries only the asked family', async () => {
    const { resolver } = scripted({ 'A a.test': v4, 'AAAA a.test': 'ESERVFAIL' });
    expect(await queryAddresses(resolver, 'a.test', 'ipv4')).toEqual({ ipv4: v4 });
  });
});

describe('queryTargets', () => {
  it('resolves distinct targets at most `concurrency` at a time and lists the ones without addresses', async () => {
    const answers: Record<string, { address: string; ttl: number }[]> = {};
    for (let i = 0; i < 20; i++) answers[`A t${i}.test`] = [{ address: `10.0.0.${i + 1}`, ttl: 5 }];
    const { resolver, maxInFlight } = scripted(answers);
    const names = [...Array.from({ length: 20 }, (_, i) => `t${i}.test`), 't0.test', 'gone.test'];
    const { targets, missing } = await queryTargets(resolver, names, 'ipv4', 4);
    expect(targets.size).toBe(20);
    expect(targets.get('t7.test')).toEqual({ ipv4: [{ address: '10.0.0.8', ttl: 5 }] });
    expect(missing).toEqual(['gone.test']);
    expect(maxInFlight()).toBe(4);
  });

  it('fails whole on a transient target failure, so the last good set is kept rather than shrunk', async () => {
    const { resolver } = scripted({ 'A a.test': [{ address: '10.0.0.1', ttl: 5 }], 'A b.test': 'ETIMEOUT' });
    await expect(queryTargets(resolver, ['a.test', 'b.test'], 'ipv4', 8)).rejects.toMatchObject({
      kind: 'transient',
      hostname: 'b.test',
    });
  });
});
