/**
 * grpc-js adapter: client CPU per call on loopback, switchyard's policy versus grpc-js's built-in `round_robin` over
 * the same three servers and the same resolver (`ipv4:` list), in the same run.
 *
 * The servers run in a child process (this file, started with `--serve`) so `process.cpuUsage()` of this process is
 * the client's alone. Variants alternate in short rounds, in rotating order (A B C, B C A, …) so drift on a shared machine hits each alike;
 * the reported ratio is the median of per-round ratios. Target: switchyard ≤ 1.05 × round_robin.
 */
import { fork } from 'node:child_process';
import type { experimental } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import { Balancer } from '../../src/balancer/balancer.js';
import { PendingPicks } from '../../src/grpc/call-tracker.js';
import { channelOptions, StatusClassifier, SwitchyardPicker } from '../../src/grpc/index.js';
import type { Bench } from '../harness.js';

/** The echo method every grpc benchmark calls (also benchmarks/grpc-resilience.ts). */
export const METHOD = '/bench.Echo/Call';
export const ident = (b: Buffer) => b;
export const service: grpc.ServiceDefinition = {
  Call: {
    path: METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: ident,
    requestDeserialize: ident,
    responseSerialize: ident,
    responseDeserialize: ident,
  },
};

/** Child mode: three echo servers on 127.0.0.1; ports sent to the parent over IPC; exits when the parent goes. */
async function serve(): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const server = new grpc.Server();
    server.addService(service, {
      Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, call.request),
    });
    ports.push(
      await new Promise<number>((res, rej) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
          e ? rej(e) : res(p),
        ),
      ),
    );
  }
  process.send?.({ ports });
  process.on('disconnect', () => process.exit(0));
}

const PAYLOAD = Buffer.from('ping');

function call(client: grpc.Client): Promise<void> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(METHOD, ident, ident, PAYLOAD, (error) => (error ? reject(error) : resolve())),
  );
}

/** Runs `n` calls at `concurrency` and returns client CPU µs per call. */
async function cpuPerCall(client: grpc.Client, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await call(client);
    }),
  );
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The policy's own work per call — pick (lease), onCallStarted, onCallEnded (release) — over three endpoints, with
 * opaque subchannels: the part of a call's CPU that switchyard adds or replaces. Divided by a whole call's CPU it
 * bounds the end-to-end ratio from above, without the noise of a shared machine.
 */
function pickPath(b: Bench, policy: string): void {
  const addresses = ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'];
  const balancer = new Balancer({ endpoints: addresses, policy, name: `bench-${policy}` });
  const subchannels = new Map(
    addresses.map((a) => [a, { a } as unknown as experimental.SubchannelInterface]),
  );
  const picker = new SwitchyardPicker({
    balancer,
    subchannels,
    pending: new PendingPicks(balancer.clock, 5_000),
    classifier: new StatusClassifier(),
    hashHeader: undefined,
    unavailableMessage: '',
  });
  const args = { metadata: new grpc.Metadata(), extraPickInfo: {} };
  const trailers = new grpc.Metadata();
  const once = () => {
    const r = picker.pick(args);
    r.onCallStarted!();
    r.onCallEnded!(grpc.status.OK, '', trailers);
    return r;
  };
  b.bench(`grpc/pick+start+end/${policy}/3`, once);
  b.allocations(`grpc/pick+start+end/${policy}/3`, once);
}

export default async function suite(b: Bench): Promise<void> {
  pickPath(b, 'round_robin');
  pickPath(b, 'p2c_peak_ewma');
  const child = fork(import.meta.filename, ['--serve'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { ports: number[] }).ports));
      child.once('error', reject);
    });
    const target = `ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
    const variants: [string, grpc.ChannelOptions][] = [
      [
        'grpc_round_robin',
        { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
      ],
      ['switchyard_round_robin', channelOptions({ policy: 'round_robin' })],
      // Without the client interceptor: latency to the end of the call, no retries (what the policy alone costs).
      [
        'switchyard_round_robin_no_interceptor',
        { ...channelOptions({ policy: 'round_robin' }), interceptors: [] },
      ],
      // Retries on, nothing failing: the interceptor's fast path plus a budget deposit per call.
      [
        'switchyard_round_robin_retry',
        channelOptions({ policy: 'round_robin', retry: true, idempotentMethods: [METHOD] }),
      ],
      ['switchyard_p2c_peak_ewma', channelOptions({ policy: 'p2c_peak_ewma' })],
    ];
    // A distinct option per client keeps the subchannel pools apart, so each variant has its own connections.
    const clients = variants.map(
      ([name, options]) =>
        new grpc.Client(target, grpc.credentials.createInsecure(), { ...options, 'bench.variant': name }),
    );
    // Many short rounds in rotating order: drift and GC pauses on a shared machine average out across variants.
    // Short batches, many rounds: on a shared machine CPU time per call drifts by 2× within seconds (frequency,
    // caches, neighbours), so variants are compared batch against neighbouring batch.
    const calls = Number(process.env.GRPC_BENCH_CALLS ?? 100);
    const concurrency = Number(process.env.GRPC_BENCH_CONCURRENCY ?? 4);
    for (let w = 0; w < 3; w++) for (const client of clients) await cpuPerCall(client, 1_000, concurrency); // JIT warm-up
    const rounds = Number(process.env.GRPC_BENCH_ROUNDS ?? 120);
    const perCall = variants.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < clients.length; k++) {
        const v = (r + k) % clients.length;
        perCall[v]!.push(await cpuPerCall(clients[v]!, calls, concurrency));
      }
    }
    for (const client of clients) client.close();
    const base = perCall[0]!;
    for (let v = 0; v < variants.length; v++) {
      const name = variants[v]![0];
      const us = median(perCall[v]!);
      b.metric(`grpc/cpu-per-call-us/${name}`, Math.round(us * 100) / 100);
      if (v > 0) {
        const ratios = perCall[v]!.map((x, i) => x / base[i]!).sort((x, y) => x - y);
        const ratio = median(ratios);
        const q1 = ratios[Math.floor(ratios.length / 4)]!;
        const q3 = ratios[Math.floor((ratios.length * 3) / 4)]!;
        b.metric(`grpc/cpu-ratio-vs-round_robin/${name}`, Math.round(ratio * 1000) / 1000);
        b.log(
          `grpc ${name}: ${us.toFixed(2)} µs CPU/call, ${ratio.toFixed(3)}× grpc-js round_robin (per-round IQR ${q1.toFixed(3)}–${q3.toFixed(3)})`,
        );
      } else {
        b.log(`grpc ${name}: ${us.toFixed(2)} µs CPU/call`);
      }
    }
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--serve') && import.meta.filename === process.argv[1]) await serve();
