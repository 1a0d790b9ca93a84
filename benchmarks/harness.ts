/**
 * A thin layer over mitata shared by every benchmark suite.
 *
 * Suites live in `benchmarks/suites/*.ts` and `export default async function suite(b: Bench)`. They register
 * micro-benchmarks with `b.bench()` (mitata measures them after every suite has registered) and record other
 * numbers — load-run results, quality figures, bytes allocated — with `b.metric()`. `npm run bench -- --json`
 * prints one JSON object mapping each name to its median ns/op (benchmarks) or its value (metrics).
 *
 * Machines here have two noisy shared cores: compare a result with a baseline measured in the same run (ratios),
 * never with a number from another run.
 */
import { do_not_optimize, bench as mitataBench, group as mitataGroup } from 'mitata';

export interface Bench {
  /** True when `--json` was given: print nothing but the final JSON (suites should stay quiet). */
  readonly json: boolean;
  /** Registers a micro-benchmark. Names are global: `<area>/<what>/<size>`, e.g. `pick/round_robin/1000`. */
  bench(name: string, fn: () => unknown): void;
  /** Groups benchmarks under a title in the human-readable output. */
  group(title: string, fn: () => void): void;
  /** Records a number that is not a time per op (a p99 in ms, a ratio, a count). */
  metric(name: string, value: number): void;
  /**
   * Measures bytes allocated per call of `fn` and records it as metric `alloc/<name>` (bytes/op). Needs
   * `--expose-gc` (the bench script passes it) and a semi-space large enough that no scavenge runs mid-loop.
   */
  allocations(name: string, fn: () => unknown, iterations?: number): void;
  /** Prints a line unless `--json`. */
  log(line: string): void;
}

export const metrics = new Map<string, number>();

export function createBench(json: boolean): Bench {
  return {
    json,
    bench(name, fn) {
      mitataBench(name, () => do_not_optimize(fn()));
    },
    group(title, fn) {
      mitataGroup(title, fn);
    },
    metric(name, value) {
      metrics.set(name, value);
    },
    allocations(name, fn, iterations = 20_000) {
      metrics.set(`alloc/${name}`, bytesPerCall(fn, iterations));
    },
    log(line) {
      if (!json) console.log(line);
    },
  };
}

/** Heap growth per call over `iterations` calls, after a warm-up; 0 when the call allocates nothing. */
export function bytesPerCall(fn: () => unknown, iterations: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return Number.NaN;
  for (let i = 0; i < 10_000; i++) do_not_optimize(fn());
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < iterations; i++) do_not_optimize(fn());
  const after = process.memoryUsage().heapUsed;
  return Math.max(0, Math.round(((after - before) / iterations) * 10) / 10);
}
