/**
 * switchyard resolvers as grpc-js schemes: a resolver the test drives by hand behind a real channel.
 */
import { expect, it } from 'vitest';
import type { Resolver, ResolverListener, ResolverUpdate } from '../../src/balancer/resolver.js';
import type { EndpointInput } from '../../src/endpoint.js';
import { ConfigError } from '../../src/errors/index.js';
import {
  activeBalancers,
  channelOptions,
  registerResolverScheme,
  setStaticEndpoints,
  setup,
} from '../../src/grpc/index.js';
import { burst, type TestServer, useEchoFleet, waitFor, who } from '../helpers/grpc-servers.js';

setup();

/** A resolver pushed from the test, recording what grpc-js asked of it. */
class HandResolver implements Resolver {
  static instances: HandResolver[] = [];
  listener: ResolverListener | undefined;
  refreshes = 0;
  closed = false;
  constructor(readonly path: string) {
    HandResolver.instances.push(this);
  }
  start(listener: ResolverListener): void {
    this.listener = listener;
    const first = initial.get(this.path);
    if (first !== undefined)
      queueMicrotask(() => listener.onUpdate({ endpoints: first, note: 'hand: initial' }));
  }
  refresh(): void {
    this.refreshes++;
  }
  close(): void {
    this.closed = true;
  }
  push(endpoints: readonly EndpointInput[]): void {
    queueMicrotask(() => this.listener?.onUpdate({ endpoints }));
  }
  send(update: ResolverUpdate): void {
    queueMicrotask(() => this.listener?.onUpdate(update));
  }
  fail(message: string): void {
    queueMicrotask(() => this.listener?.onError(new Error(message)));
  }
}
const initial = new Map<string, readonly EndpointInput[]>();
registerResolverScheme('hand', (target) => {
  if (target.path === 'refuse') {
    throw new ConfigError({ field: 'target', allowed: 'anything but "refuse"', received: target.path });
  }
  return new HandResolver(target.path);
});

const fleet = useEchoFleet(3);
const { servers } = fleet;
const open = (target: string, name: string) =>
  fleet.open(target, channelOptions({ policy: 'round_robin', balancer: { name } }));
const live = (path: string) => HandResolver.instances.filter((r) => r.path === path && !r.closed);

it('follows pushed updates, keeps the last good list on a bad update or an error', async () => {
  const [a, b, c] = servers as [TestServer, TestServer, TestServer];
  initial.set('svc1', [a.address]);
  const client = open('hand:///svc1', 'hand1');
  expect(await burst(client, 4)).toEqual({ s0: 4 });
  const resolver = live('svc1')[0]!;
  resolver.push([a.address, { host: '127.0.0.1', port: b.port, weight: 3, locality: { zone: 'z1' } }]);
  await waitFor(
    () =>
      activeBalancers()
        .find((x) => x.name === 'hand1')
        ?.stats().routable === 2,
    3_000,
    'two',
  );
  // Endpoint attributes from the switchyard resolver reach the Balancer.
  const sb = activeBalancers()
    .find((x) => x.name === 'hand1')!
    .stats()
    .endpoints.find((e) => e.address === b.address)!;
  expect(sb).toMatchObject({ weight: 3, locality: { zone: 'z1' } });
  resolver.push([c.address, 'not an endpoint']);
  resolver.fail('lookup timed out');
  await new Promise((r) => setTimeout(r, 50));
  expect(Object.keys(await burst(client, 10)).sort()).toEqual(['s0', 's1']);
});

it('asks the resolver to refresh when an endpoint drops', async () => {
  const [a, b] = servers as [TestServer, TestServer];
  initial.set('svc2', [a.address, b.address]);
  const client = open('hand:///svc2', 'hand2');
  await burst(client, 4);
  const resolver = live('svc2')[0]!;
  const before = resolver.refreshes;
  await b.stop();
  await waitFor(() => resolver.refreshes > before, 3_000, 'a refresh');
});

it('fails calls with the resolver error while there is no good list', async () => {
  const client = open('hand:///svc3', 'hand3');
  const pending = who(client, {}, 2_000);
  await waitFor(() => live('svc3').length === 1, 2_000, 'the resolver');
  live('svc3')[0]!.fail('no such service');
  expect(await pending).toBe('ERR 14: hand resolver: no such service');
});

it('fails calls with the factory error for a target it refuses', async () => {
  const client = open('hand:///refuse', 'hand4');
  expect(await who(client, {}, 2_000)).toBe(
    'ERR 14: hand resolver: target: expected anything but "refuse", got "refuse"',
  );
});

it('rebuilds the resolver after the channel idles (grpc-js destroys and reuses it)', async () => {
  const [a] = servers as [TestServer];
  initial.set('svc5', [a.address]);
  const client = fleet.open(
    'hand:///svc5',
    channelOptions({ balancer: { name: 'hand5' } }, { options: { 'grpc.client_idle_timeout_ms': 1_000 } }),
  );
  expect(await who(client)).toBe('s0');
  const first = live('svc5')[0]!;
  await waitFor(() => first.closed, 4_000, 'idle');
  expect(await who(client)).toBe('s0');
  expect(live('svc5')).toHaveLength(1);
  expect(live('svc5')[0]).not.toBe(first);
});

