/**
 * The demo's fixed workload: `requests` GETs sent open-loop at `ratePerSec` (a request every 1/rate s, whether or
 * not earlier ones have answered — as independent users do), with scripted events (kill a backend at 30 %, …) at
 * fixed points of the sequence so every policy meets the same trouble at the same moment.
 */
import { quantile } from '../../src/sim/recorder.js';
import type { ResultRow } from '../../src/sim/report.js';

/** What one client-visible request ended as. */
export interface SendResult {
  readonly ok: boolean;
  /** Backend that gave the final answer (from its `x-backend` header), when one did. */
  readonly backend?: string;
  /** Attempts beyond the first. */
  readonly retries: number;
  /** Why it failed (`connect`, `reset`, `timeout`, `503`, …). */
  readonly failure?: string;
}

export interface Workload {
  readonly requests: number;
  readonly ratePerSec: number;
  /** Run `action` just before request number `fraction × requests` is sent. */
  readonly events: readonly { readonly fraction: number; readonly action: () => Promise<void> }[];
}

export interface WorkloadResult {
  readonly requests: number;
  readonly latencies: Float64Array;
  readonly errors: number;
  readonly errorKinds: ReadonlyMap<string, number>;
  readonly retries: number;
  /** Answers (any status) per backend. */
  readonly answers: ReadonlyMap<string, number>;
}

/** Sends the workload through `send`, calling `progress(done, errors)` as requests finish. */
export async function runWorkload(
  workload: Workload,
  send: () => Promise<SendResult>,
  progress: (done: number, errors: number) => void,
): Promise<WorkloadResult> {
  const latencies: number[] = [];
  const errorKinds = new Map<string, number>();
  const answers = new Map<string, number>();
  let errors = 0;
  let retries = 0;
  let done = 0;
  const events = [...workload.events].sort((a, b) => a.fraction - b.fraction);
  const intervalMs = 1000 / workload.ratePerSec;
  const inFlight: Promise<void>[] = [];
  let start = performance.now();
  for (let i = 0; i < workload.requests; i++) {
    while (events.length > 0 && i >= events[0]!.fraction * workload.requests) {
      const before = performance.now();
      await events.shift()!.action();
      start += performance.now() - before; // the schedule does not count time spent on the event itself
    }
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.now();
    inFlight.push(
      send().then((result) => {
        done++;
        retries += result.retries;
        if (result.backend !== undefined) answers.set(result.backend, (answers.get(result.backend) ?? 0) + 1);
        if (result.ok) latencies.push(performance.now() - sentAt);
        else {
          errors++;
          const kind = result.failure ?? 'other';
          errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
        }
        progress(done, errors);
      }),
    );
  }
  await Promise.all(inFlight);
  return {
    requests: workload.requests,
    latencies: Float64Array.from(latencies).sort(),
    errors,
    errorKinds,
    retries,
    answers,
  };
}

/** A table row (same columns as the simulator's) from a workload result. */
export function toRow(name: string, result: WorkloadResult, backendOrder: readonly string[]): ResultRow {
  const total = [...result.answers.values()].reduce((a, b) => a + b, 0);
  return {
    name,
    requests: result.requests,
    p50: quantile(result.latencies, 0.5),
    p99: quantile(result.latencies, 0.99),
    p999: quantile(result.latencies, 0.999),
    errors: result.errors,
    retries: result.retries,
    shares: backendOrder.map((b) => [b, total === 0 ? 0 : (result.answers.get(b) ?? 0) / total] as const),
  };
}
