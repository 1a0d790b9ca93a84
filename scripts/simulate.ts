/**
 * `npm run simulate -- --scenario <name>` / `--config fleet.json`: runs a simulation and prints the results table;
 * with `--out <dir>` also writes the SVG charts. `--list` shows the built-in scenarios; `--scenario all` runs them
 * all (that is how docs/charts/ is generated: `npm run simulate -- --scenario all --out docs/charts`).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isConfigError } from '../src/errors/config-error.js';
import { parseFleetConfig } from '../src/sim/config.js';
import { simulate } from '../src/sim/engine.js';
import { textReport, writeResults } from '../src/sim/output.js';
import { findScenario, type Scenario, scenarios } from '../src/sim/scenarios/index.js';

const USAGE = `usage: npm run simulate -- (--scenario <name|all> | --config <fleet.json> | --list) [--out <dir>] [--seed <n>] [--json]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      list: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list || (values.scenario === undefined && values.config === undefined)) {
    console.log(values.list ? 'Built-in scenarios:\n' : `${USAGE}\n\nBuilt-in scenarios:\n`);
    for (const s of scenarios) console.log(`  ${s.name.padEnd(20)} ${s.summary}\n`);
    return values.list ? 0 : 2;
  }
  const runs: { name: string; summary: string; fleet: unknown }[] = [];
  if (values.config !== undefined) {
    const fleet: unknown = JSON.parse(await readFile(values.config, 'utf8'));
    runs.push({ name: baseName(values.config), summary: '', fleet });
  }
  if (values.scenario === 'all') runs.push(...scenarios);
  else if (values.scenario !== undefined) {
    const found: Scenario | undefined = findScenario(values.scenario);
    if (found === undefined) {
      console.error(
        `unknown scenario "${values.scenario}"; one of: ${scenarios.map((s) => s.name).join(', ')}, all`,
      );
      return 2;
    }
    runs.push(found);
  }
  for (const run of runs) {
    const fleet =
      values.seed === undefined ? run.fleet : { ...(run.fleet as object), seed: Number(values.seed) };
    const result = simulate(parseFleetConfig(fleet));
    if (values.json) {
      console.log(JSON.stringify(result, (_k, v) => (_k === 'cdf' || _k === 'load' ? undefined : v), 2));
    } else {
      console.log(textReport(result));
      const requests = result.configurations.reduce((n, c) => n + c.requests, 0);
      console.log(
        `${requests.toLocaleString('en-US')} simulated requests in ${(result.wallMs / 1000).toFixed(2)} s ` +
          `(${Math.round(result.requestsPerSecond).toLocaleString('en-US')} requests/s simulated)\n`,
      );
    }
    if (values.out !== undefined) {
      const written = await writeResults(result, values.out, run.name);
      if (!values.json) console.log(`wrote ${written.join(', ')}\n`);
    }
  }
  return 0;
}

function baseName(path: string): string {
  return (path.split('/').pop() ?? 'fleet').replace(/\.json$/, '');
}

// Piped into `head`: stop quietly when the reader goes away.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isConfigError(error)) {
      console.error(`invalid simulation config: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
