/**
 * The CPU-only benchmark suites run as a smoke test, untimed, so they never rot (issue 17): each registers its rows
 * with a recording `Bench`, then every row's function runs a few times. Nothing here measures time; a suite or a row
 * that throws fails. The network suites (undici, grpc) start servers and run load for minutes and are not covered
 * here; undici-overhead (the adapter without a network) is, with tiny runs.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Bench } from '../../benchmarks/harness.js';

const CPU_SUITES = ['pickers', 'update', 'health', 'subsetting', 'hashing', 'resilience', 'dns'] as const;

function recordingBench(): Bench & { rows: Map<string, () => unknown>; values: Map<string, number> } {
  const rows = new Map<string, () => unknown>();
  const values = new Map<string, number>();
  return {
    json: true,
    rows,
    values,
    bench: (name, fn) => {
      expect(rows.has(name), `duplicate row ${name}`).toBe(false);
      rows.set(name, fn);
    },
    group: (_title, fn) => fn(),
    metric: (name, value) => values.set(name, value),
    allocations: (name, fn) => rows.set(`alloc/${name}`, fn),
    log: () => {},
  };
}

describe('benchmark suites (smoke, not timed)', () => {
  afterAll(() => vi.unstubAllEnvs());
  it.each(CPU_SUITES)(
    '%s registers its rows and every row runs',
    async (name) => {
      vi.stubEnv('BENCH_SKIP_QUALITY', '1'); // hashing's 1M-key quality runs take ~30 s
      const suite = (await import(`../../benchmarks/suites/${name}.ts`)) as {
        default: (b: Bench) => Promise<void>;
      };
      const b = recordingBench();
      await suite.default(b);
      expect(b.rows.size).toBeGreaterThan(0);
      for (const fn of b.rows.values()) for (let i = 0; i < 3; i++) fn();
    },
    30_000,
  );

  it('undici-overhead (in-process fake clients, no network) runs every contender and reports its ratios', async () => {
    vi.stubEnv('BENCH_OVERHEAD_ROUNDS', '1');
    vi.stubEnv('BENCH_OVERHEAD_REQUESTS', '50');
    const suite = (await import('../../benchmarks/suites/undici-overhead.js')) as {
      default: (b: Bench) => Promise<void>;
    };
    const b = recordingBench();
    await suite.default(b);
    for (const name of [
      'ratio-switchyard-vs-balanced-pool',
      'ratio-retry-vs-default',
      'ratio-hedge-vs-default',
    ])
      expect(b.values.get(`undici-overhead/${name}`)).toBeGreaterThan(0);
  }, 30_000);
});
