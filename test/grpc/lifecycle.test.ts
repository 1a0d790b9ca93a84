/**
 * Subchannel lifecycle under real conditions: endpoint changes from the resolver, a server restart, the channel idle
 * timeout, two channels sharing subchannels, and grpc-js's own outlier_detection as the parent policy.
 */
import * as grpc from '@grpc/grpc-js';
import { expect, it } from 'vitest';
import { activeBalancers, channelOptions, setStaticEndpoints, setup } from '../../src/grpc/index.js';
import {
  burst,
  type Echo,
  type TestServer,
  useEchoFleet,
  waitFor,
  waitRoutable,
  who,
} from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(4);
const { servers, open } = fleet;
const balancerNamed = (name: string) => fleet.balancer(name);
const list = (ss: TestServer[]) => fleet.target(ss);
/** Subchannel ids of a client's channel, read through grpc-js's public channelz handlers. */
function subchannelIds(client: Echo): Promise<number[]> {
  const id = (client.getChannel() as unknown as { getChannelzRef(): { id: number } }).getChannelzRef().id;
  const handlers = grpc.getChannelzHandlers();
  return new Promise((resolve, reject) =>
    handlers.GetChannel(
      { request: { channel_id: id } } as never,
      ((error: Error | null, reply: unknown) => {
        if (error) reject(error);
        const refs = (reply as { channel: { subchannel_ref: { subchannel_id: number }[] } }).channel
          .subchannel_ref;
        resolve(refs.map((r) => Number(r.subchannel_id)).sort((a, b) => a - b));
      }) as never,
    ),
  );
}
it('picks up new endpoints and drains removed ones', async () => {
  const [a, b, c] = servers as [TestServer, TestServer, TestServer];
  setStaticEndpoints('drain', [a.address, b.address]);
  const client = open(
    'switchyard-static:///drain',
    channelOptions({ policy: 'round_robin', balancer: { name: 'drain' } }),
  );
  await who(client);
  await waitRoutable('drain', 2);
  expect(Object.keys(await burst(client, 20)).sort()).toEqual(['s0', 's1']);

  // A slow call in flight on b when b is removed must finish on its connection.
  b.behaviour.delayMs = 300;
  const slow = Promise.all(Array.from({ length: 4 }, () => who(client)));
  await waitFor(() => b.active > 0, 2_000, 'a call in flight on s1');
  setStaticEndpoints('drain', [a.address, c.address]);
  await waitFor(
    () =>
      balancerNamed('drain')!
        .stats()
        .endpoints.some((e) => e.address === c.address && e.condition === 'routable'),
    3_000,
    's2 connected',
  );
  const during = await burst(client, 20);
  expect(during.s1).toBeUndefined();
  expect(Object.keys(during).sort()).toEqual(['s0', 's2']);
  const slowResults = await slow;
  expect(slowResults.filter((r) => r === 's1').length).toBeGreaterThan(0);
  expect(slowResults.every((r) => !r.startsWith('ERR'))).toBe(true);
  // Drained: no state left for s1 once its calls finished.
  await waitFor(
    () =>
      !balancerNamed('drain')!
        .stats()
        .endpoints.some((e) => e.address === b.address),
    2_000,
    's1 forgotten',
  );
});

it('routes around a server that goes down and uses it again after it restarts', async () => {
  const [a, b] = servers as [TestServer, TestServer];
  const client = open(list([a, b]), channelOptions({ policy: 'round_robin', balancer: { name: 'restart' } }));
  await burst(client, 10);
  await b.stop();
  // In-flight-free calls after the GOAWAY go to the survivor only (a call racing the shutdown may fail once).
  await waitRoutable('restart', 1, 3_000);
  expect(await burst(client, 10)).toEqual({ s0: 10 });
  await b.restart();
  // grpc-js reconnects with backoff (1 s initial); the policy restarts connecting whenever the subchannel is IDLE.
  await waitRoutable('restart', 2, 8_000);
  const after = await burst(client, 10);
  expect(after).toEqual({ s0: 5, s1: 5 });
});

it('fails calls with a useful message when no endpoint can be reached', async () => {
  const [a, b] = servers as [TestServer, TestServer];
  await a.stop();
  await b.stop();
  const client = open(list([a, b]), channelOptions({ balancer: { name: 'down' } }));
  const result = await who(client, {}, 2_000);
  expect(result).toMatch(
    /^ERR 14: switchyard \(down\): no connection to any of 2 endpoints\. Last error: 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
  );
});

it('survives the channel idle timeout', async () => {
  const [a, b] = servers as [TestServer, TestServer];
  const client = open(
    list([a, b]),
    channelOptions({ balancer: { name: 'idle' } }, { options: { 'grpc.client_idle_timeout_ms': 1_000 } }),
  );
  expect(await burst(client, 6)).toSatisfy((c: Record<string, number>) => (c.s0 ?? 0) + (c.s1 ?? 0) === 6);
  const first = balancerNamed('idle');
  // grpc-js's idle timer (minimum 1 s) destroys the policy and resolver: a real wait, grpc-js's clock is not ours.
  await waitFor(() => balancerNamed('idle') === undefined, 4_000, 'the channel to go idle');
  expect(client.getChannel().getConnectivityState(false)).toBe(grpc.connectivityState.IDLE);
  const again = await burst(client, 6);
  expect((again.s0 ?? 0) + (again.s1 ?? 0)).toBe(6);
  expect(balancerNamed('idle')).not.toBe(first);
});

it('two channels with the same target and options share subchannels', async () => {
  const [a, b] = servers as [TestServer, TestServer];
  const options = channelOptions({ policy: 'round_robin', balancer: { name: 'shared' } });
  const one = open(list([a, b]), options);
  const two = open(list([a, b]), options);
  await burst(one, 10);
  await burst(two, 10);
  expect(activeBalancers().filter((x) => x.name === 'shared')).toHaveLength(2);
  // channelz lists each channel's subchannels (the policy registers them): the same ids, so the same connections.
  const [ids1, ids2] = [await subchannelIds(one), await subchannelIds(two)];
  expect(ids1).toHaveLength(2);
  expect(ids2).toEqual(ids1);
  await waitRoutable('shared', 2);
  one.close();
  // Closing one channel unrefs its subchannels; the other keeps working on them.
  expect(await burst(two, 10)).toEqual({ s0: 5, s1: 5 });
});

it('works under grpc-js outlier_detection and honours its ejections', async () => {
  const [a, b, c] = servers as [TestServer, TestServer, TestServer];
  b.behaviour.failWith = grpc.status.UNAVAILABLE;
  const client = open(
    list([a, b, c]),
    channelOptions(
      { policy: 'round_robin', balancer: { name: 'od', panicThreshold: 0 } },
      {
        grpcOutlierDetection: {
          interval: { seconds: 0, nanos: 300_000_000 },
          base_ejection_time: { seconds: 30, nanos: 0 },
          max_ejection_percent: 50,
          failure_percentage_ejection: {
            threshold: 50,
            enforcement_percentage: 100,
            minimum_hosts: 3,
            request_volume: 5,
          },
        },
      },
    ),
  );
  await who(client);
  await waitRoutable('od', 3, 3_000);
  await burst(client, 30);
  // After the next ejection sweep s1 is unhealthy to grpc-js, so the policy stops offering it.
  await waitRoutable('od', 2, 3_000);
  const after = await burst(client, 20);
  expect(after).toEqual({ s0: 10, s2: 10 });
});
