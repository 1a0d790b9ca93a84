/**
 * Endpoints and cluster settings from an xDS control plane (envoy v3 CDS + EDS over ADS), the way Envoy and
 * gRPC's xDS clients get them: the cluster's `lb_policy` selects the policy, EDS pushes endpoints, weights,
 * localities and health, and every change is pushed, not polled.
 *
 * The example starts a small ADS control plane on 127.0.0.1 (the test suite's, built on grpc-js) serving cluster
 * `orders-cluster` with three local HTTP servers, then removes one of them.
 *
 * Run: npx tsx examples/xds.ts
 */
import { Balancer } from '../src/index.js';
import { XdsResolver } from '../src/resolvers/xds/index.js';
import { startControlPlane } from '../test/helpers/xds-control-plane.js';
import { countAnswers, startServers } from './_servers.js';

const servers = await startServers([
  ['a', 1],
  ['b', 1],
  ['c', 1],
]);
const controlPlane = await startControlPlane({
  service: 'orders',
  endpoints: servers.map((s) => ({ port: s.port })),
  cluster: { lb_policy: 'LEAST_REQUEST' },
});

const balancer = new Balancer({
  resolver: new XdsResolver({
    cluster: 'orders-cluster',
    // Usually a file named by GRPC_XDS_BOOTSTRAP; an object works too.
    bootstrap: {
      xds_servers: [
        {
          server_uri: `127.0.0.1:${controlPlane.port}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: { id: 'example-client', cluster: 'examples', locality: { zone: 'a' } },
    },
  }),
  name: 'orders',
});

const updates: string[][] = [];
balancer.on('update', () =>
  updates.push(
    balancer
      .stats()
      .endpoints.filter((e) => e.condition !== 'draining')
      .map((e) => e.address),
  ),
);
const waitForEndpoints = (n: number) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (balancer.stats().endpoints.filter((e) => e.condition === 'routable').length === n) {
        balancer.off('picker', check);
        resolve();
      }
    };
    balancer.on('picker', check);
    check();
  });

await waitForEndpoints(3);
console.log(`policy from CDS: ${balancer.policy}`);
console.log('answered by (3 endpoints):', await countAnswers(balancer, 30));

// The control plane drops endpoint "c": EDS pushes the new assignment, the balancer drains it.
controlPlane.setEndpoints([{ endpoints: servers.slice(0, 2).map((s) => ({ port: s.port })) }], 'orders-eds');
await waitForEndpoints(2);
console.log('answered by (after EDS removed c):', await countAnswers(balancer, 30));
console.log('endpoint sets pushed:', updates.length);

await balancer.close();
controlPlane.forceClose();
await Promise.all(servers.map((s) => s.close()));
