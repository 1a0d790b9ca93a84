/**
 * Hedged unary gRPC calls through the shared executor (`channelOptions({ hedging })`), against real grpc-js servers:
 * a slow server and a fast one. A call whose first attempt is still unanswered after the hedge delay is sent again to
 * the other server; the first answer wins and the slow attempt is cancelled on the server. Only methods declared
 * idempotent are hedged, hedges are paid from the retry budget, and nothing internal goes on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { channelOptions, setup } from '../../src/grpc/index.js';
import { HedgingPolicy } from '../../src/resilience/hedging.js';
import { type Echo, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const fleet = useEchoFleet(2);
const { servers } = fleet;
const WHO = '/test.Echo/Who';
const SLOW_MS = 1_500;

async function ready(name: string, config: Parameters<typeof channelOptions>[0]): Promise<Echo> {
  const client = fleet.open(
    fleet.target(),
    channelOptions({ policy: 'round_robin', ...config, balancer: { name, ...config?.balancer } }),
  );
  await who(client);
  await waitRoutable(name, 2, 3_000);
  return client;
}

/** Sequential calls; each one's answer and how long it took. */
async function timedCalls(client: Echo, n: number): Promise<{ answer: string; ms: number }[]> {
  const results: { answer: string; ms: number }[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const answer = await who(client, { 'x-mine': 'yes' }, 5_000);
    results.push({ answer, ms: performance.now() - start });
  }
  return results;
}

