/**
 * The xDS resolver needs @grpc/grpc-js and protobufjs (optional peers), so it lives at `switchyard-lb/xds`:
 * `import 'switchyard-lb'` must not load either. Checked in a fresh process, where the module cache is clean.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('../helpers/loaded-modules.ts', import.meta.url));
const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

function heavyModulesLoadedBy(entry: string): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', probe, entry], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return JSON.parse(out.trim()) as number;
}

describe('entry points', () => {
  it('the root entry loads neither grpc-js nor protobufjs', { timeout: 30_000 }, () => {
    expect(heavyModulesLoadedBy(src('index.ts'))).toBe(0);
  });

  it('the xds entry does (the probe can see them)', { timeout: 30_000 }, () => {
    expect(heavyModulesLoadedBy(src('resolvers/xds/index.ts'))).toBeGreaterThan(0);
  });
});
