/**
 * `switchyard-xds:` end to end: a real ADS control plane (grpc-js server with the full envoy protos) tells the
 * channel which endpoints (EDS) and which policy (CDS `lb_policy`) to use; real echo servers answer.
 */
import { beforeAll, expect, it } from 'vitest';
import { channelOptions, registerResolverScheme, setup, xdsResolverFactory } from '../../src/grpc/index.js';
import { burst, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';
import { envoyProtos, startControlPlane } from '../helpers/xds-control-plane.js';
import { localBootstrap } from '../helpers/xds-fixtures.js';

setup();

const fleet = useEchoFleet(3);
const { servers } = fleet;

beforeAll(() => {
  envoyProtos(); // loads the full envoy protos once (~1 s)
});

it('endpoints from EDS, policy from CDS, updates pushed by the control plane', async () => {
  const [a, b, c] = servers as [(typeof servers)[0], (typeof servers)[0], (typeof servers)[0]];
  const cp = await startControlPlane({
    endpoints: [{ port: a.port }, { port: b.port }],
    cluster: { lb_policy: 'LEAST_REQUEST' },
  });
  try {
    registerResolverScheme('xds-test', xdsResolverFactory({ bootstrap: localBootstrap(cp.port) }));
    const client = fleet.open(
      'xds-test:///svc-cluster',
      channelOptions({ policy: 'round_robin', balancer: { name: 'xds' } }),
    );
    expect(['s0', 's1']).toContain(await who(client));
    await waitRoutable('xds', 2);
    // CDS said LEAST_REQUEST: it replaces the channel's round_robin.
    expect(fleet.balancer('xds')!.policy).toBe('least_request');
    expect(Object.keys(await burst(client, 20, 4)).sort()).toEqual(['s0', 's1']);

    cp.setEndpoints([{ endpoints: [{ port: b.port }, { port: c.port }] }]);
    await waitFor(
      () =>
        fleet
          .balancer('xds')
          ?.stats()
          .endpoints.map((e) => e.port)
          .sort()
          .join() === [b.port, c.port].sort().join(),
      5_000,
      'the EDS update',
    );
    expect(Object.keys(await burst(client, 20, 4)).sort()).toEqual(['s1', 's2']);
  } finally {
    cp.forceClose();
  }
});

it('a cluster the control plane does not know fails calls with the resolver error', async () => {
  const cp = await startControlPlane({ endpoints: [{ port: servers[0]!.port }] });
  try {
    registerResolverScheme(
      'xds-test2',
      xdsResolverFactory({ bootstrap: localBootstrap(cp.port), initialFetchTimeoutMs: 300 }),
    );
    const client = fleet.open('xds-test2:///no-such-cluster', channelOptions({ balancer: { name: 'xds2' } }));
    expect(await who(client, {}, 3_000)).toMatch(/^ERR 14: xds-test2 resolver: .*no-such-cluster/);
  } finally {
    cp.forceClose();
  }
});
