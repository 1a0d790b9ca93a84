/**
 * `npm run demo`: switchyard against real local backends, in under a minute, with nothing to set up.
 *
 * Starts five backends as child processes on 127.0.0.1 — fast, slow, heavy-tailed, one that answers 503 in bursts,
 * one that is killed mid-run and comes back — then sends the same fixed workload through switchyard's undici
 * dispatcher (`BalancedDispatcher`: outlier detection, retries elsewhere under a retry budget) under round_robin,
 * least_request, p2c_peak_ewma and p2c_robust_ewma (the default), and through undici's BalancedPool for reference, and prints one row per client:
 * latency percentiles, client-visible errors, retries and each backend's share of the answers.
 *
 * Flags: `--quick` (a short run, for tests), `--requests <n>`, `--rate <per second>`.
 */
import { parseArgs } from 'node:util';
import { formatTable, type ResultRow } from '../src/sim/report.js';
import { balancedPoolClient, type DemoClient, switchyardClient } from './demo/clients.js';
import { type BackendSpec, Fleet } from './demo/fleet.js';
import { runWorkload, toRow, type Workload } from './demo/workload.js';

const BACKENDS: readonly BackendSpec[] = [
  { name: 'fast', kind: 'fast', seed: 1 },
  { name: 'slow', kind: 'slow', seed: 2 },
  { name: 'heavy', kind: 'heavy', seed: 3 },
  { name: 'flaky', kind: 'flaky', seed: 4 },
  { name: 'crashy', kind: 'crashy', seed: 5 },
];

const CLIENTS: readonly { name: string; make: (ports: number[]) => DemoClient }[] = [
  { name: 'switchyard round_robin', make: (ports) => switchyardClient('round_robin', ports) },
  { name: 'switchyard least_request', make: (ports) => switchyardClient('least_request', ports) },
  { name: 'switchyard p2c_peak_ewma', make: (ports) => switchyardClient('p2c_peak_ewma', ports) },
  { name: 'switchyard p2c_robust_ewma', make: (ports) => switchyardClient('p2c_robust_ewma', ports) },
  { name: 'undici BalancedPool', make: (ports) => balancedPoolClient(ports) },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, requests: { type: 'string' }, rate: { type: 'string' } },
  });
  const ratePerSec = Number(values.rate ?? 500);
  const requests = Number(values.requests ?? (values.quick ? 300 : 3000));
  const tty = process.stdout.isTTY === true;
  console.log(
    `switchyard demo: ${BACKENDS.length} local backends (${BACKENDS.map((b) => b.name).join(', ')}), ` +
      `${requests} GETs per client at ${ratePerSec}/s; "crashy" is killed at 30 % and restarted at 55 %.\n`,
  );
  const fleet = await Fleet.start(BACKENDS);
  const stop = () => {
    void fleet.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const rows: ResultRow[] = [];
  try {
    const ports = BACKENDS.map((b) => fleet.ports.get(b.name)!);
    // Warm up first (JIT in this process and in the backends, lazy module loading): otherwise whichever client
    // runs first pays for it with event-loop stalls of hundreds of ms and looks far worse than it is.
    const warm = switchyardClient('round_robin', ports);
    await runWorkload(
      { requests: Math.min(requests, 500), ratePerSec, events: [] },
      () => warm.send(),
      () => {},
    );
    await warm.close();
    for (const { name, make } of CLIENTS) {
      const client = make(ports);
      const workload: Workload = {
        requests,
        ratePerSec,
        events: [
          { fraction: 0.3, action: () => fleet.kill('crashy') },
          { fraction: 0.55, action: () => fleet.restart('crashy') },
        ],
      };
      const started = performance.now();
      let lastPrint = 0;
      const result = await runWorkload(
        workload,
        () => client.send(),
        (done, errors) => {
          const now = performance.now();
          if (done !== requests && now - lastPrint < (tty ? 100 : 2000)) return;
          lastPrint = now;
          const line = `${name.padEnd(26)} ${bar(done / requests)} ${String(done).padStart(5)}/${requests}  errors ${errors}`;
          if (tty) process.stdout.write(`\r${line}`);
          else console.log(line);
        },
      );
      if (tty) process.stdout.write('\n');
      const retries = client.retries?.();
      await client.close();
      const row = toRow(
        name,
        result,
        BACKENDS.map((b) => b.name),
      );
      rows.push(retries === undefined ? row : { ...row, retries });
      const kinds = [...result.errorKinds].map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(
        `  ${((performance.now() - started) / 1000).toFixed(1)} s${kinds === '' ? '' : `; errors: ${kinds}`}`,
      );
    }
  } finally {
    await fleet.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  console.log(`\n${formatTable(rows)}\n`);
  console.log(
    'share = answers per backend. Latency is per logical request (retries included), successful requests only.\n' +
      'Simulated, larger and deterministic versions of these situations: npm run simulate -- --list',
  );
}

function bar(fraction: number): string {
  const width = 24;
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
