/**
 * A small load for profiling the grpc adapter's per-call path: one client, three echo servers in a child process
 * (benchmarks/suites/grpc.ts `--serve`), unary calls at a fixed concurrency. Run under the V8 profiler:
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof benchmarks/grpc-cpu-profile.ts [variant] [calls]
 *
 * variant: `switchyard` (channelOptions, interceptor installed; default), `no-interceptor`, `retry`, or
 * `round_robin` (grpc-js's own). Prints client CPU µs per call; open the .cpuprofile in Chrome DevTools or
 * summarise it with `node benchmarks/grpc-cpu-profile.ts --summary file.cpuprofile`.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { channelOptions } from '../src/grpc/index.js';
import { ident, METHOD } from './suites/grpc.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

/** Self time by function, top 40, from a .cpuprofile. */
function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
  };
  const total = profile.samples.length;
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*\/(node_modules\/@grpc\/grpc-js\/build\/src|src)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + node.hitCount);
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 40);
  for (const [key, hits] of rows) console.log(`${((100 * hits) / total).toFixed(2).padStart(6)} %  ${key}`);
}

function options(variant: string): grpc.ChannelOptions {
  switch (variant) {
    case 'round_robin':
      return { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) };
    case 'no-interceptor':
      return { ...channelOptions({ policy: 'round_robin' }), interceptors: [] };
    case 'retry':
      return channelOptions({ policy: 'round_robin', retry: true, idempotentMethods: [METHOD] });
    default:
      return channelOptions({ policy: 'round_robin' });
  }
}

async function run(variant: string, calls: number): Promise<void> {
  const server = fileURLToPath(new URL('./suites/grpc.ts', import.meta.url));
  const child = fork(server, ['--serve'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    const ports = await new Promise<number[]>((resolve) =>
      child.once('message', (m) => resolve((m as { ports: number[] }).ports)),
    );
    const target = `ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
    const client = new grpc.Client(target, grpc.credentials.createInsecure(), options(variant));
    const payload = Buffer.from('ping');
    const one = () =>
      new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest(METHOD, ident, ident, payload, (e) => (e ? reject(e) : resolve())),
      );
    const batch = async (n: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next++ < n) await one();
        }),
      );
    };
    await batch(2_000);
    const start = process.cpuUsage();
    await batch(calls);
    const used = process.cpuUsage(start);
    console.log(
      `${variant}: ${((used.user + used.system) / calls).toFixed(2)} µs CPU/call over ${calls} calls`,
    );
    client.close();
  } finally {
    child.kill();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--summary') summarise(args[1]!);
else await run(args[0] ?? 'switchyard', Number(args[1] ?? 20_000));
