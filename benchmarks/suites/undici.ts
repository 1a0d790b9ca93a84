/**
 * Loopback load runs of the undici adapter against undici's own `Pool` and `BalancedPool`, interleaved in one run
 * (each scenario's contenders alternate, round after round, and report medians) so background load on a shared
 * machine hits them alike. The backends run in a child process, so `process.cpuUsage()` here is the client's alone.
 *
 * - cpu: client CPU µs per request — Pool (1 server), BalancedPool (3), BalancedDispatcher (3), with retries on.
 * - tail: 5 servers (10 ms), one 10× slower (100 ms) — p99 latency of BalancedPool vs p2c_peak_ewma.
 * - dead: 3 servers + 1 refusing connections — client-visible failures of BalancedPool vs ours (with and without
 *   retries and outlier detection).
 *
 * Metrics (`npm run bench -- --suite undici --json`): `undici/cpu/<contender>` µs/request,
 * `undici/tail/<contender>/p99` ms, `undici/dead/<contender>/failures` count, and the ratios the issue asks for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as undici from 'undici';
import { HedgingPolicy } from '../../src/resilience/hedging.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import type { Bench } from '../harness.js';

/** Backends: `delays[i]` ms per response; `null` = a port nothing listens on (connection refused). */
const BACKENDS_SOURCE = `
const http = require('node:http');
const net = require('node:net');
const delays = JSON.parse(process.argv[1]);
const ports = [];
let pending = delays.length;
const done = () => { if (--pending === 0) process.send(ports); };
delays.forEach((delay, i) => {
  if (delay === null) {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { ports[i] = s.address().port; s.close(done); });
    return;
  }
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = () => res.end('ok');
      if (delay > 0) setTimeout(answer, delay); else answer();
    });
  });
  s.keepAliveTimeout = 60000;
  s.listen(0, '127.0.0.1', () => { ports[i] = s.address().port; done(); });
});
`;

interface Backends {
  readonly addresses: string[];
  stop(): Promise<void>;
}

async function startBackends(delays: readonly (number | null)[]): Promise<Backends> {
  const child: ChildProcess = spawn(process.execPath, ['-e', BACKENDS_SOURCE, JSON.stringify(delays)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ports] = (await once(child, 'message')) as [number[]];
  return {
    addresses: ports.map((p) => `127.0.0.1:${p}`),
    stop: async () => {
      child.kill();
      await once(child, 'exit').catch(() => {});
    },
  };
}

interface RunResult {
  readonly cpuUsPerRequest: number;
  readonly latenciesMs: number[];
  readonly failures: number;
}

/** `total` GETs through `dispatcher` at `concurrency`; client CPU, latencies and failures. */
async function load(
  dispatcher: undici.Dispatcher,
  origin: string,
  total: number,
  concurrency: number,
): Promise<RunResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const started = performance.now();
        try {
          const res = await undici.request(origin, { dispatcher });
          await res.body.dump();
          if (res.statusCode >= 500) failures++;
        } catch {
          failures++;
        }
        latenciesMs.push(performance.now() - started);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuUsPerRequest: (used.user + used.system) / total, latenciesMs, failures };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

type Contender = readonly [name: string, make: (addresses: string[]) => undici.Dispatcher];

/** Runs every contender `rounds` times, alternating, each on a fresh dispatcher after one warm-up run. */
async function interleaved(
  contenders: readonly Contender[],
  addresses: string[],
  rounds: number,
  total: number,
  concurrency: number,
  warmup = 200,
): Promise<Map<string, RunResult[]>> {
  const results = new Map<string, RunResult[]>(contenders.map(([name]) => [name, []]));
  const dispatchers = contenders.map(([name, make]) => [name, make(addresses)] as const);
  for (const [, d] of dispatchers) await load(d, 'http://svc.internal/', warmup, concurrency);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let round = 0; round < rounds; round++) {
    // Rotate who goes first: the machine's load drifts within a round too, and no contender should always meet it
    // in the same place.
    for (let k = 0; k < dispatchers.length; k++) {
      const [name, d] = dispatchers[(round + k) % dispatchers.length]!;
      // Start each run on a clean heap, so no contender pays for the garbage of the one before it.
      gc?.();
      results.get(name)!.push(await load(d, 'http://svc.internal/', total, concurrency));
    }
  }
  await Promise.all(dispatchers.map(([, d]) => d.destroy()));
  return results;
}

