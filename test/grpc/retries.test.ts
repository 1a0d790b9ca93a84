/**
 * Retries of grpc-js calls through switchyard's executor (the client interceptor), against real servers: where
 * attempts go, what is and is not retried, pushback, per-try timeouts, the retry budget, streaming calls, and that
 * nothing switchyard-internal reaches the server.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { channelOptions, setup, switchyardInterceptor } from '../../src/grpc/index.js';
import { burst, type Echo, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(3);
const { servers } = fleet;
const WHO = '/test.Echo/Who';

/** Calls the servers have received (answered or still being handled): a slow answer to an earlier test's call,
 * arriving later, does not change it. */
function totalCalls(): number {
  return servers.reduce((sum, s) => sum + s.calls + s.active, 0);
}

async function ready(name: string, config: Parameters<typeof channelOptions>[0]): Promise<Echo> {
  const client = fleet.open(
    fleet.target(),
    channelOptions({
      policy: 'round_robin',
      ...config,
      balancer: { name, outlierDetection: false, ...config?.balancer },
    }),
  );
  await who(client);
  await waitRoutable(name, 3, 3_000);
  return client;
}

/** Server-streaming `Watch`: resolves with the replies and the final status code. */
function watch(client: Echo, deadlineMs = 3_000): Promise<{ replies: string[]; code: number }> {
  return new Promise((resolve) => {
    const replies: string[] = [];
    const stream = client.Watch({}, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
    stream.on('data', (reply: { server: string }) => replies.push(reply.server));
    stream.on('error', () => {});
    stream.on('status', (status: grpc.StatusObject) => resolve({ replies, code: status.code }));
  });
}

describe('unary retries through the executor', () => {
  it('one server failing every call with UNAVAILABLE: every call succeeds, each retry on another server', async () => {
    const client = await ready('retry-one-down', { retry: true });
    servers[1]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    const before = servers.map((s) => s.calls);
    const counts = await burst(client, 60, 4);
    expect(counts).toEqual({ s0: expect.any(Number), s2: expect.any(Number) });
    expect((counts.s0 ?? 0) + (counts.s2 ?? 0)).toBe(60);
    // Round robin sends about a third of first attempts to s1; each failed there once and went elsewhere.
    const failedOnS1 = servers[1]!.calls - before[1]!;
    expect(failedOnS1).toBeGreaterThan(10);
    expect(totalCalls() - before.reduce((a, b) => a + b, 0)).toBe(60 + failedOnS1);
  });

  it('a retry never returns to the endpoint that failed, even when the policy would pick it again', async () => {
    // ring_hash sends every call with the same key to the same server: only the executor's exclude set moves the
    // retry elsewhere.
    const client = await ready('retry-exclude', { retry: true, policy: 'ring_hash', hashHeader: 'x-user' });
    const home = await who(client, { 'x-user': 'alice' });
    const failing = servers.find((s) => s.name === home)!;
    failing.behaviour.failWith = grpc.status.UNAVAILABLE;
    const before = failing.calls;
    const results = await Promise.all(Array.from({ length: 5 }, () => who(client, { 'x-user': 'alice' })));
    for (const r of results) expect(r).not.toMatch(/^ERR/);
    expect(new Set(results).has(home)).toBe(false);
    expect(failing.calls - before).toBe(5); // one attempt each, never a second on the same server
  });

  it('a server killed with idempotent calls in flight: those calls are retried elsewhere, none fails', async () => {
    // The dying server cancels the streams it holds (CANCELLED the caller did not ask for): a reset.
    const client = await ready('retry-killed', { retry: true, idempotentMethods: [WHO] });
    for (const s of servers) s.behaviour.delayMs = 200;
    const calls = Array.from({ length: 30 }, () => who(client, {}, 5_000));
    // Until calls are being handled there (a fixed 80 ms sleep was too short on a loaded machine).
    await waitFor(() => servers[1]!.active > 0, 3_000, 'calls in flight on s1');
    const inFlight = servers[1]!.active;
    await servers[1]!.stop();
    const results = await Promise.all(calls);
    expect(inFlight).toBeGreaterThan(0);
    expect(results.filter((r) => r.startsWith('ERR'))).toEqual([]);
  });

  it('a call the caller cancels is not retried', async () => {
    const client = await ready('retry-cancel', { retry: true, idempotentMethods: [WHO] });
    for (const s of servers) s.behaviour.delayMs = 200;
    const before = totalCalls();
    const code = await new Promise<number>((resolve) => {
      const call = client.Who({}, new grpc.Metadata(), { deadline: Date.now() + 3_000 }, (error) =>
        resolve(error?.code ?? 0),
      );
      setTimeout(() => call.cancel(), 50);
    });
    expect(code).toBe(grpc.status.CANCELLED);
    await new Promise((r) => setTimeout(r, 300));
    expect(totalCalls() - before).toBe(1);
  });

  it('without retries the same fleet loses calls (the control)', async () => {
    const client = await ready('retry-off', {});
    servers[1]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    const counts = await burst(client, 30, 1);
    expect(counts[`ERR ${grpc.status.UNAVAILABLE}: s1 fails`]).toBeGreaterThan(5);
  });

  it('nothing switchyard-internal reaches the server, on first attempts and retries', async () => {
    const client = await ready('retry-wire', { retry: true });
    servers[0]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    await burst(client, 9, 1, () => ({ 'x-mine': 'yes' }));
    for (const s of servers) {
      expect(s.lastMetadataKeys.filter((k) => k.includes('switchyard'))).toEqual([]);
      expect(s.lastMetadataKeys).toContain('x-mine');
    }
  });

  it('a non-idempotent call is retried on UNAVAILABLE only; an idempotent method on idempotentCodes too', async () => {
    const plain = await ready('retry-codes', { retry: { idempotentCodes: ['INTERNAL'] } });
    for (const s of servers) s.behaviour.failWith = grpc.status.INTERNAL;
    let before = totalCalls();
    expect(await who(plain)).toMatch(/^ERR 13/);
    expect(totalCalls() - before).toBe(1);
    const idempotent = await ready('retry-codes-idem', {
      retry: { idempotentCodes: ['INTERNAL'] },
      idempotentMethods: ['/test.Echo/*'],
    });
    before = totalCalls();
    expect(await who(idempotent)).toMatch(/^ERR 13/);
    expect(totalCalls() - before).toBe(3); // maxAttempts
    // A call marked idempotent in its metadata options counts too.
    before = totalCalls();
    const md = new grpc.Metadata({ idempotentRequest: true });
    await new Promise<void>((resolve) =>
      plain.Who({}, md, { deadline: Date.now() + 3_000 }, () => resolve()),
    );
    expect(totalCalls() - before).toBe(3);
  });

  it('honours grpc-retry-pushback-ms: waits that long; a negative one means do not retry (gRFC A6)', async () => {
    const client = await ready('retry-pushback', { retry: { maxAttempts: 2 } });
    for (const s of servers) {
      s.behaviour.failWith = grpc.status.UNAVAILABLE;
      s.behaviour.pushback = '-1';
    }
    let before = totalCalls();
    expect(await who(client)).toMatch(/^ERR 14/);
    expect(totalCalls() - before).toBe(1);
    for (const s of servers) s.behaviour.pushback = 'soon';
    before = totalCalls();
    expect(await who(client)).toMatch(/^ERR 14/);
    expect(totalCalls() - before).toBe(1);
    for (const s of servers) s.behaviour.pushback = '300';
    before = totalCalls();
    const started = Date.now();
    expect(await who(client)).toMatch(/^ERR 14/);
    expect(totalCalls() - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('a per-try timeout retries an idempotent call on another server inside the call’s deadline', async () => {
    const client = await ready('retry-per-try', {
      retry: { perTryTimeoutMs: 150 },
      idempotentMethods: [WHO],
    });
    servers[0]!.behaviour.delayMs = 2_000;
    servers[2]!.behaviour.delayMs = 2_000;
    const started = Date.now();
    const results = await Promise.all([who(client), who(client), who(client)]);
    expect(results).toEqual(['s1', 's1', 's1']);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('the call’s deadline bounds everything: DEADLINE_EXCEEDED, not a retry past it', async () => {
    const client = await ready('retry-deadline', { retry: { backoff: { baseMs: 5_000, maxMs: 5_000 } } });
    for (const s of servers) s.behaviour.failWith = grpc.status.UNAVAILABLE;
    const started = Date.now();
    const result = await who(client, {}, 300);
    // Either the backoff could not fit (the last status) or the deadline fired during it.
    expect(result).toMatch(/^ERR (14|4)/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('every server failing: attempts stay within (1 + 20 %) × calls + the budget reserve', async () => {
    const budget = { ttlMs: 1_000, minRetriesPerSec: 2, percentCanRetry: 0.2 };
    const client = await ready('retry-storm', {
      retry: { maxAttempts: 5, budget, backoff: { baseMs: 1, maxMs: 2 } },
    });
    for (const s of servers) s.behaviour.failWith = grpc.status.UNAVAILABLE;
    const before = totalCalls();
    const startedAt = Date.now();
    const calls = 150;
    const counts = await burst(client, calls, 4);
    const seconds = (Date.now() - startedAt) / 1000;
    expect(Object.keys(counts).every((k) => k.startsWith('ERR 14'))).toBe(true);
    const attempts = totalCalls() - before;
    // Reserve: minRetriesPerSec × (T + ttl) (docs/retries.md); without a budget this would be 5 × 150.
    const bound = 1.2 * calls + budget.minRetriesPerSec * (seconds + budget.ttlMs / 1000);
    expect(attempts).toBeGreaterThan(calls);
    expect(attempts).toBeLessThanOrEqual(Math.ceil(bound));
  });
});

describe('on a channel whose policy is not switchyard', () => {
  it('passes calls through untouched: no retries (no Balancer to pick from), nothing internal on the wire', async () => {
    const client = fleet.open(`ipv4:${servers.map((s) => s.address).join(',')}`, {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      interceptors: [switchyardInterceptor({ retry: true })],
    });
    await burst(client, 3);
    servers[1]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    const counts = await burst(client, 9, 1, () => ({ 'x-mine': 'yes' }));
    expect(counts['ERR 14: s1 fails']).toBe(3);
    for (const s of servers) expect(s.lastMetadataKeys.filter((k) => k.includes('switchyard'))).toEqual([]);
  });
});

describe('adaptive throttling', () => {
  it('sheds calls locally once the servers refuse most of them, and lets them through again after', async () => {
    const client = await ready('throttle', { throttle: { windowMs: 1_000 } });
    for (const s of servers) s.behaviour.failWith = grpc.status.UNAVAILABLE;
    const before = totalCalls();
    const counts = await burst(client, 200, 4);
    const local = Object.entries(counts)
      .filter(([k]) => k.includes('adaptive throttling'))
      .reduce((sum, [, n]) => sum + n, 0);
    // With K = 2 and every call refused, p climbs toward 1: most calls never leave the client.
    expect(local).toBeGreaterThan(100);
    expect(totalCalls() - before).toBe(200 - local);
    for (const s of servers) s.behaviour.failWith = undefined;
    await new Promise((r) => setTimeout(r, 1_200)); // the window slides past the failures
    expect(await burst(client, 20, 2)).toEqual({
      s0: expect.any(Number),
      s1: expect.any(Number),
      s2: expect.any(Number),
    });
  });
});

describe('server-streaming calls', () => {
  it('are retried before any response (trailers-only UNAVAILABLE)', async () => {
    const client = await ready('stream-retry', { retry: true });
    servers[0]!.behaviour.failWith = grpc.status.UNAVAILABLE;
    const results = await Promise.all([watch(client), watch(client), watch(client)]);
    for (const r of results) {
      expect(r.code).toBe(grpc.status.OK);
      expect(['s1', 's2']).toContain(r.replies[0]);
    }
    expect(servers[0]!.calls).toBeGreaterThan(0);
  });

  it('are not cut by the per-try timeout once they are streaming', async () => {
    const client = await ready('stream-per-try', {
      retry: { perTryTimeoutMs: 100 },
      idempotentMethods: ['/test.Echo/*'],
    });
    for (const s of servers) s.behaviour.streamHoldMs = 300;
    const result = await watch(client);
    expect(result.code).toBe(grpc.status.OK);
    expect(result.replies).toHaveLength(1);
  });

  it('are never retried after the first response message (gRFC A6)', async () => {
    const client = await ready('stream-committed', { retry: true });
    for (const s of servers) {
      s.behaviour.failWith = grpc.status.UNAVAILABLE;
      s.behaviour.streamMessages = 1;
    }
    const before = totalCalls();
    const result = await watch(client);
    expect(result.replies).toHaveLength(1);
    expect(result.code).toBe(grpc.status.UNAVAILABLE);
    expect(totalCalls() - before).toBe(1);
  });
});

describe('latency fed to the balancer', () => {
  it('is the time to the first response metadata, as in the undici adapter, not the length of the call', async () => {
    const estimates = async (name: string, interceptor: boolean) => {
      // A latency-aware policy: latency-blind ones only sample latency (1 response in 16).
      const options = channelOptions({ policy: 'p2c_peak_ewma', balancer: { name } });
      const client = fleet.open(fleet.target(), interceptor ? options : { ...options, interceptors: [] });
      await who(client);
      await waitRoutable(name, 3, 3_000);
      for (const s of servers) s.behaviour.streamHoldMs = 500;
      await Promise.all(Array.from({ length: 9 }, () => watch(client)));
      return Math.max(
        ...fleet
          .balancer(name)!
          .stats()
          .endpoints.map((e) => e.latencyEstimateMs),
      );
    };
    // Headers come at once, the stream ends 500 ms later (margins for a loaded machine): the highest estimate.
    expect(await estimates('latency-headers', true)).toBeLessThan(250);
    expect(await estimates('latency-whole-call', false)).toBeGreaterThan(450);
  });
});
