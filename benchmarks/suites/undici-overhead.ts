/**
 * The undici adapter's own CPU per request, without the network: every contender's Pools get undici `Client`s
 * replaced (through the Pool `factory` option) by an in-process fake that answers each request on the next
 * microtask with a fixed 200 response. What is left is undici's request/Pool machinery plus the contender's own —
 * `BalancedPool`'s extra Pool layer, or switchyard's pick, handler and (with retries) retry path. On the loopback
 * suite (`undici`) the kernel's share swamps these differences on a busy machine; here they are the whole cost.
 *
 * Metrics: `undici-overhead/<contender>` ns per request (median over interleaved rounds, order rotating each round)
 * and `undici-overhead/ratio-*` (median over rounds of each round's own ratio).
 */
import * as undici from 'undici';
import { HedgingPolicy } from '../../src/resilience/hedging.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import type { Bench } from '../harness.js';

const RAW_HEADERS = [Buffer.from('content-length'), Buffer.from('2')];
const BODY = Buffer.from('ok');
const NEW_API_HEADERS = { 'content-length': '2' };

/** A stand-in for undici's Client: accepts both handler APIs and answers 200 "ok" on the next microtask. */
class FakeClient extends undici.Dispatcher {
  override dispatch(
    _opts: undici.Dispatcher.DispatchOptions,
    handler: undici.Dispatcher.DispatchHandler,
  ): boolean {
    queueMicrotask(() => answer(handler as unknown as Record<string, (...args: unknown[]) => unknown>));
    return true;
  }
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    if (callback === undefined) return Promise.resolve();
    callback();
    return undefined;
  }
  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: unknown, b?: unknown): Promise<void> | undefined {
    const callback = typeof a === 'function' ? a : b;
    if (typeof callback === 'function') {
      callback();
      return undefined;
    }
    return Promise.resolve();
  }
}

const controller = {
  aborted: false,
  paused: false,
  reason: null,
  rawHeaders: RAW_HEADERS,
  rawTrailers: [],
  abort() {},
  pause() {},
  resume() {},
};

function answer(h: Record<string, (...args: unknown[]) => unknown>): void {
  if (typeof h.onRequestStart === 'function') {
    h.onRequestStart(controller, {});
    h.onResponseStart!(controller, 200, NEW_API_HEADERS, 'OK');
    h.onResponseData!(controller, BODY);
    h.onResponseEnd!(controller, {});
    return;
  }
  h.onConnect!(() => {});
  h.onHeaders!(200, RAW_HEADERS, () => {}, 'OK');
  h.onData!(BODY);
  h.onComplete!([]);
}

const fakeFactory = () => new FakeClient();
const fakePool = (origin: URL | string, opts: object) =>
  new undici.Pool(origin, { ...opts, factory: fakeFactory } as undici.Pool.Options);

const ENDPOINTS = ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080'];

type Contender = readonly [name: string, make: () => undici.Dispatcher];

const contenders: readonly Contender[] = [
  [
    'balanced-pool-3',
    () =>
      new undici.BalancedPool(
        ENDPOINTS.map((e) => `http://${e}`),
        { factory: fakePool } as undici.Pool.Options,
      ),
  ],
  [
    'switchyard-3',
    () => new BalancedDispatcher({ balancer: { endpoints: ENDPOINTS }, pool: { factory: fakeFactory } }),
  ],
  [
    'switchyard-retry-3',
    () =>
      new BalancedDispatcher({
        balancer: { endpoints: ENDPOINTS },
        pool: { factory: fakeFactory },
        retry: new RetryPolicy(),
      }),
  ],
  [
    'switchyard-hedge-3',
    () =>
      new BalancedDispatcher({
        balancer: { endpoints: ENDPOINTS },
        pool: { factory: fakeFactory },
        retry: new RetryPolicy(),
        hedging: new HedgingPolicy({ delayMs: 1_000 }),
      }),
  ],
];

/** ns of CPU per request for `total` requests, 16 in flight, through `undici.request`. */
async function run(dispatcher: undici.Dispatcher, total: number): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < total) {
        next++;
        const res = await undici.request('http://svc.internal/', { dispatcher });
        await res.body.dump();
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1000) / total;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export default async function suite(b: Bench): Promise<void> {
  const rounds = Number(process.env.BENCH_OVERHEAD_ROUNDS ?? 21);
  const total = Number(process.env.BENCH_OVERHEAD_REQUESTS ?? 4_000);
  // BENCH_OVERHEAD_ONLY=switchyard-3 runs one contender alone (for a CPU profile); ratios need all of them.
  const only = process.env.BENCH_OVERHEAD_ONLY?.split(',');
  const chosen = contenders.filter(([name]) => only === undefined || only.includes(name));
  const dispatchers = chosen.map(([name, make]) => [name, make()] as const);
  for (const [, d] of dispatchers) await run(d, Math.min(total, 5_000));
  const results = new Map<string, number[]>(chosen.map(([name]) => [name, []]));
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < dispatchers.length; k++) {
      const [name, d] = dispatchers[(round + k) % dispatchers.length]!;
      gc?.();
      results.get(name)!.push(await run(d, total));
    }
  }
  await Promise.all(dispatchers.map(([, d]) => d.destroy()));
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const round2 = (x: number) => Math.round(x * 100) / 100;
  for (const [name, values] of results) b.metric(`undici-overhead/${name}`, round1(median(values)));
  if (only !== undefined) return;
  const ratio = (name: string, base: string) =>
    round2(median(results.get(name)!.map((v, i) => v / results.get(base)![i]!)));
  b.metric('undici-overhead/ratio-switchyard-vs-balanced-pool', ratio('switchyard-3', 'balanced-pool-3'));
  b.metric('undici-overhead/ratio-retry-vs-default', ratio('switchyard-retry-3', 'switchyard-3'));
  b.metric('undici-overhead/ratio-hedge-vs-default', ratio('switchyard-hedge-3', 'switchyard-3'));
}
