/**
 * The issue-16 targets, measured through real grpc-js servers on 127.0.0.1, switchyard (retries on) beside grpc-js
 * `round_robin` (alone, and with its own service-config `retryPolicy`) in the same run:
 * `npx tsx benchmarks/grpc-resilience.ts [--calls 600] [--concurrency 8]`.
 *
 * Scenarios, each with three fresh servers answering a unary call after `--delay` ms (default 5):
 * - `one-failing`: one server up but failing every call with UNAVAILABLE;
 * - `killed`: one server killed (forceShutdown) a third of the way through, with calls in flight;
 * - `rolling`: each server in turn killed and restarted 300 ms later, 2.5 s apart, under a steady 200 calls/s;
 * - `all-failing`: every server failing with UNAVAILABLE — attempts against calls and the budget bound.
 * Calls are idempotent (switchyard: `idempotentMethods`; grpc-js retryPolicy retries UNAVAILABLE).
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { channelOptions } from '../src/grpc/index.js';
import { ident, METHOD, service } from './suites/grpc.js';

interface Server {
  port: number;
  failWith: grpc.status | undefined;
  attempts: number;
  answered: number;
  server: grpc.Server | undefined;
}

async function bind(s: Server, delayMs: number): Promise<void> {
  const server = new grpc.Server();
  server.addService(service, {
    Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      s.attempts++;
      setTimeout(() => {
        s.answered++;
        if (s.failWith !== undefined) cb({ code: s.failWith, details: 'failing' });
        else cb(null, call.request);
      }, delayMs);
    },
  });
  s.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${s.port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  s.server = server;
}

async function startServers(delayMs: number): Promise<Server[]> {
  const servers: Server[] = [];
  for (let i = 0; i < 3; i++) {
    const s: Server = { port: 0, failWith: undefined, attempts: 0, answered: 0, server: undefined };
    await bind(s, delayMs);
    servers.push(s);
  }
  return servers;
}

const RETRY_POLICY = {
  maxAttempts: 3,
  initialBackoff: '0.025s',
  maxBackoff: '0.25s',
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
};

type Contender = 'switchyard' | 'round_robin' | 'round_robin+retryPolicy';

function client(contender: Contender, servers: Server[], tag: string): grpc.Client {
  const list = servers.map((s) => `127.0.0.1:${s.port}`).join(',');
  // A distinct option per run keeps grpc-js from sharing subchannels across runs.
  const own = { 'grpc.primary_user_agent': `bench-${tag}` };
  if (contender === 'switchyard') {
    return new grpc.Client(
      `switchyard-static:///${list}`,
      grpc.credentials.createInsecure(),
      channelOptions(
        { policy: 'round_robin', balancer: { name: tag }, retry: true, idempotentMethods: [METHOD] },
        { options: own },
      ),
    );
  }
  const methodConfig =
    contender === 'round_robin' ? [] : [{ name: [{ service: 'bench.Echo' }], retryPolicy: RETRY_POLICY }];
  return new grpc.Client(`ipv4:${list}`, grpc.credentials.createInsecure(), {
    ...own,
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }], methodConfig }),
  });
}

const errors = new Map<string, number>();

function call(c: grpc.Client): Promise<boolean> {
  return new Promise((resolve) =>
    c.makeUnaryRequest(METHOD, ident, ident, Buffer.from('x'), { deadline: Date.now() + 5_000 }, (error) => {
      if (error !== null && process.env.BENCH_DEBUG) {
        const key = `${error.code} ${error.details}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
      resolve(error === null);
    }),
  );
}

async function warm(c: grpc.Client): Promise<void> {
  for (let i = 0; i < 6; i++) await call(c);
}

/** `n` calls at `concurrency`; `during(i)` runs before call i is issued. */
async function load(c: grpc.Client, n: number, concurrency: number, during: (i: number) => void) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < n) {
      during(next++);
      if (!(await call(c))) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

/** Steady load: one call every 5 ms for 8.5 s (1,700 calls); server i killed at 1 + 2.5·i s, back 300 ms later. */
const ROLLING_CALLS = 1_700;

async function rolling(c: grpc.Client, servers: Server[], delayMs: number, restarts: Promise<void>[]) {
  const timers = servers.map((s, i) =>
    setTimeout(
      () => {
        s.server!.forceShutdown();
        s.server = undefined;
        restarts.push(new Promise((r) => setTimeout(r, 300)).then(() => bind(s, delayMs)));
      },
      1_000 + 2_500 * i,
    ),
  );
  const calls: Promise<boolean>[] = [];
  for (let i = 0; i < ROLLING_CALLS; i++) {
    calls.push(call(c));
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const t of timers) clearTimeout(t);
  return (await Promise.all(calls)).filter((ok) => !ok).length;
}

interface Row {
  scenario: string;
  contender: Contender;
  calls: number;
  failed: number;
  attempts: number;
  seconds: number;
}

async function scenario(
  name: string,
  contender: Contender,
  opts: { calls: number; concurrency: number; delay: number },
): Promise<Row> {
  // Killed: slower answers and more calls at once, so the killed server holds several calls (~8) when it dies.
  const delay = name === 'killed' ? opts.delay * 10 : opts.delay;
  const concurrency = name === 'killed' ? opts.concurrency * 3 : opts.concurrency;
  const servers = await startServers(delay);
  const c = client(contender, servers, `${name}-${contender}`);
  await warm(c);
  for (const s of servers) s.attempts = s.answered = 0;
  const restarts: Promise<void>[] = [];
  const third = Math.floor(opts.calls / 3);
  let killedInFlight = 0;
  const during = (i: number) => {
    if (name === 'killed' && i === third) {
      // Mid-answer for the calls just issued: calls finish in waves, so killing between waves would find none.
      setTimeout(() => {
        killedInFlight = servers[1]!.attempts - servers[1]!.answered;
        servers[1]!.server!.forceShutdown();
      }, delay / 2);
    }
  };
  if (name === 'one-failing') servers[1]!.failWith = grpc.status.UNAVAILABLE;
  if (name === 'all-failing') for (const s of servers) s.failWith = grpc.status.UNAVAILABLE;
  const started = Date.now();
  const failed =
    name === 'rolling'
      ? await rolling(c, servers, delay, restarts)
      : await load(c, opts.calls, concurrency, during);
  if (name === 'killed')
    console.log(
      `killed, ${contender}: ${killedInFlight} calls in flight on the killed server; attempts per server ${servers.map((s) => s.attempts)}`,
    );
  const seconds = (Date.now() - started) / 1000;
  await Promise.all(restarts);
  c.close();
  for (const s of servers) s.server?.forceShutdown();
  const attempts = servers.reduce((sum, s) => sum + s.attempts, 0);
  const calls = name === 'rolling' ? ROLLING_CALLS : opts.calls;
  return { scenario: name, contender, calls, failed, attempts, seconds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '600' },
      concurrency: { type: 'string', default: '8' },
      delay: { type: 'string', default: '5' },
    },
  });
  const opts = {
    calls: Number(values.calls),
    concurrency: Number(values.concurrency),
    delay: Number(values.delay),
  };
  const rows: Row[] = [];
  const only = process.env.BENCH_SCENARIO;
  for (const name of ['one-failing', 'killed', 'rolling', 'all-failing']) {
    if (only !== undefined && only !== name) continue;
    for (const contender of ['switchyard', 'round_robin', 'round_robin+retryPolicy'] as const) {
      rows.push(await scenario(name, contender, opts));
      if (errors.size > 0) console.log(name, contender, Object.fromEntries(errors));
      errors.clear();
    }
  }
  console.log('| scenario | contender | calls | failed | attempts | attempts / call |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.contender} | ${r.calls} | ${r.failed} | ${r.attempts} | ${(r.attempts / r.calls).toFixed(3)} |`,
    );
  }
  const storm = rows.find((r) => r.scenario === 'all-failing' && r.contender === 'switchyard');
  if (storm === undefined) return;
  // Default budget: 20 % + 10 retries/s with a 10 s ttl, so the reserve is 10 × (T + 10).
  const bound = 1.2 * storm.calls + 10 * (storm.seconds + 10);
  console.log(
    `\nall-failing, switchyard: ${storm.attempts} attempts for ${storm.calls} calls in ${storm.seconds.toFixed(1)} s; bound 1.2 × calls + 10 × (T + ttl) = ${bound.toFixed(0)}`,
  );
}

await main();
