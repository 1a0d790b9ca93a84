/**
 * Runs every example, the simulator CLI and the demo as a user would (a child process through tsx), against the
 * local servers each starts itself, and checks they finish cleanly with the output they promise.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dnsmasqAvailability } from './helpers/dnsmasq.js';

const ROOT = new URL('..', import.meta.url).pathname;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(script: string, args: readonly string[] = [], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Processes whose command line mentions `needle` (Linux /proc; elsewhere nothing can be checked: empty). */
function processesMatching(needle: string): string[] {
  const found: string[] = [];
  if (!existsSync('/proc/self/cmdline')) return found;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

describe('examples', () => {
  it('balancer-basics: picks, releases and prints per-endpoint stats', async () => {
    const r = await run('examples/balancer-basics.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/answers per backend: \{.*'fast-a': \d+/);
    expect(r.stdout.match(/picks \d+/g)).toHaveLength(3);
  });

  it('prometheus: exports balancer stats and channel events in the Prometheus text format', async () => {
    const r = await run('examples/prometheus.ts');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/# TYPE switchyard_endpoint_requests_total counter/);
    const successes = [
      ...r.stdout.matchAll(/switchyard_endpoint_requests_total\{[^}]*outcome="success"\} (\d+)/g),
    ].map((m) => Number(m[1]));
    expect(successes.reduce((a, b) => a + b, 0)).toBe(100);
    expect(r.stdout).toMatch(/switchyard_events_total\{balancer="orders",event="endpointRemoved"\} 1/);
  });
});

describe('undici examples', () => {
  it('undici-request: a BalancedDispatcher retries a broken endpoint away and ejects it', async () => {
    const r = await run('examples/undici-request.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("statuses seen by the caller: { '200': 60 }");
    expect(r.stdout).toMatch(/answered by: \{ a: \d+, b: \d+ \}/);
    expect(r.stdout).toMatch(/127\.0\.0\.1:\d+ ejected/);
  });

  it('fetch-wrapper: createFetch balances every call (round robin order)', async () => {
    const r = await run('examples/fetch-wrapper.ts');
    expect(r.code).toBe(0);
    const order = /answered by, in order: ((?:[abc] ?){6})/.exec(r.stdout)?.[1]?.trim().split(' ');
    expect(order).toHaveLength(6);
    expect(order!.slice(3)).toEqual(order!.slice(0, 3));
    expect(new Set(order)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('global-dispatcher: a BalancedAgent balances known services and passes the rest through', async () => {
    const r = await run('examples/global-dispatcher.ts');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/'not-balanced': 1/);
    expect(r.stdout).toMatch(/'orders-1': 6,\s+'orders-2': 6/);
    const users = [...r.stdout.matchAll(/'users-\d': (\d+)/g)].map((m) => Number(m[1]));
    expect(users).toHaveLength(3);
    expect(users.reduce((a, b) => a + b, 0)).toBe(12);
  });
});

describe('grpc-js example', () => {
  it('grpc-client: the switchyard LB policy through channelOptions(), the slow server gets fewer calls', async () => {
    const r = await run('examples/grpc-client.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /answered by: \{ a: (\d+), b: (\d+), slow: (\d+) \}/.exec(r.stdout);
    expect(m).not.toBeNull();
    const [a, b, slow] = m!.slice(1).map(Number) as [number, number, number];
    expect(a + b + slow).toBe(200);
    expect(slow).toBeLessThan(Math.max(a, b));
  });
});

// dnsmasq is the real DNS server the example starts: skip locally when it is missing, fail under CI (see .ci/run).
const dnsmasq = dnsmasqAvailability();

describe('DNS examples', () => {
  it.skipIf(dnsmasq === 'skip')('dns-srv: endpoints, ports and weights from SRV records', async () => {
    const r = await run('examples/dns-srv.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/127\.0\.0\.1:\d+ weight (10|20)/g)).toHaveLength(3);
    expect(r.stdout).toContain('answers per backend: { a: 20, b: 20, c: 40 }');
  });
});

describe('xDS example', () => {
  it('xds: policy from CDS, endpoints from EDS, a removal pushed by the control plane', async () => {
    const r = await run('examples/xds.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('policy from CDS: least_request');
    expect(r.stdout).toMatch(/answered by \(3 endpoints\): \{ a: \d+, b: \d+, c: \d+ \}/);
    expect(r.stdout).toMatch(/answered by \(after EDS removed c\): \{ a: \d+, b: \d+ \}/);
  });
});

describe('simulate CLI', () => {
  it('runs the example fleet file and writes the charts', async () => {
    const out = await mkdtemp(join(tmpdir(), 'sy-sim-'));
    try {
      const r = await run('scripts/simulate.ts', ['--config', 'examples/fleet.json', '--out', out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/round_robin\s+97,509/);
      expect(r.stdout).toMatch(/requests\/s simulated/);
      expect(readdirSync(out).sort()).toEqual(['fleet-latency.svg', 'fleet-load.svg', 'fleet.txt']);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('rejects an invalid fleet file naming the field, with exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-sim-'));
    try {
      const fleet = JSON.parse(readFileSync(join(ROOT, 'examples/fleet.json'), 'utf8'));
      fleet.backends[2].timeline[1].action = 'explode';
      await writeFile(join(dir, 'bad.json'), JSON.stringify(fleet));
      const r = await run('scripts/simulate.ts', ['--config', join(dir, 'bad.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/backends\[2\]\.timeline\[1\]\.action: expected one of "slow", "down"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run demo', () => {
  it('runs every client against its own backends, prints the table, exits 0 and leaves no process behind', async () => {
    const r = await run('scripts/demo.ts', ['--quick', '--requests', '200', '--rate', '400'], 90_000);
    expect(r.code).toBe(0);
    for (const name of [
      'switchyard round_robin',
      'switchyard least_request',
      'switchyard p2c_peak_ewma',
      'switchyard p2c_robust_ewma',
      'undici BalancedPool',
    ]) {
      expect(r.stdout).toMatch(
        new RegExp(`${name}\\s+200\\s+[\\d.,]+\\s+[\\d.,]+\\s+[\\d.,]+.*fast [\\d.]+%`),
      );
    }
    expect(processesMatching(join(ROOT, 'scripts/demo/backend.ts'))).toEqual([]);
  }, 100_000);
});
