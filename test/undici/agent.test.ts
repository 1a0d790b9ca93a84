import * as undici from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointState } from '../../src/balancer/endpoint-state.js';
import { registerPolicy } from '../../src/balancer/policy/registry.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { BalancedAgent } from '../../src/undici/agent.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { createFetch } from '../../src/undici/fetch.js';
import { useFixture } from './fixture.js';

const fx = useFixture();
/** Agents, fetch functions and global-dispatcher changes to undo after each test (before the servers close). */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function text(url: string, dispatcher?: undici.Dispatcher): Promise<string> {
  const res = await undici.request(url, dispatcher === undefined ? {} : { dispatcher });
  return res.body.text();
}

describe('BalancedAgent', () => {
  it('validates its options', () => {
    expect(() => new BalancedAgent({} as never)).toThrow(ConfigError);
    expect(() => new BalancedAgent({ services: { 'not a url': { balancer: { endpoints: [] } } } })).toThrow(
      /services.not a url: expected an origin/,
    );
    expect(
      () => new BalancedAgent({ services: { 'http://a.internal/path': { balancer: { endpoints: [] } } } }),
    ).toThrow(/without a path/);
  });

  it('routes each logical service to its own balancer and everything else to a plain Agent', async () => {
    const orders = await fx.fast(2, 'orders');
    const users = await fx.fast(2, 'users');
    const [other] = await fx.fast(1, 'other');
    const agent = new BalancedAgent({
      services: {
        'http://orders.internal': {
          balancer: { endpoints: orders.map((s) => s.address), policy: 'round_robin' },
        },
        'http://users.internal': {
          balancer: { endpoints: users.map((s) => s.address), policy: 'round_robin' },
        },
      },
    });
    cleanups.push(() => agent.close());
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(await text('http://orders.internal/', agent));
    for (let i = 0; i < 4; i++) got.push(await text('http://users.internal/', agent));
    got.push(await text(`http://${other!.address}/`, agent));
    expect(got.sort()).toEqual([
      'orders0',
      'orders0',
      'orders1',
      'orders1',
      'other0',
      'users0',
      'users0',
      'users1',
      'users1',
    ]);
    expect(orders[0]!.hosts[0]).toBe('orders.internal');
    expect(agent.services.get('http://orders.internal')!.balancer.name).toBe('orders.internal');
  });

  it('is installable with setGlobalDispatcher: undici.request and global fetch are balanced', async () => {
    const orders = await fx.fast(2, 'orders');
    const previous = undici.getGlobalDispatcher();
    const agent = new BalancedAgent({
      services: {
        'http://orders.internal': {
          balancer: { endpoints: orders.map((s) => s.address), policy: 'round_robin' },
        },
      },
    });
    undici.setGlobalDispatcher(agent);
    cleanups.push(async () => {
      undici.setGlobalDispatcher(previous);
      await agent.close();
    });
    const got = [await text('http://orders.internal/a'), await text('http://orders.internal/b')];
    got.push(await (await globalThis.fetch('http://orders.internal/c')).text());
    got.push(await (await globalThis.fetch('http://orders.internal/d')).text());
    expect(got.sort()).toEqual(['orders0', 'orders0', 'orders1', 'orders1']);
  });
});

describe('createFetch', () => {
  it('returns a fetch that balances one service', async () => {
    const backends = await fx.fast(2, 's');
    const fetch = createFetch({
      balancer: { endpoints: backends.map((s) => s.address), policy: 'round_robin' },
    });
    cleanups.push(() => fetch.close());
    const got = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch('http://orders.internal/x', { headers: { 'x-test': '1' } });
      expect(res.status).toBe(200);
      got.push(await res.text());
    }
    expect(got.sort()).toEqual(['s0', 's0', 's1', 's1']);
    expect(fetch.dispatcher).toBeInstanceOf(BalancedDispatcher);
  });

  it('takes agent options or an existing dispatcher', async () => {
    const backends = await fx.fast(1, 's');
    const viaAgent = createFetch({
      services: { 'http://a.internal': { balancer: { endpoints: [backends[0]!.address] } } },
    });
    cleanups.push(() => viaAgent.close());
    expect(await (await viaAgent('http://a.internal/')).text()).toBe('s0');
    const shared = new BalancedDispatcher({ balancer: { endpoints: [backends[0]!.address] } });
    cleanups.push(() => shared.close());
    const viaShared = createFetch({ dispatcher: shared });
    expect(await (await viaShared('http://b.internal/')).text()).toBe('s0');
    await viaShared.close();
    expect(shared.closed).toBe(false);
    expect(() => createFetch({ dispatcher: {} as never })).toThrow(
      /dispatcher: expected an undici Dispatcher/,
    );
  });
});

describe('affinity', () => {
  // A hashing policy through the public plugin API: key → endpoint index, so the test can predict the choice.
  registerPolicy(
    {
      name: 'test_key_mod',
      description: 'picks endpoints[len(hashKey) % n] (test only)',
      parse: () => ({}),
      create: () => ({
        name: 'test_key_mod',
        build: (endpoints: readonly EndpointState[]) => ({
          pick: (ctx) => endpoints[(ctx.hashKey?.length ?? 0) % endpoints.length],
        }),
      }),
    },
    { replace: true },
  );

  it('takes the hash key from a header, a cookie or a function', async () => {
    const backends = await fx.fast(3, 's');
    const endpoints = backends.map((s) => s.address);
    const byHeader = new BalancedDispatcher({
      balancer: { endpoints, policy: 'test_key_mod' },
      hashKey: { header: 'X-User' },
    });
    const byCookie = new BalancedDispatcher({
      balancer: { endpoints, policy: 'test_key_mod' },
      hashKey: { cookie: 'sid' },
    });
    const byFunction = new BalancedDispatcher({
      balancer: { endpoints, policy: 'test_key_mod' },
      hashKey: (opts) => (opts.path.startsWith('/two') ? 'ab' : undefined),
    });
    cleanups.push(() => Promise.all([byHeader.close(), byCookie.close(), byFunction.close()]));
    const get = async (d: BalancedDispatcher, path: string, headers: Record<string, string> = {}) =>
      (await undici.request(`http://svc.internal${path}`, { dispatcher: d, headers })).body.text();
    expect(await get(byHeader, '/', { 'x-user': 'a' })).toBe('s1');
    expect(await get(byHeader, '/', { 'x-user': 'ab' })).toBe('s2');
    expect(await get(byCookie, '/', { cookie: 'theme=dark; sid=abcd' })).toBe('s1');
    expect(await get(byFunction, '/two')).toBe('s2');
    expect(await get(byFunction, '/')).toBe('s0');
  });
});
