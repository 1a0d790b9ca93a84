/**
 * The simulator's command line, shared by the `switchyard-sim` bin (bin.ts, what `npx switchyard-lb` runs) and
 * `npm run simulate` in this repository (scripts/simulate.ts).
 *
 * Exit codes: 0 done; 1 a runtime failure (a bug, a disk error writing charts); 2 a usage or configuration error —
 * bad arguments, an unreadable or non-JSON fleet file, or a fleet the validator rejects, reported with the same
 * `ConfigError` message (`invalid simulation config: backends[0].capacity: expected …`) as `parseFleetConfig`.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { isConfigError } from '../errors/config-error.js';
import { parseFleetConfig } from './config.js';
import { simulate } from './engine.js';
import { textReport, writeResults } from './output.js';
import { findScenario, type Scenario, scenarios } from './scenarios/index.js';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: CliIo = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** `program` is the command name shown in the usage line. */
export function simulatorUsage(program = 'switchyard-sim'): string {
  return `usage: ${program} [fleet.json | --config <fleet.json> | --scenario <name|all> | --list] [--out <dir>] [--seed <n>] [--json]

  fleet.json, --config <file>  simulate your own fleet (JSON, see docs/simulator.md)
  --scenario <name|all>        run a built-in scenario (--list shows them)
  --out <dir>                  also write the latency and load SVG charts there
  --seed <n>                   another random draw of the same fleet
  --json                       print machine-readable results instead of the table
  --help                       this text

exit codes: 0 done, 1 runtime failure, 2 usage or configuration error`;
}

/** A usage or configuration mistake: exit code 2, message without a stack (and the usage text when it helps). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. Never throws. */
export async function runSimulatorCli(
  argv: readonly string[],
  { program = 'switchyard-sim', io = consoleIo }: { program?: string; io?: CliIo } = {},
): Promise<number> {
  try {
    return await run(argv, program, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${program}: ${error.message}${error.showUsage ? `\n\n${simulatorUsage(program)}` : ''}`);
      return 2;
    }
    if (isConfigError(error)) {
      io.err(`invalid simulation config: ${error.message}`);
      return 2;
    }
    io.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

interface Run {
  readonly name: string;
  readonly fleet: unknown;
}

async function run(argv: readonly string[], program: string, io: CliIo): Promise<number> {
  const values = parse(argv);
  if (values.help) {
    io.out(simulatorUsage(program));
    return 0;
  }
  if (values.list) {
    io.out(
      `Built-in scenarios:\n\n${scenarios.map((s) => `  ${s.name.padEnd(20)} ${s.summary}\n`).join('\n')}`,
    );
    return 0;
  }
  const runs = await selectRuns(values);
  if (runs.length === 0) throw new UsageError('give a fleet file, --scenario or --list');
  const seed = values.seed === undefined ? undefined : parseSeed(values.seed);
  for (const { name, fleet } of runs) {
    const result = simulate(parseFleetConfig(seed === undefined ? fleet : { ...(fleet as object), seed }));
    if (values.json) {
      io.out(JSON.stringify(result, (k, v) => (k === 'cdf' || k === 'load' ? undefined : v), 2));
    } else {
      io.out(textReport(result));
      const requests = result.configurations.reduce((n, c) => n + c.requests, 0);
      io.out(
        `${requests.toLocaleString('en-US')} simulated requests in ${(result.wallMs / 1000).toFixed(2)} s ` +
          `(${Math.round(result.requestsPerSecond).toLocaleString('en-US')} requests/s simulated)\n`,
      );
    }
    if (values.out !== undefined) {
      const written = await writeResults(result, values.out, name);
      if (!values.json) io.out(`wrote ${written.join(', ')}\n`);
    }
  }
  return 0;
}

function parse(argv: readonly string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        scenario: { type: 'string' },
        config: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        list: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (positionals.length > 1)
      throw new UsageError(`one fleet file at a time, got ${positionals.join(' ')}`);
    if (positionals.length === 1 && values.config !== undefined)
      throw new UsageError('give the fleet file either as an argument or with --config, not both');
    return { ...values, config: values.config ?? positionals[0] };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

function parseSeed(raw: string): number {
  const seed = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(seed))
    throw new UsageError(`--seed: expected an integer, got "${raw}"`);
  return seed;
}

async function selectRuns(values: {
  config?: string | undefined;
  scenario?: string | undefined;
}): Promise<Run[]> {
  const runs: Run[] = [];
  if (values.config !== undefined)
    runs.push({ name: fleetName(values.config), fleet: await readFleet(values.config) });
  if (values.scenario === 'all') runs.push(...scenarios);
  else if (values.scenario !== undefined) {
    const found: Scenario | undefined = findScenario(values.scenario);
    if (found === undefined)
      throw new UsageError(
        `unknown scenario "${values.scenario}"; one of: ${scenarios.map((s) => s.name).join(', ')}, all`,
      );
    runs.push(found);
  }
  return runs;
}

async function readFleet(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read fleet file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      false,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`fleet file ${path} is not JSON: ${(error as Error).message}`, false);
  }
}

function fleetName(path: string): string {
  return basename(path).replace(/\.json$/, '') || 'fleet';
}
