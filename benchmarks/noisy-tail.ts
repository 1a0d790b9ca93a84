/**
 * Real loopback check of the default policy under ordinary noise (issue 12):
 * `npx tsx benchmarks/noisy-tail.ts [--requests 1500] [--rounds 2] [--in-flight 4,20,64] [--sim]`.
 *
 * Five node:http servers in a child process: four answer in 5 ms, but 0.3 % of their requests take 60 ms (the
 * fleet issue 12 measured: a GC pause, a noisy neighbour); the fifth answers steadily in 50 ms. The client's own
 * event-loop stalls on this shared machine add the rest of the noise. Through undici's `BalancedPool` (round robin) and `BalancedDispatcher` with the default
 * (`p2c_robust_ewma`), the default with Finagle's pick cost (`cost: 'queue'`, to show what the concurrent-server
 * cost does) and classic `p2c_peak_ewma`, at 4, 20 and 64 requests in flight. Contenders alternate round
 * after round on the same servers (so background load hits them alike); each reports the median of its rounds'
 * p99 and the share of requests the slow server answered. The same fleet as `docs/simulator.md`'s sim-vs-reality
 * table, which runs it through the simulator too (`--sim`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import * as undici from 'undici';
import { parseFleetConfig } from '../src/sim/config.js';
import { simulate } from '../src/sim/engine.js';
import { BalancedDispatcher } from '../src/undici/dispatcher.js';

const FAST_MS = 5;
const SLOW_MS = 50;
const SPIKE_FRACTION = 0.003;
const SPIKE_MS = 60;

/** Servers: `[delayMs, spikeFraction, spikeMs]` each; answers carry the server's index in `x-server`. */
const BACKENDS_SOURCE = `
const http = require('node:http');
const specs = JSON.parse(process.argv[1]);
const ports = [];
let pending = specs.length;
specs.forEach(([delay, spikeP, spikeMs], i) => {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.setHeader('x-server', String(i));
        res.end('ok');
      }, Math.random() < spikeP ? spikeMs : delay);
    });
  });
  s.keepAliveTimeout = 60000;
  s.listen(0, '127.0.0.1', () => { ports[i] = s.address().port; if (--pending === 0) process.send(ports); });
});
`;

async function startBackends(specs: readonly (readonly [number, number, number])[]) {
  const child: ChildProcess = spawn(process.execPath, ['-e', BACKENDS_SOURCE, JSON.stringify(specs)], {
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

interface Run {
  readonly p99: number;
  readonly slowShare: number;
}

async function load(dispatcher: undici.Dispatcher, total: number, concurrency: number): Promise<Run> {
  const latencies: number[] = [];
  let slow = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const started = performance.now();
        const res = await undici.request('http://svc.internal/', { dispatcher });
        await res.body.dump();
        latencies.push(performance.now() - started);
        if (res.headers['x-server'] === '4') slow++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { p99: latencies[Math.floor(0.99 * latencies.length)]!, slowShare: slow / total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Contender = readonly [string, (addresses: string[]) => undici.Dispatcher];
const contenders: Contender[] = [
  ['BalancedPool', (a) => new undici.BalancedPool(a.map((x) => `http://${x}`))],
  ['p2c_robust_ewma (default)', (a) => new BalancedDispatcher({ balancer: { endpoints: a } })],
  [
    "default, cost: 'queue'",
    (a) =>
      new BalancedDispatcher({
        balancer: { endpoints: a, policy: { name: 'p2c_robust_ewma', cost: 'queue' } },
      }),
  ],
  ['p2c_peak_ewma', (a) => new BalancedDispatcher({ balancer: { endpoints: a, policy: 'p2c_peak_ewma' } })],
];

async function real(requests: number, rounds: number, inFlight: readonly number[]): Promise<void> {
  const fast = [FAST_MS, SPIKE_FRACTION, SPIKE_MS] as const;
  const backends = await startBackends([fast, fast, fast, fast, [SLOW_MS, 0, 0]]);
  try {
    for (const concurrency of inFlight) {
      const dispatchers = contenders.map(([name, make]) => [name, make(backends.addresses)] as const);
      for (const [, d] of dispatchers) await load(d, 300, concurrency); // warm-up: connections, JIT, estimates
      const runs = new Map<string, Run[]>(contenders.map(([name]) => [name, []]));
      for (let round = 0; round < rounds; round++) {
        for (const [name, d] of dispatchers) runs.get(name)!.push(await load(d, requests, concurrency));
      }
      await Promise.all(dispatchers.map(([, d]) => d.destroy()));
      const base = median(runs.get('BalancedPool')!.map((r) => r.p99));
      console.log(`\nreal, ${concurrency} in flight, ${rounds} × ${requests} requests (median of rounds):`);
      for (const [name, rs] of runs) {
        const p99 = median(rs.map((r) => r.p99));
        const share = median(rs.map((r) => r.slowShare));
        console.log(
          `  ${name.padEnd(26)} p99 ${p99.toFixed(1).padStart(6)} ms  ×${(p99 / base).toFixed(2)} BalancedPool` +
            `  slow server ${(share * 100).toFixed(2)} %  (rounds: ${rs.map((r) => r.p99.toFixed(1)).join(', ')})`,
        );
      }
    }
  } finally {
    await backends.stop();
  }
}

/** The same fleet in the simulator: one client, closed loop approximated by Poisson arrivals at the same rate. */
function sim(inFlight: readonly number[]): void {
  for (const concurrency of inFlight) {
    // A closed loop of `concurrency` requests at ~6 ms each runs at about concurrency / 6 ms.
    const ratePerSec = (concurrency * 1000) / 6.5;
    const result = simulate(
      parseFleetConfig({
        seed: 1,
        durationMs: 20_000,
        clients: 1,
        arrivals: { type: 'poisson', ratePerSec },
        backends: [
          {
            name: 'fast',
            count: 4,
            concurrency: 1000,
            serviceTime: { type: 'bimodal', fastMs: FAST_MS, slowMs: SPIKE_MS, slowFraction: SPIKE_FRACTION },
          },
          { name: 'slow', concurrency: 1000, serviceTime: { type: 'constant', ms: SLOW_MS } },
        ],
        configurations: [
          { name: 'round_robin', policy: 'round_robin' },
          { name: 'p2c_robust_ewma', policy: 'p2c_robust_ewma' },
          { name: "default, cost: 'queue'", policy: { name: 'p2c_robust_ewma', cost: 'queue' } },
          { name: 'p2c_peak_ewma', policy: 'p2c_peak_ewma' },
        ],
      }),
    );
    const base = result.configurations[0]!.latency.p99;
    console.log(`\nsimulated, ~${concurrency} in flight (Poisson ${Math.round(ratePerSec)}/s):`);
    for (const c of result.configurations) {
      const share = c.backends.find((b) => b.group === 'slow')!.share;
      console.log(
        `  ${c.name.padEnd(26)} p99 ${c.latency.p99.toFixed(1).padStart(6)} ms  ×${(c.latency.p99 / base).toFixed(2)} round robin` +
          `  slow server ${(share * 100).toFixed(2)} %`,
      );
    }
  }
}

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '2' },
    sim: { type: 'boolean', default: false },
    'in-flight': { type: 'string', default: '4,20,64' },
  },
});
const inFlight = values['in-flight'].split(',').map(Number);
if (values.sim) sim(inFlight);
await real(Number(values.requests), Number(values.rounds), inFlight);
