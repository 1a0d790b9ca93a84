/**
 * The `switchyard-sim` command, spawned as users run it (src/sim/bin.ts through tsx here; the package test runs
 * the built bin from an installed tarball): help, exit codes and the validator's messages. Cases that need no
 * process of their own call runSimulatorCli, the function bin.ts runs, in this process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSimulatorCli } from '../../src/sim/cli.js';
import { parseFleetConfig } from '../../src/sim/config.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'src', 'sim', 'bin.ts');
const dir = mkdtempSync(join(tmpdir(), 'switchyard-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * examples/fleet.json shortened to 3 simulated seconds and two clients, without its timeline events (they fall
 * after 3 s), so one run takes well under a second.
 */
const example = JSON.parse(readFileSync(join(root, 'examples', 'fleet.json'), 'utf8')) as {
  backends: Record<string, unknown>[];
  configurations: { name: string }[];
};
const fleet = {
  ...example,
  durationMs: 3_000,
  clients: 2,
  backends: example.backends.map(({ timeline: _, ...backend }) => backend),
};
const fleetFile = join(dir, 'fleet.json');
writeFileSync(fleetFile, JSON.stringify(fleet));

/** The command as users run it: a process, its exit code and streams. */
function sim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same CLI in this process (what bin.ts calls), for the cases that need no process of their own. */
async function simInProcess(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runSimulatorCli(args, {
    io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
  });
  return { code, out, err };
}

describe('switchyard-sim', () => {
  it('--help prints the usage with the exit codes, exit 0', () => {
    const r = sim('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: switchyard-sim \[fleet\.json/);
    expect(r.out).toContain('exit codes: 0 done, 1 runtime failure, 2 usage or configuration error');
  });

  it('runs a fleet file given as an argument: the results table, one row per configuration, exit 0', () => {
    const r = sim(fleetFile);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const c of fleet.configurations) expect(r.out).toContain(c.name);
    expect(r.out).toMatch(/simulated requests in/);
  });

  it('--json prints parseable results for every configuration', async () => {
    const r = await simInProcess('--config', fleetFile, '--json', '--seed', '7');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { configurations: { requests: number }[] };
    expect(result.configurations).toHaveLength(fleet.configurations.length);
    for (const c of result.configurations) expect(c.requests).toBeGreaterThan(0);
  });

  it('a usage error from the process: exit 2, the reason and the usage on stderr', () => {
    const r = sim('--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--bogus'");
    expect(r.err).toContain('usage: switchyard-sim');
    expect(r.out).toBe('');
  });

  it.each([
    [[], 'give a fleet file, --scenario or --list'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--scenario', 'nope'], 'unknown scenario "nope"'],
    [['a.json', 'b.json'], 'one fleet file at a time'],
    [[fleetFile, '--seed', 'x'], '--seed: expected an integer, got "x"'],
    [[join(dir, 'missing.json')], 'cannot read fleet file'],
  ])('usage error %j: exit 2 and says why', async (args, message) => {
    const r = await simInProcess(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  it('a fleet the validator rejects: exit 2 with the same ConfigError message parseFleetConfig throws', () => {
    const bad = { ...fleet, clients: 0 };
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(bad));
    let expected = '';
    try {
      parseFleetConfig(bad);
    } catch (error) {
      expected = (error as Error).message;
    }
    expect(expected).toMatch(/^clients: expected/);
    const r = sim(file);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`invalid simulation config: ${expected}`);
  });

  it('a file that is not JSON: exit 2', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "clients": ');
    const r = await simInProcess(file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`fleet file ${file} is not JSON`);
  });

  it('a runtime failure (charts cannot be written: --out is a file): exit 1', () => {
    const r = sim(fleetFile, '--out', join(fleetFile, 'charts'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ENOTDIR|EEXIST/);
  });
});
