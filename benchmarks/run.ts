/**
 * `npm run bench [-- --json] [-- --filter <regex>] [-- --suite <name>]`
 *
 * Runs every suite in benchmarks/suites/ (or the named ones) and prints mitata's table, then the metrics; with
 * `--json`, prints only one JSON object `{ "<name>": <median ns/op or metric value> }`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { run } from 'mitata';
import { type Bench, createBench, metrics } from './harness.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    filter: { type: 'string' },
    suite: { type: 'string', multiple: true },
  },
});
const json = values.json ?? false;
const suitesDir = join(import.meta.dirname, 'suites');
const wanted = values.suite;
const files = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => wanted === undefined || wanted.includes(f.replace(/\.ts$/, '')))
  .sort();

const b = createBench(json);
for (const file of files) {
  const mod = (await import(pathToFileURL(join(suitesDir, file)).href)) as {
    default: (bench: Bench) => Promise<void>;
  };
  await mod.default(b);
}

const filter = values.filter === undefined ? /.*/ : new RegExp(values.filter);
const result = await run({ filter, ...(json ? { print: () => {} } : {}) });
const out: Record<string, number> = {};
for (const trial of result.benchmarks) {
  for (const r of trial.runs) {
    if (r.stats !== undefined) out[r.name] = Math.round(r.stats.p50 * 100) / 100;
  }
}
for (const [name, value] of metrics) if (filter.test(name)) out[name] = value;

if (json) {
  console.log(JSON.stringify(out));
} else if (metrics.size > 0) {
  console.log('\nmetrics:');
  for (const [name, value] of metrics) if (filter.test(name)) console.log(`  ${name.padEnd(48)} ${value}`);
}
