/**
 * The grpc-js counterpart of benchmarks/noisy-tail.ts: `npx tsx benchmarks/noisy-tail-grpc.ts [--calls 1500]
 * [--rounds 2] [--in-flight 4,20,64]`.
 *
 * Five grpc-js servers in a child process: four answer a unary call in 5 ms, 0.3 % of calls in 60 ms; the fifth
 * in 50 ms. One client channel per contender — grpc-js `round_robin`, switchyard's default (`p2c_robust_ewma`) and
 * the default with Finagle's pick cost (`cost: 'queue'`) and classic `p2c_peak_ewma` — at 4, 20 and 64 calls in flight,
 * alternating round after round. Reports the median of the
 * rounds' p99 and the slow server's share of calls.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { channelOptions, setStaticEndpoints } from '../src/grpc/index.js';

const descriptor = {
  nested: {
    test: {
      nested: {
        WhoRequest: { fields: { key: { type: 'string', id: 1 } } },
        WhoReply: { fields: { server: { type: 'string', id: 1 } } },
        Echo: { methods: { Who: { requestType: 'WhoRequest', responseType: 'WhoReply' } } },
      },
    },
  },
};

/** Servers: `[delayMs, spikeFraction, spikeMs]` each; the reply names the server's index. */
const SERVERS_SOURCE = `
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const [descriptor, specs] = JSON.parse(process.argv[1]);
const Echo = grpc.loadPackageDefinition(protoLoader.fromJSON(descriptor, { keepCase: true })).test.Echo;
const ports = [];
let pending = specs.length;
specs.forEach(([delay, spikeP, spikeMs], i) => {
  const s = new grpc.Server();
  s.addService(Echo.service, {
    Who: (_call, callback) =>
      setTimeout(() => callback(null, { server: String(i) }), Math.random() < spikeP ? spikeMs : delay),
  });
  s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    ports[i] = port;
    if (--pending === 0) process.send(ports);
  });
});
`;

type Client = grpc.Client & {
  Who(
    request: object,
    options: grpc.CallOptions,
    callback: (e: grpc.ServiceError | null, r?: { server: string }) => void,
  ): void;
};
const Echo = (
  grpc.loadPackageDefinition(
    protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], { keepCase: true }),
  ) as unknown as { test: { Echo: grpc.ServiceClientConstructor } }
).test.Echo;

interface Run {
  readonly p99: number;
  readonly slowShare: number;
}

function call(client: Client): Promise<string> {
  return new Promise((resolve) =>
    client.Who({}, { deadline: Date.now() + 5000 }, (e, r) => resolve(e ? 'error' : r!.server)),
  );
}

async function load(client: Client, total: number, concurrency: number): Promise<Run> {
  const latencies: number[] = [];
  let slow = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const started = performance.now();
        const server = await call(client);
        latencies.push(performance.now() - started);
        if (server === '4') slow++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { p99: latencies[Math.floor(0.99 * latencies.length)]!, slowShare: slow / total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(calls: number, rounds: number, inFlight: readonly number[]): Promise<void> {
  const fast = [5, 0.003, 60];
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', SERVERS_SOURCE, JSON.stringify([descriptor, [fast, fast, fast, fast, [50, 0, 0]]])],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const [ports] = (await once(child, 'message')) as [number[]];
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const insecure = grpc.credentials.createInsecure();
  try {
    for (const concurrency of inFlight) {
      setStaticEndpoints(`noisy-${concurrency}-robust`, addresses);
      setStaticEndpoints(`noisy-${concurrency}-queue`, addresses);
      setStaticEndpoints(`noisy-${concurrency}-peak`, addresses);
      const clients: [string, Client][] = [
        [
          'grpc-js round_robin',
          new Echo(`ipv4:${addresses.join(',')}`, insecure, {
            'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
          }) as unknown as Client,
        ],
        [
          'p2c_robust_ewma (default)',
          new Echo(
            `switchyard-static:///noisy-${concurrency}-robust`,
            insecure,
            channelOptions({ balancer: { name: `robust-${concurrency}` } }),
          ) as unknown as Client,
        ],
        [
          "default, cost: 'queue'",
          new Echo(
            `switchyard-static:///noisy-${concurrency}-queue`,
            insecure,
            channelOptions({
              policy: { name: 'p2c_robust_ewma', cost: 'queue' },
              balancer: { name: `queue-${concurrency}` },
            }),
          ) as unknown as Client,
        ],
        [
          'p2c_peak_ewma',
          new Echo(
            `switchyard-static:///noisy-${concurrency}-peak`,
            insecure,
            channelOptions({ policy: 'p2c_peak_ewma', balancer: { name: `peak-${concurrency}` } }),
          ) as unknown as Client,
        ],
      ];
      for (const [, c] of clients) await load(c, 300, concurrency); // warm-up: connections, JIT, estimates
      const runs = new Map<string, Run[]>(clients.map(([name]) => [name, []]));
      for (let round = 0; round < rounds; round++) {
        for (const [name, c] of clients) runs.get(name)!.push(await load(c, calls, concurrency));
      }
      for (const [, c] of clients) c.close();
      const base = median(runs.get('grpc-js round_robin')!.map((r) => r.p99));
      console.log(`\ngrpc, ${concurrency} in flight, ${rounds} × ${calls} calls (median of rounds):`);
      for (const [name, rs] of runs) {
        const p99 = median(rs.map((r) => r.p99));
        console.log(
          `  ${name.padEnd(26)} p99 ${p99.toFixed(1).padStart(6)} ms  ×${(p99 / base).toFixed(2)} round_robin` +
            `  slow server ${(median(rs.map((r) => r.slowShare)) * 100).toFixed(2)} %` +
            `  (rounds: ${rs.map((r) => r.p99.toFixed(1)).join(', ')})`,
        );
      }
    }
  } finally {
    child.kill();
    await once(child, 'exit').catch(() => {});
  }
}

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '2' },
    'in-flight': { type: 'string', default: '4,20,64' },
  },
});
await main(Number(values.calls), Number(values.rounds), values['in-flight'].split(',').map(Number));
