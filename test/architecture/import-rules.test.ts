/**
 * The import rules of docs/architecture.md, checked against the code: balancer/ imports only the ground folders and
 * the few upward edges that document says why it keeps; no file imports itself back through others (no cycles).
 * Reads the sources' import lines only; runs nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of `file`, as paths under src/ (`balancer/options.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:import|export)[^'"`;]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), match[1]!).replace(/\.js$/, '.ts');
    found.push(relative(SRC, target));
  }
  return found;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [relative(SRC, f), importsOf(f)]));

/** Where balancer/ may import from: the ground floor (below it). */
const GROUND = /^(config|errors|observability)\/|^(clock|random|endpoint)\.ts$/;

/**
 * The upward edges balancer/ keeps, each justified in docs/architecture.md ("Upward arrows that remain"). Adding
 * one here without a reason there is the mistake this test exists to catch.
 */
const ALLOWED_UPWARD = new Set([
  // The registries' seeds: built-ins as plain values, not import side effects (tree-shaking).
  'balancer/policy/registry.ts -> pickers/builtin.ts',
  'balancer/health/registry.ts -> health/builtin.ts',
  // Types only: the built-in health options in the public BalancerOptions, outlier detection's per-release slot.
  'balancer/options.ts -> health/builtin.ts',
  'balancer/endpoint-state.ts -> health/outlier-record.ts',
  // The subsetting stage, built from the Balancer's `subset` option.
  'balancer/options.ts -> subsetting/subset.ts',
  'balancer/parse-options.ts -> subsetting/subset.ts',
  'balancer/balancer.ts -> subsetting/subset.ts',
]);

describe('import rules (docs/architecture.md)', () => {
  it('balancer/ imports only itself, the ground folders and the documented upward edges', () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      if (!file.startsWith('balancer/')) continue;
      for (const target of imports) {
        if (target.startsWith('balancer/') || GROUND.test(target)) continue;
        upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward.filter((edge) => !ALLOWED_UPWARD.has(edge))).toEqual([]);
    // An allowance nobody uses any more is stale: drop it (and its paragraph in docs/architecture.md).
    expect([...ALLOWED_UPWARD].filter((edge) => !upward.includes(edge))).toEqual([]);
  });

  it('no source file reaches itself through its imports (no import cycles)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (!state.has(next) && graph.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