describe('hedged unary calls', () => {
  it('a slow first attempt is hedged to the fast server: the fast answer wins, the slow attempt is cancelled', async () => {
    const hedging = new HedgingPolicy({ delayMs: 30 });
    const client = await ready('hedge-fast-wins', { hedging, idempotentMethods: [WHO] });
    const [slow, fast] = servers;
    slow!.behaviour.delayMs = SLOW_MS;
    const before = { slowActive: slow!.active, cancelled: slow!.cancelled, fastCalls: fast!.calls };
    const results = await timedCalls(client, 6);
    // Round robin sends every other first attempt to the slow server; each of those was hedged to the fast one.
    expect(results.map((r) => r.answer)).toEqual(Array(6).fill('s1'));
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(SLOW_MS / 3);
    const hedged = hedging.stats();
    expect(hedged.hedges).toBeGreaterThanOrEqual(2);
    expect(hedged.won).toBe(hedged.hedges);
    // Every hedged call's slow attempt was cancelled: the server saw its stream cancelled.
    // Well before the slow server would have answered (SLOW_MS).
    await waitFor(() => slow!.cancelled - before.cancelled === hedged.hedges, 700, 'server-side cancels');
    expect(fast!.calls - before.fastCalls).toBe(6);
    // Cancelled attempts are released once, as cancelled: nothing in flight, no failure against the slow server.
    const stats = fleet.balancer('hedge-fast-wins')!.stats();
    expect(stats.totalInFlight).toBe(0);
    for (const e of stats.endpoints) expect(e.failures).toBe(0);
    expect(stats.endpoints.every((e) => e.condition === 'routable')).toBe(true);
    // Nothing switchyard-internal on the wire, on first attempts or hedges.
    for (const s of servers) {
      expect(s.lastMetadataKeys.filter((k) => k.includes('switchyard'))).toEqual([]);
      expect(s.lastMetadataKeys).toContain('x-mine');
    }
    expect(slow!.active - before.slowActive).toBeLessThanOrEqual(hedged.hedges);
  });

  it('a method not declared idempotent is never hedged: its call waits for the slow server', async () => {
    const hedging = new HedgingPolicy({ delayMs: 30 });
    const client = await ready('hedge-not-idempotent', { hedging });
    servers[0]!.behaviour.delayMs = 400;
    const results = await timedCalls(client, 4);
    expect(hedging.stats().hedges).toBe(0);
    expect(results.filter((r) => r.answer === 's0').length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((x) => x.answer === 's0')) expect(r.ms).toBeGreaterThan(350);
  });

  it('the per-call idempotentRequest option makes a call hedgeable too', async () => {
    const hedging = new HedgingPolicy({ delayMs: 30 });
    const client = await ready('hedge-per-call', { hedging });
    servers[0]!.behaviour.delayMs = SLOW_MS;
    const answers = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((resolve) => {
            const md = new grpc.Metadata({ idempotentRequest: true });
            client.Who({}, md, { deadline: Date.now() + 5_000 }, (error, reply) =>
              resolve(error ? `ERR ${error.code}` : reply!.server),
            );
          }),
      ),
    );
    expect(answers).toEqual(['s1', 's1', 's1', 's1']);
    expect(hedging.stats().hedges).toBeGreaterThanOrEqual(1);
  });

  it('hedges are paid from the retry budget: with every server slow, hedges stay within its bound', async () => {
    const budget = { ttlMs: 1_000, minRetriesPerSec: 1, percentCanRetry: 0.1 };
    const hedging = new HedgingPolicy({ delayMs: 5 });
    const client = await ready('hedge-budget', {
      hedging,
      retry: { budget },
      idempotentMethods: [WHO],
    });
    for (const s of servers) s.behaviour.delayMs = 60;
    const startedAt = Date.now();
    const calls = 40;
    await Promise.all(Array.from({ length: 4 }, () => timedCalls(client, calls / 4)));
    const seconds = (Date.now() - startedAt) / 1000;
    const { hedges, budgetExhausted } = hedging.stats();
    // Without the budget every call would have been hedged (both servers take 60 ms, the delay is 5 ms).
    expect(hedges + budgetExhausted).toBe(calls);
    expect(budgetExhausted).toBeGreaterThan(0);
    expect(hedges).toBeLessThanOrEqual(
      Math.ceil(budget.percentCanRetry * calls + budget.minRetriesPerSec * (seconds + budget.ttlMs / 1000)),
    );
  });

  it('every attempt slower than the deadline: DEADLINE_EXCEEDED at the deadline, every lease given back', async () => {
    const hedging = new HedgingPolicy({ delayMs: 20 });
    const client = await ready('hedge-deadline', { hedging, retry: true, idempotentMethods: [WHO] });
    for (const s of servers) s.behaviour.delayMs = SLOW_MS;
    const start = performance.now();
    const answer = await who(client, {}, 300);
    const ms = performance.now() - start;
    expect(answer).toMatch(/^ERR 4:/);
    expect(ms).toBeLessThan(SLOW_MS / 2);
    expect(hedging.stats().hedges).toBe(1);
    await waitFor(
      () => fleet.balancer('hedge-deadline')!.stats().totalInFlight === 0,
      1_000,
      'leases released',
    );
  });

  // grpc-js picks a call again when the picked subchannel left READY while call credentials were generated
  // (load-balancing-call.ts). Call credentials that take their time hold attempt 1 between its pick and its start:
  // the hedge (20 ms) adopts it meanwhile, then its server stops, and grpc-js re-picks it onto the other server.
  // Credential delays per generation (attempt 1, the hedge, the re-pick) decide which attempt answers first.
  it.each([
    ['the re-picked attempt 1 wins', [600, 1_200, 0], 0],
    ['the hedge wins; the re-picked attempt 1 is cancelled before it starts', [800, 800, 800], 1],
  ])(
    'attempt 1 picked again after the executor adopted it — %s: one answer, every lease back at once',
    async (_case, delays, hedgeWins) => {
      const hedging = new HedgingPolicy({ delayMs: 20 });
      const client = await ready(`hedge-repick-${hedgeWins}`, { hedging, idempotentMethods: [WHO] });
      // Round robin over two: the next attempt 1 goes to the server the last call did not.
      const last = await who(client);
      const [first, other] = last === 's0' ? [servers[1]!, servers[0]!] : [servers[0]!, servers[1]!];
      const balancer = fleet.balancer(`hedge-repick-${hedgeWins}`)!;
      const picksOf = (address: string) =>
        balancer.stats().endpoints.find((e) => e.address === address)?.picks ?? 0;
      const otherPicks = picksOf(other.address);
      let generation = 0;
      const slowCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
        const delay = delays[Math.min(generation++, delays.length - 1)]!;
        setTimeout(() => callback(null, new grpc.Metadata()), delay);
      });
      const answer = who(client, {}, 5_000, { credentials: slowCredentials });
      await waitFor(() => hedging.stats().hedges === 1, 1_000, 'the hedge');
      await first.stop();
      expect(await answer).toBe(other.name);
      // Three credential generations: attempt 1, the hedge, and attempt 1 again (the re-pick).
      expect(generation).toBe(3);
      expect(hedging.stats().won).toBe(hedgeWins);
      // The hedge and the re-picked attempt 1 both went to the other server: two picks there for one call.
      expect(picksOf(other.address) - otherPicks).toBe(2);
      // No slot waits for the unstarted-pick sweep (5 s): the abandoned first pick's lease is given back at the
      // re-pick (an executor's later release of it is ignored), and a re-pick cancelled before its call started when
      // the executor abandons it. Nothing in flight at once, and never below zero.
      await waitFor(() => balancer.stats().totalInFlight === 0, 300, 'every lease back');
      for (const e of balancer.stats().endpoints) expect(e.inFlight).toBe(0);
      expect(await who(client)).toBe(other.name);
      expect(balancer.stats().totalInFlight).toBe(0);
    },
  );

  it('server-streaming calls are never hedged', async () => {
    const hedging = new HedgingPolicy({ delayMs: 0 });
    const client = await ready('hedge-stream', { hedging, idempotentMethods: ['/test.Echo/*'] });
    for (const s of servers) s.behaviour.streamHoldMs = 100;
    const codes = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<number>((resolve) => {
            const stream = client.Watch({}, new grpc.Metadata(), { deadline: Date.now() + 3_000 });
            stream.on('data', () => {});
            stream.on('error', () => {});
            stream.on('status', (status: grpc.StatusObject) => resolve(status.code));
          }),
      ),
    );
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(hedging.stats().hedges).toBe(0);
  });
});

describe('hedging options', () => {
  it('are validated by the undici adapter’s parser, with the field named', () => {
    expect(() => channelOptions({ hedging: {} })).toThrow(ConfigError);
    expect(() => channelOptions({ hedging: { delayMs: -1 } })).toThrow(/hedging\.delayMs/);
    expect(() => channelOptions({ hedging: { delayMs: 10, maxHedges: 9 } })).toThrow(/hedging\.maxHedges/);
  });

  it('are refused together with grpc-js’s own hedgingPolicy or retryPolicy (both would repeat the same calls)', () => {
    const serviceConfig = (key: string) =>
      JSON.stringify({ methodConfig: [{ name: [{ service: 'test.Echo' }], [key]: {} }] });
    for (const key of ['hedgingPolicy', 'retryPolicy']) {
      expect(() =>
        channelOptions(
          { hedging: { delayMs: 10 } },
          { options: { 'grpc.service_config': serviceConfig(key) } },
        ),
      ).toThrow(new RegExp(`methodConfig\\[0\\]\\.${key}`));
    }
  });
});
