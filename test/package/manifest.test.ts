/**
 * The package's public surface: every `exports` entry points at a module the build produces from src/, and the
 * root entry loads without the optional peer dependencies (grpc-js, protobufjs, undici).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  engines: { node: string };
  peerDependenciesMeta: Record<string, { optional: boolean }>;
};

describe('package.json', () => {
  const entries = Object.entries(pkg.exports).filter(([key]) => key !== './package.json');

  it.each(entries)('export %s maps to a source module with matching types', (_key, target) => {
    // `types` first and `default` last (publint's ordering rules); `default` serves both import and require(esm).
    expect(Object.keys(target as object)).toEqual(['types', 'default']);
    const { types, default: js } = target as { types: string; default: string };
    expect(js).toMatch(/^\.\/dist\/.+\.js$/);
    expect(types).toBe(js.replace(/\.js$/, '.d.ts'));
    const source = join(root, js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
    expect(existsSync(source)).toBe(true);
  });

  it('declares the Node range and keeps the clients optional peers', () => {
    // The releases where require() of an ES module is on by default (Node 20.19.0, 22.12.0).
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    for (const peer of ['undici', '@grpc/grpc-js'])
      expect(pkg.peerDependenciesMeta[peer]?.optional).toBe(true);
  });
});