const origins = (addresses: string[]) => addresses.map((a) => `http://${a}`);

async function cpuScenario(b: Bench): Promise<void> {
  const backends = await startBackends([0, 0, 0]);
  try {
    const results = await interleaved(
      [
        ['pool-1', (a) => new undici.Pool(origins(a)[0]!)],
        ['balanced-pool-3', (a) => new undici.BalancedPool(origins(a))],
        ['switchyard-3', (a) => new BalancedDispatcher({ balancer: { endpoints: a } })],
        [
          'switchyard-retry-3',
          (a) => new BalancedDispatcher({ balancer: { endpoints: a }, retry: new RetryPolicy() }),
        ],
        // Hedging configured but never triggered (a 1 s delay against sub-ms responses): what it costs when idle.
        [
          'switchyard-hedge-3',
          (a) =>
            new BalancedDispatcher({
              balancer: { endpoints: a },
              retry: new RetryPolicy(),
              hedging: new HedgingPolicy({ delayMs: 1_000 }),
            }),
        ],
      ],
      backends.addresses,
      envInt('BENCH_UNDICI_ROUNDS', 7),
      envInt('BENCH_UNDICI_REQUESTS', 2_000),
      16,
    );
    // Medians, and minimums: on a shared machine contention only ever adds CPU time (cache and frequency effects),
    // so the least-disturbed round is the better estimate of the code's own cost; both are reported.
    for (const [stat, pick] of [
      ['', median],
      ['-min', (values: readonly number[]) => Math.min(...values)],
    ] as const) {
      const cpu = new Map(
        [...results].map(([name, runs]) => [name, round2(pick(runs.map((r) => r.cpuUsPerRequest)))]),
      );
      for (const [name, us] of cpu) b.metric(`undici/cpu/${name}${stat}`, us);
      const base = cpu.get('balanced-pool-3')!;
      b.metric(
        `undici/cpu/ratio-switchyard-vs-balanced-pool${stat}`,
        round2(cpu.get('switchyard-3')! / base),
      );
      b.metric(
        `undici/cpu/ratio-switchyard-retry-vs-balanced-pool${stat}`,
        round2(cpu.get('switchyard-retry-3')! / base),
      );
      // The issue's targets for retries and hedging are against the default path, measured in the same run.
      const ours = cpu.get('switchyard-3')!;
      b.metric(`undici/cpu/ratio-retry-vs-default${stat}`, round2(cpu.get('switchyard-retry-3')! / ours));
      b.metric(`undici/cpu/ratio-hedge-vs-default${stat}`, round2(cpu.get('switchyard-hedge-3')! / ours));
      b.log(`undici cpu µs/request${stat}: ${JSON.stringify(Object.fromEntries(cpu))}`);
    }
    // The steadier estimate on a busy machine: the median over rounds of each round's own ratio (the contenders of
    // one round ran seconds apart, under nearly the same load).
    const perRound = (name: string, base: string) =>
      round2(
        median(results.get(name)!.map((r, i) => r.cpuUsPerRequest / results.get(base)![i]!.cpuUsPerRequest)),
      );
    b.metric(
      'undici/cpu/round-ratio-switchyard-vs-balanced-pool',
      perRound('switchyard-3', 'balanced-pool-3'),
    );
    b.metric('undici/cpu/round-ratio-retry-vs-default', perRound('switchyard-retry-3', 'switchyard-3'));
    b.metric('undici/cpu/round-ratio-hedge-vs-default', perRound('switchyard-hedge-3', 'switchyard-3'));
  } finally {
    await backends.stop();
  }
}

