/**
 * Endpoint state across the channel idle timeout, through real grpc-js servers on 127.0.0.1: grpc-js destroys the
 * policy when the channel idles (minimum 1 s) and builds a new one on the next call; the new instance takes back what
 * the old one learned (src/grpc/retained-state.ts). Each test fails if the state is not kept.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { expect, it } from 'vitest';
import { channelOptions, clearRetainedState, retainedEndpointCount, setup } from '../../src/grpc/index.js';
import { burst, type Echo, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(3);
const { servers, open } = fleet;
const IDLE = { 'grpc.client_idle_timeout_ms': 1_000 };

function endpointOf(name: string, address: string) {
  return fleet
    .balancer(name)
    ?.stats()
    .endpoints.find((e) => e.address === address);
}

/** Waits until grpc-js has put the channel in IDLE (policy destroyed), then wakes it without a call. */
async function idleAndWake(client: Echo, name: string): Promise<void> {
  const first = fleet.balancer(name);
  expect(first).toBeDefined();
  // grpc-js's idle timer runs on its own clock (real time, 1 s minimum): a real wait.
  await waitFor(() => fleet.balancer(name) === undefined, 5_000, `channel ${name} to go idle`);
  expect(client.getChannel().getConnectivityState(false)).toBe(grpc.connectivityState.IDLE);
  client.getChannel().getConnectivityState(true);
  await waitFor(() => fleet.balancer(name) !== undefined, 5_000, `channel ${name} to wake`);
  expect(fleet.balancer(name)).not.toBe(first);
}

it('an ejection is still in force on the first calls after the channel idled and woke', async () => {
  const [, b] = servers;
  b!.behaviour.failWith = grpc.status.UNAVAILABLE;
  const client = open(
    fleet.target(),
    channelOptions({ policy: 'round_robin', balancer: { name: 'idle-eject' } }, { options: IDLE }),
  );
  await who(client);
  await waitRoutable('idle-eject', 3);
  await burst(client, 15);
  expect(endpointOf('idle-eject', b!.address)?.condition).toBe('ejected');

  await idleAndWake(client, 'idle-eject');
  // The failing server joins the new Balancer ejected (30 s base ejection, a few seconds spent).
  await waitFor(
    () => endpointOf('idle-eject', b!.address)?.condition === 'ejected',
    5_000,
    's1 back, ejected',
  );
  await waitRoutable('idle-eject', 2, 5_000);
  const callsBefore = b!.calls;
  const after = await burst(client, 12);
  expect(after).toEqual({ s0: 6, s2: 6 });
  expect(b!.calls).toBe(callsBefore);
  const stats = endpointOf('idle-eject', b!.address)!;
  // Lifetime counters carried over too.
  expect(stats.failures).toBeGreaterThanOrEqual(5);
});

it("a slow server's latency estimate is still there after idle, and the first calls avoid it", async () => {
  const [a, b, c] = servers;
  b!.behaviour.delayMs = 150;
  const client = open(
    fleet.target(),
    channelOptions({ policy: 'p2c_peak_ewma', balancer: { name: 'idle-ewma' } }, { options: IDLE }),
  );
  await who(client);
  await waitRoutable('idle-ewma', 3);
  // Concurrent calls so that every server answers at least once (p2c soon avoids the slow one).
  await burst(client, 30, 3);
  const before = endpointOf('idle-ewma', b!.address)!;
  expect(before.picks).toBeGreaterThan(0);

  await idleAndWake(client, 'idle-ewma');
  await waitRoutable('idle-ewma', 3, 5_000);
  // Before any call on the new Balancer: the slow server's estimate (decayed over the idle seconds, τ 10 s: at most
  // ~40 % in 5 s) is still above the fast ones'. A fresh Balancer would start all three at the same default.
  const slow = endpointOf('idle-ewma', b!.address)!;
  const fast = [a!, c!].map((s) => endpointOf('idle-ewma', s.address)!);
  expect(slow.picks).toBe(before.picks);
  expect(slow.latencyEstimateMs).toBeLessThan(before.latencyEstimateMs);
  expect(slow.latencyEstimateMs).toBeGreaterThan(0.6 * before.latencyEstimateMs);
  for (const f of fast) expect(slow.latencyEstimateMs).toBeGreaterThan(f.latencyEstimateMs);
  const callsBefore = b!.calls;
  const after = await burst(client, 10);
  expect((after.s0 ?? 0) + (after.s2 ?? 0)).toBe(10);
  expect(b!.calls).toBe(callsBefore);
});

it('stateRetentionMs: 0 keeps nothing (the control: a fresh Balancer sends to the failing server again)', async () => {
  const [, b] = servers;
  b!.behaviour.failWith = grpc.status.UNAVAILABLE;
  const client = open(
    fleet.target(),
    channelOptions(
      { policy: 'round_robin', balancer: { name: 'idle-off' }, stateRetentionMs: 0 },
      { options: IDLE },
    ),
  );
  await who(client);
  await waitRoutable('idle-off', 3);
  await burst(client, 15);
  expect(endpointOf('idle-off', b!.address)?.condition).toBe('ejected');
  await idleAndWake(client, 'idle-off');
  await waitRoutable('idle-off', 3, 5_000);
  const after = await burst(client, 12);
  expect(Object.keys(after).some((k) => k.startsWith('ERR 14'))).toBe(true);
});

it('a closed channel leaves its state for its TTL only', async () => {
  clearRetainedState();
  const client = open(
    fleet.target(),
    channelOptions({ policy: 'round_robin', balancer: { name: 'closed' }, stateRetentionMs: 1_000 }),
  );
  await who(client);
  await waitRoutable('closed', 3);
  await burst(client, 6);
  client.close();
  expect(retainedEndpointCount()).toBe(3);
  // Expiry runs on the system clock (unit tests cover it with a ManualClock); sweeps are at least 1 s apart.
  await waitFor(() => retainedEndpointCount() === 0, 4_000, 'the closed channel’s state to expire');
});

const entry = fileURLToPath(new URL('../../src/grpc/index.ts', import.meta.url));

it('kept state never keeps a process alive (default 10-minute retention)', { timeout: 30_000 }, () => {
  // A fresh process: one server, one client, one call, both closed. It must exit on its own, at once.
  const script = `
    import * as grpc from '@grpc/grpc-js';
    const { channelOptions, retainedEndpointCount } = await import(${JSON.stringify(entry)});
    const server = new grpc.Server();
    const id = (b) => b;
    server.addService({ Who: { path: '/t.E/Who', requestStream: false, responseStream: false,
      requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
      { Who: (_call, cb) => cb(null, Buffer.from('ok')) });
    const port = await new Promise((res, rej) => server.bindAsync('127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const client = new grpc.Client('switchyard-static:///127.0.0.1:' + port, grpc.credentials.createInsecure(),
      channelOptions({ policy: 'round_robin' }));
    await new Promise((res, rej) => client.makeUnaryRequest('/t.E/Who', id, id, Buffer.alloc(0),
      { deadline: Date.now() + 5000 }, (e) => (e ? rej(e) : res())));
    client.close();
    server.forceShutdown();
    console.log(JSON.stringify({ retained: retainedEndpointCount(), at: performance.now() }));
  `;
  const started = Date.now();
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(JSON.parse(out.trim()).retained).toBe(1);
  expect(Date.now() - started).toBeLessThan(15_000);
});
