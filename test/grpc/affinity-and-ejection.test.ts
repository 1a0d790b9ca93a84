/**
 * Behaviour that combines the adapter with other switchyard modules: hash-key affinity (ring_hash / maglev from the
 * hashing module) and passive outlier detection (the health module's `outlierDetection` Balancer option), against
 * real servers.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { channelOptions, setup } from '../../src/grpc/index.js';
import { burst, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(3);
const { servers } = fleet;
const open = (options: grpc.ChannelOptions) => fleet.open(fleet.target(), options);
const balancerNamed = (name: string) => fleet.balancer(name)!;

describe('hash-key affinity from a request header (gRFC A76 style)', () => {
  for (const policy of ['ring_hash', 'maglev']) {
    it(`${policy}: the same x-user goes to the same server; users spread over all`, async () => {
      const name = `affinity-${policy}`;
      const client = open(channelOptions({ policy, hashHeader: 'x-user', balancer: { name } }));
      // A call without the header has no key: the policy picks at random, and the call succeeds.
      expect(['s0', 's1', 's2']).toContain(await who(client));
      await waitRoutable(name, 3, 3_000);
      const home = new Map<string, string>();
      for (let u = 0; u < 60; u++) home.set(`user-${u}`, await who(client, { 'x-user': `user-${u}` }));
      expect(new Set(home.values())).toEqual(new Set(['s0', 's1', 's2']));
      for (let round = 0; round < 3; round++) {
        for (const [user, server] of home) expect(await who(client, { 'x-user': user })).toBe(server);
      }
      // A second channel with its own Balancer agrees: the mapping depends on the key and the endpoints only.
      const other = open(channelOptions({ policy, hashHeader: 'x-user', balancer: { name: `${name}-2` } }));
      await who(other);
      await waitRoutable(`${name}-2`, 3, 3_000);
      for (const [user, server] of [...home].slice(0, 20))
        expect(await who(other, { 'x-user': user })).toBe(server);
    });
  }
});

describe('passive outlier detection (health module)', () => {
  it('ejects a failing server and returns it after the ejection time', async () => {
    const client = open(
      channelOptions({
        policy: 'round_robin',
        balancer: {
          name: 'ejection',
          outlierDetection: {
            consecutive5xx: 3,
            baseEjectionTimeMs: 400,
            intervalMs: 100,
            maxEjectionPercent: 50,
          },
        },
      }),
    );
    await who(client);
    await waitRoutable('ejection', 3, 3_000);
    servers[1]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    await burst(client, 15);
    const s1 = () =>
      balancerNamed('ejection')
        .stats()
        .endpoints.find((e) => e.address === servers[1]!.address)!;
    expect(s1().condition).toBe('ejected');
    expect(await burst(client, 10)).toEqual({ s0: 5, s2: 5 });
    servers[1]!.behaviour.failWith = undefined;
    // The ejection timer runs on the Balancer's (system) clock: a JSON config cannot carry a ManualClock.
    await waitFor(() => s1().condition === 'routable', 3_000, 's1 returned');
    const after = await burst(client, 12);
    expect(after.s1).toBe(4);
  });
});

describe('active health checks over grpc.health.v1 (health module)', () => {
  it('stops routing to a server that reports NOT_SERVING and routes to it again once it serves', async () => {
    const client = open(
      channelOptions({
        policy: 'round_robin',
        balancer: {
          name: 'active',
          healthCheck: {
            protocol: 'grpc',
            intervalMs: 100,
            timeoutMs: 1_000,
            unhealthyThreshold: 1,
            healthyThreshold: 1,
          },
        },
      }),
    );
    await who(client);
    await waitRoutable('active', 3, 3_000);
    const s1 = () =>
      balancerNamed('active')
        .stats()
        .endpoints.find((e) => e.address === servers[1]!.address)!;
    servers[1]!.behaviour.serving = false;
    // Probes run on the Balancer's system clock every 100 ms: a real wait for a real probe.
    await waitFor(() => s1().condition === 'unhealthy', 3_000, 's1 unhealthy');
    expect(await burst(client, 10)).toEqual({ s0: 5, s2: 5 });
    servers[1]!.behaviour.serving = true;
    await waitFor(() => s1().condition === 'routable', 3_000, 's1 healthy again');
    expect((await burst(client, 12)).s1).toBe(4);
  });
});
