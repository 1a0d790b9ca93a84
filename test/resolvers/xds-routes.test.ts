/**
 * XdsResolver from a listener (LDS → RDS or inline route → CDS → EDS) against a real ADS control plane: the route's
 * cluster and its header `hash_policy` (ResolverUpdate.hashHeader), updates to the route, NACKs for what cannot be
 * honoured with the last good route kept, and the `switchyard-xds:` grpc scheme hashing by the route's header.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { channelOptions, registerResolverScheme, setup, xdsResolverFactory } from '../../src/grpc/index.js';
import { XdsResolver, type XdsResolverOptions } from '../../src/resolvers/xds/xds-resolver.js';
import { useEchoFleet, waitRoutable, who } from '../helpers/grpc-servers.js';
import {
  type ControlPlane,
  type ControlPlaneOptions,
  envoyProtos,
  startControlPlane,
  TYPE,
} from '../helpers/xds-control-plane.js';
import { addressesOf, localBootstrap, recordingListener, until } from '../helpers/xds-fixtures.js';

setup();
const fleet = useEchoFleet(4);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  envoyProtos();
});

const HASH_BY = (header: string, extra: object = {}) => ({
  hash_policy: [{ header: { header_name: header, ...extra } }],
});

async function controlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ endpoints: [{ port: 8001 }, { port: 8002 }], ...options });
  cleanups.push(() => cp.forceClose());
  return cp;
}

async function started(cp: ControlPlane, options: Partial<XdsResolverOptions> = {}) {
  const rec = recordingListener();
  const r = new XdsResolver({ listener: 'svc', bootstrap: localBootstrap(cp.port), ...options });
  cleanups.push(() => r.close());
  r.start(rec.listener);
  await until(() => rec.updates.length === 1, 'the first update');
  return { rec, resolver: r };
}

/** The RouteConfiguration `svc-route` with `routeAction` on its one catch-all route. */
function routeConfig(routeAction: object, cluster = 'svc-cluster'): Record<string, object> {
  return {
    'svc-route': {
      name: 'svc-route',
      virtual_hosts: [
        {
          name: 'other',
          domains: ['other.example'],
          routes: [{ match: { prefix: '' }, route: { cluster: 'nope' } }],
        },
        {
          name: 'svc-vh',
          domains: ['*'],
          routes: [
            { match: { prefix: '/admin.' }, route: { cluster: 'admin' } },
            { match: { prefix: '' }, route: { cluster, ...routeAction } },
          ],
        },
      ],
    },
  };
}

const events = (cp: ControlPlane, kind: string, type: string) =>
  cp.events.filter((e) => e.kind === kind && e.type === type);