it('switchyard-static: names a list set from code; unknown names fail with the known ones', async () => {
  const [a] = servers as [TestServer];
  setStaticEndpoints('named', [a.address]);
  expect(await who(open('switchyard-static:///named', 'static1'))).toBe('s0');
  expect(await who(open('switchyard-static:///nameless', 'static2'), {}, 2_000)).toMatch(
    /^ERR 14: switchyard-static resolver: target: expected "host:port,…" or the name of a service set with setStaticEndpoints\(\) \(known: .*named.*\), got "nameless"$/,
  );
  expect(() => setStaticEndpoints('named', ['nope'])).toThrow(ConfigError);
  expect(() => setStaticEndpoints('a/b', [])).toThrow(ConfigError);
});

it("a control plane's cluster policy and panic threshold override the channel config, validated first", async () => {
  const [a, b] = servers as [TestServer, TestServer];
  initial.set('svc6', [a.address, b.address]);
  const client = fleet.open(
    'hand:///svc6',
    channelOptions(
      { policy: 'round_robin', hashHeader: 'x-k', balancer: { name: 'hand6' } },
      { grpcOutlierDetection: { interval: { seconds: 10, nanos: 0 } } },
    ),
  );
  await who(client);
  const balancer = () => activeBalancers().find((x) => x.name === 'hand6');
  expect(balancer()?.policy).toBe('round_robin');
  await burst(client, 6);
  const original = balancer()!;
  const servedBefore = original.stats().endpoints.map((e) => e.successes);
  const resolver = live('svc6')[0]!;
  resolver.send({
    endpoints: [a.address, b.address],
    cluster: { policy: { name: 'least_request', choiceCount: 3 } },
  });
  await waitFor(() => balancer()?.policy === 'least_request', 2_000, 'least_request');
  // Applied in place: the same Balancer, its endpoints' history kept.
  expect(balancer()).toBe(original);
  expect(original.stats().endpoints.map((e) => e.successes)).toEqual(servedBefore);
  // The rest of the channel's config (name, hashHeader, the outlier_detection parent) is kept.
  expect(await burst(client, 6)).toSatisfy((c: Record<string, number>) => (c.s0 ?? 0) + (c.s1 ?? 0) === 6);
  // An invalid cluster policy rejects the whole update: the last good state stays.
  resolver.send({ endpoints: [a.address], cluster: { policy: 'no_such_policy' } });
  await new Promise((r) => setTimeout(r, 50));
  expect(balancer()?.policy).toBe('least_request');
  expect(balancer()?.stats().endpoints).toHaveLength(2);
  // Without cluster settings the channel's own config applies again.
  resolver.send({ endpoints: [a.address, b.address] });
  await waitFor(() => balancer()?.policy === 'round_robin', 2_000, 'back to round_robin');
  expect(balancer()).toBe(original);
});

it("a control plane's outlier detection and circuit breaker reach the channel's Balancer; a resend keeps it", async () => {
  const [a, b] = servers as [TestServer, TestServer];
  initial.set('svc7', [a.address, b.address]);
  const client = fleet.open(
    'hand:///svc7',
    channelOptions({
      policy: 'round_robin',
      balancer: { name: 'hand7', outlierDetection: { consecutive5xx: 9 } },
    }),
  );
  await who(client);
  const balancer = () => activeBalancers().find((x) => x.name === 'hand7');
  expect(balancer()?.health.outlierDetector?.options.consecutive5xx).toBe(9);
  const original = balancer()!;
  const resolver = live('svc7')[0]!;
  // The xDS resolver's flat shapes (cds.ts), with Istio's "unlimited" uint32 max.
  const cluster = {
    outlierDetection: { consecutive5xx: 2, successRateStdevFactor: 1.2 },
    circuitBreaker: { maxRequests: 64, maxPendingRequests: 4_294_967_295 },
  };
  resolver.send({ endpoints: [a.address, b.address], cluster });
  await waitFor(() => balancer()?.health.outlierDetector?.options.consecutive5xx === 2, 2_000, 'the cluster');
  const applied = balancer()!;
  // In place: the Balancer the channel had (its estimates, ejections, in-flight counts survive a settings change).
  expect(applied).toBe(original);
  expect(applied.health.outlierDetector?.options.successRate.stdevFactor).toBe(1.2);
  expect(applied.limits).toEqual({ maxRequests: 64, maxRequestsPerEndpoint: 64, maxPending: 1_000_000_000 });
  resolver.send({ endpoints: [a.address, b.address], cluster: structuredClone(cluster) });
  expect(await burst(client, 4)).toSatisfy((c: Record<string, number>) => (c.s0 ?? 0) + (c.s1 ?? 0) === 4);
  expect(balancer()).toBe(applied);
  // Without cluster settings the channel's own config applies again.
  resolver.send({ endpoints: [a.address, b.address] });
  await waitFor(() => balancer()?.health.outlierDetector?.options.consecutive5xx === 9, 2_000, 'back');
  expect(balancer()?.limits.maxRequests).toBe(Number.POSITIVE_INFINITY);
});

it('calls made before the first resolution wait for it, up to their deadline, retries on or off', async () => {
  // Every switchyard scheme (static, DNS, xDS, registered ones) goes through this same wrapper.
  const [a] = servers as [TestServer];
  for (const retry of [false, true]) {
    const path = `late-${retry}`;
    const client = fleet.open(
      `hand:///${path}`,
      channelOptions({ policy: 'round_robin', balancer: { name: path }, retry }),
    );
    // No answer yet: a call with a short deadline ends with DEADLINE_EXCEEDED, not an early UNAVAILABLE...
    expect(await who(client, {}, 150)).toMatch(/^ERR 4:/);
    // ...and one issued now succeeds once the resolver answers, 300 ms later.
    const pending = who(client, {}, 3_000);
    await new Promise((r) => setTimeout(r, 300));
    live(path)[0]!.push([a.address]);
    expect(await pending).toBe('s0');
  }
});
