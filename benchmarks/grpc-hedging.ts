/**
 * Hedging of unary gRPC calls, measured through real grpc-js servers on 127.0.0.1 in one run:
 * `npx tsx benchmarks/grpc-hedging.ts [--calls 600] [--concurrency 8] [--slow-ms 200] [--slow-rate 0.05]`.
 *
 * Three servers answer in 2 ms, except that each attempt, with probability `--slow-rate`, takes `--slow-ms` (a
 * noisy tail, independent per attempt, so a hedge to another server is usually fast). Contenders, interleaved in
 * one process: grpc-js `round_robin`, switchyard `round_robin` with retries, and the same with
 * `hedging: { delayMs: 20 }`. Reported: p50 / p99 / max call latency, server attempts per call, and the servers'
 * count of attempts the client cancelled (lost hedges).
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { channelOptions } from '../src/grpc/index.js';
import { ident, METHOD, service } from './suites/grpc.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '8' },
    'slow-ms': { type: 'string', default: '200' },
    'slow-rate': { type: 'string', default: '0.05' },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const SLOW_MS = Number(values['slow-ms']);
const SLOW_RATE = Number(values['slow-rate']);

const counters = { attempts: 0, cancelled: 0 };

async function startServer(): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(service, {
    Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      counters.attempts++;
      let answered = false;
      // grpc-js emits 'cancelled' at the end of every call: count only those cancelled before the answer.
      call.on('cancelled', () => {
        if (!answered) counters.cancelled++;
      });
      setTimeout(
        () => {
          answered = true;
          cb(null, call.request);
        },
        Math.random() < SLOW_RATE ? SLOW_MS : 2,
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, server };
}

type Contender = 'round_robin' | 'switchyard' | 'switchyard+hedging';

function client(contender: Contender, list: string): grpc.Client {
  const own = { 'grpc.primary_user_agent': `bench-${contender}` };
  if (contender === 'round_robin') {
    return new grpc.Client(`ipv4:${list}`, grpc.credentials.createInsecure(), {
      ...own,
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    });
  }
  const hedging = contender === 'switchyard+hedging' ? { hedging: { delayMs: 20 } } : {};
  return new grpc.Client(
    `switchyard-static:///${list}`,
    grpc.credentials.createInsecure(),
    channelOptions(
      {
        policy: 'round_robin',
        balancer: { name: contender },
        retry: true,
        idempotentMethods: [METHOD],
        ...hedging,
      },
      { options: own },
    ),
  );
}

function call(c: grpc.Client): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) =>
    c.makeUnaryRequest(METHOD, ident, ident, Buffer.from('x'), { deadline: Date.now() + 5_000 }, (error) =>
      error ? reject(error) : resolve(performance.now() - start),
    ),
  );
}

async function run(c: grpc.Client): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < CALLS) latencies.push(await call(c));
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return latencies.sort((a, b) => a - b);
}

const at = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const servers = await Promise.all([startServer(), startServer(), startServer()]);
const list = servers.map((s) => `127.0.0.1:${s.port}`).join(',');
const rows: string[] = [];
const order: Contender[] = process.env.BENCH_REVERSE
  ? ['switchyard+hedging', 'switchyard', 'round_robin']
  : ['round_robin', 'switchyard', 'switchyard+hedging'];
for (const contender of order) {
  const c = client(contender, list);
  for (let i = 0; i < 10; i++) await call(c);
  counters.attempts = 0;
  counters.cancelled = 0;
  const sorted = await run(c);
  await new Promise((r) => setTimeout(r, SLOW_MS + 50)); // let cancels reach the servers
  rows.push(
    `| ${contender} | ${at(sorted, 0.5).toFixed(1)} | ${at(sorted, 0.99).toFixed(1)} | ${sorted.at(-1)!.toFixed(1)} | ${(counters.attempts / CALLS).toFixed(3)} | ${counters.cancelled} |`,
  );
  c.close();
}
console.log(
  `${CALLS} calls at ${CONCURRENCY} in flight; ${SLOW_RATE * 100} % of attempts take ${SLOW_MS} ms`,
);
console.log('| contender | p50 ms | p99 ms | max ms | attempts per call | cancelled on the server |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
for (const s of servers) s.server.forceShutdown();