async function tailScenario(b: Bench): Promise<void> {
  // Four 10 ms servers and one 100 ms server (10× slower). Server times well above this machine's event-loop
  // stalls (tens of ms with 8 processes on 2 cores), which Peak-EWMA's peak rule would otherwise take for latency.
  const backends = await startBackends([10, 10, 10, 10, 100]);
  try {
    const results = await interleaved(
      [
        ['balanced-pool', (a) => new undici.BalancedPool(origins(a))],
        [
          'p2c_peak_ewma',
          (a) => new BalancedDispatcher({ balancer: { endpoints: a, policy: 'p2c_peak_ewma' } }),
        ],
        // defaultRttMs 1 instead of 30: an endpoint's first observed latency then sets its estimate (the peak rule),
        // as Finagle's does. With the 30 ms default a 10 ms endpoint sheds it only at the EWMA's pace (τ = 10 s, so
        // longer than this whole run) and looks nearly as costly as the 100 ms one while in flight.
        [
          'p2c_peak_ewma-rtt1ms',
          (a) =>
            new BalancedDispatcher({
              balancer: { endpoints: a, policy: { name: 'p2c_peak_ewma', defaultRttMs: 1 } },
            }),
        ],
      ],
      backends.addresses,
      3,
      800,
      4,
      400,
    );
    const p99 = new Map(
      [...results].map(([name, runs]) => [
        name,
        round2(
          median(
            runs.map((r) =>
              quantile(
                [...r.latenciesMs].sort((x, y) => x - y),
                0.99,
              ),
            ),
          ),
        ),
      ]),
    );
    for (const [name, runs] of results)
      b.log(
        `${name}: ${runs
          .map((r) => {
            const s = [...r.latenciesMs].sort((x, y) => x - y);
            return `p50 ${quantile(s, 0.5).toFixed(1)} p99 ${quantile(s, 0.99).toFixed(1)} max ${s.at(-1)!.toFixed(1)} n ${s.length}`;
          })
          .join(' / ')}`,
      );
    for (const [name, ms] of p99) b.metric(`undici/tail/${name}/p99`, ms);
    b.metric(
      'undici/tail/ratio-p2c-rtt1ms-vs-balanced-pool-p99',
      round2(p99.get('p2c_peak_ewma-rtt1ms')! / p99.get('balanced-pool')!),
    );
    b.metric(
      'undici/tail/ratio-p2c-vs-balanced-pool-p99',
      round2(p99.get('p2c_peak_ewma')! / p99.get('balanced-pool')!),
    );
    b.log(`undici tail p99 ms: ${JSON.stringify(Object.fromEntries(p99))}`);
  } finally {
    await backends.stop();
  }
}

async function deadScenario(b: Bench): Promise<void> {
  const backends = await startBackends([0, 0, 0, null]);
  try {
    // Failures are counted over the whole run, warm-up included: a fresh dispatcher meets the dead server cold.
    const contenders: Contender[] = [
      ['balanced-pool', (a) => new undici.BalancedPool(origins(a))],
      // The adapter's defaults: p2c_peak_ewma, outlier detection on (Envoy defaults: 5 consecutive failures).
      ['switchyard', (a) => new BalancedDispatcher({ balancer: { endpoints: a } })],
      // For reference: without outlier detection a refusing endpoint fails fast and looks the least loaded.
      [
        'switchyard-no-outlier',
        (a) => new BalancedDispatcher({ balancer: { endpoints: a, outlierDetection: false } }),
      ],
      [
        'switchyard-retry',
        (a) => new BalancedDispatcher({ balancer: { endpoints: a }, retry: new RetryPolicy() }),
      ],
    ];
    for (const [name, make] of contenders) {
      const d = make(backends.addresses);
      const run = await load(d, 'http://svc.internal/', 600, 8);
      await d.destroy();
      b.metric(`undici/dead/${name}/failures`, run.failures);
    }
    b.metric('undici/dead/requests', 600);
  } finally {
    await backends.stop();
  }
}

/** `BENCH_UNDICI=cpu,dead` runs only those scenarios (default: all three). */
export default async function suite(b: Bench): Promise<void> {
  const only = process.env.BENCH_UNDICI?.split(',');
  const wanted = (name: string) => only === undefined || only.includes(name);
  if (wanted('cpu')) await cpuScenario(b);
  if (wanted('tail')) await tailScenario(b);
  if (wanted('dead')) await deadScenario(b);
}

/** A positive integer from the environment (shorter runs while developing), else `fallback`. */
function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
