/**
 * `switchyard-lb/grpc` needs @grpc/grpc-js but not protobufjs (an optional peer only the xDS resolver uses): the xDS
 * scheme imports its resolver on first use. Checked in a fresh process, where the module cache is clean.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../src/grpc/index.ts', import.meta.url));

it('importing switchyard-lb/grpc and running setup() loads grpc-js but not protobufjs', {
  timeout: 30_000,
}, () => {
  const script = `
    import { createRequire } from 'node:module';
    const { setup } = await import(${JSON.stringify(entry)});
    setup();
    const files = Object.keys(createRequire(import.meta.url).cache);
    const count = (re) => files.filter((f) => re.test(f)).length;
    console.log(JSON.stringify({ grpc: count(/[\\\\/]@grpc[\\\\/]grpc-js[\\\\/]/), protobufjs: count(/[\\\\/]protobufjs[\\\\/]/) }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  const loaded = JSON.parse(out.trim()) as { grpc: number; protobufjs: number };
  expect(loaded.grpc).toBeGreaterThan(0);
  expect(loaded.protobufjs).toBe(0);
});