describe('XdsResolver from a listener', () => {
  it('follows LDS → RDS → CDS → EDS and reports the route header hash_policy as hashHeader', async () => {
    const cp = await controlPlane({ routeAction: HASH_BY('x-user') });
    const { rec } = await started(cp);
    expect(addressesOf(rec.last())).toEqual(['127.0.0.1:8001', '127.0.0.1:8002']);
    expect(rec.last().hashHeader).toBe('x-user');
    await cp.waitFor(
      () => events(cp, 'ACK', TYPE.LDS).length === 1 && events(cp, 'ACK', TYPE.RDS).length === 1,
    );
    expect(rec.errors).toEqual([]);
  });

  it('takes an inline route configuration, and no hashHeader without a header policy', async () => {
    const cp = await controlPlane({
      inlineRoute: true,
      routeAction: { hash_policy: [{ cookie: { name: 'sid' } }] },
    });
    const { rec } = await started(cp);
    expect(addressesOf(rec.last())).toHaveLength(2);
    expect(rec.last().hashHeader).toBeUndefined();
    expect(events(cp, 'REQ', TYPE.RDS)).toEqual([]);
  });

  it('applies a changed hash header; NACKs regex_rewrite and a second header policy, keeping the last good', async () => {
    const cp = await controlPlane({ routeAction: HASH_BY('x-user') });
    const { rec } = await started(cp);
    cp.update(TYPE.RDS, routeConfig(HASH_BY('x-tenant')));
    await until(() => rec.last().hashHeader === 'x-tenant', 'the new hash header');

    const rewrite = { regex_rewrite: { pattern: { regex: '^(.*)$' }, substitution: '\\1' } };
    cp.update(TYPE.RDS, routeConfig(HASH_BY('x-user', rewrite)));
    await cp.waitFor(() => events(cp, 'NACK', TYPE.RDS).length === 1);
    expect(events(cp, 'NACK', TYPE.RDS)[0]!.error).toMatch(/regex_rewrite: is not supported/);

    cp.update(
      TYPE.RDS,
      routeConfig({ hash_policy: [{ header: { header_name: 'a' } }, { header: { header_name: 'b' } }] }),
    );
    await cp.waitFor(() => events(cp, 'NACK', TYPE.RDS).length === 2);
    expect(events(cp, 'NACK', TYPE.RDS)[1]!.error).toMatch(/only one header hash policy/);
    expect(rec.last().hashHeader).toBe('x-tenant');
  });

  it('NACKs a catch-all route to weighted clusters; reports a listener without a matching virtual host', async () => {
    const cp = await controlPlane({ routeAction: HASH_BY('x-user') });
    const { rec } = await started(cp);
    cp.update(TYPE.RDS, {
      'svc-route': {
        name: 'svc-route',
        virtual_hosts: [
          {
            domains: ['*'],
            routes: [
              {
                match: { prefix: '' },
                route: { weighted_clusters: { clusters: [{ name: 'svc-cluster', weight: { value: 1 } }] } },
              },
            ],
          },
        ],
      },
    });
    await cp.waitFor(() => events(cp, 'NACK', TYPE.RDS).length === 1);
    expect(events(cp, 'NACK', TYPE.RDS)[0]!.error).toMatch(/must name one cluster/);

    cp.update(TYPE.RDS, {
      'svc-route': { name: 'svc-route', virtual_hosts: [{ domains: ['elsewhere'], routes: [] }] },
    });
    await until(() => rec.errors.some((e) => /no virtual host matches "svc"/.test(e.message)), 'the error');
    expect(addressesOf(rec.last())).toHaveLength(2);
  });

  it('rejects both or neither of cluster and listener', () => {
    expect(() => new XdsResolver({ bootstrap: localBootstrap(1) })).toThrow(
      /exactly one of cluster and listener/,
    );
    expect(() => new XdsResolver({ cluster: 'a', listener: 'b', bootstrap: localBootstrap(1) })).toThrow(
      /exactly one of cluster and listener/,
    );
  });
});

describe('switchyard-xds: with resource "listener"', () => {
  it('hashes the header the route names (no hashHeader in code): each key sticks to the ring_hash choice', {
    timeout: 20_000,
  }, async () => {
    const servers = fleet.servers;
    const cp = await controlPlane({
      endpoints: servers.map((s) => ({ port: s.port })),
      cluster: { lb_policy: 'RING_HASH' },
      routeAction: HASH_BY('x-user'),
    });
    registerResolverScheme(
      'xds-listener-test',
      xdsResolverFactory({ bootstrap: localBootstrap(cp.port), resource: 'listener' }),
    );
    const client = fleet.open('xds-listener-test:///svc', channelOptions({ balancer: { name: 'xds-l' } }));
    await who(client);
    await waitRoutable('xds-l', servers.length);
    expect(fleet.balancer('xds-l')!.policy).toBe('ring_hash');

    // The expected backend per key: a Balancer over the same listener, picking with the key itself.
    const reference = new Balancer({
      resolver: new XdsResolver({ listener: 'svc', bootstrap: localBootstrap(cp.port) }),
    });
    cleanups.push(() => reference.close());
    await until(() => reference.stats().endpoints.length === servers.length, 'reference endpoints');
    const nameByPort = new Map(servers.map((s, i) => [s.port, `s${i}`]));
    const seen = new Set<string>();
    for (let k = 0; k < 40; k++) {
      const key = `user-${k}`;
      const lease = reference.pick({ hashKey: key })!;
      lease.release({ ok: true });
      const expected = nameByPort.get(lease.endpoint.port);
      expect(await who(client, { 'x-user': key })).toBe(expected);
      expect(await who(client, { 'x-user': key })).toBe(expected);
      seen.add(expected!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
