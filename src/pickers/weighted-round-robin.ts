/**
 * `weighted_round_robin`: each endpoint in turn, as often as its weight says, interleaved.
 *
 * Which algorithm, and why: earliest-deadline-first (EDF, as Envoy and grpc-js use), but run once at build time to
 * fill a schedule table, so a pick is an array read — O(1), no heap, no allocation. Endpoint i with weight share
 * c_i of the table is due at (k + 1) / c_i for its k-th slot; taking slots in deadline order spreads each endpoint's
 * turns evenly (weights 1:3 give `B B A B`, never `A B B B` bursts at the end). Smooth WRR (nginx) gives a similar
 * order but costs O(n) per pick, which at 1000 endpoints is the whole budget.
 *
 * Table size: integer weights are used exactly (divided by their gcd) while they fit in {@link MAX_TABLE}; other
 * weights (fractions, slow-start ramps) are scaled to a table of 256 slots per endpoint (1,024–65,536), i.e.
 * shares exact to well under 1 %. Every endpoint gets at least one slot. Building costs O(L log n); the Balancer
 * only rebuilds when the routable set or the weights change.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { uniformWeights } from '../balancer/routing/weights.js';
import { readObject } from '../config/validate.js';
import { RoundRobinPicker } from './round-robin.js';

export const WEIGHTED_ROUND_ROBIN = 'weighted_round_robin';

/** `weighted_round_robin` has no options. */
export type WeightedRoundRobinOptions = Record<string, never>;

/** Largest schedule table built (entries). */
export const MAX_TABLE = 65_536;

class SchedulePicker implements Picker {
  readonly #endpoints: readonly EndpointState[];
  readonly #schedule: Uint32Array;
  #next: number;

  constructor(endpoints: readonly EndpointState[], schedule: Uint32Array, start: number) {
    this.#endpoints = endpoints;
    this.#schedule = schedule;
    this.#next = start;
  }

  pick(): EndpointState | undefined {
    const i = this.#next;
    this.#next = i + 1 === this.#schedule.length ? 0 : i + 1;
    return this.#endpoints[this.#schedule[i]!];
  }
}

/** Slot counts per endpoint: exact small integers when possible, else weights scaled to the table size. */
export function slotCounts(weights: readonly number[]): Uint32Array {
  const n = weights.length;
  const counts = new Uint32Array(n);
  if (weights.every(Number.isInteger)) {
    let g = 0;
    for (const w of weights) g = gcd(g, w);
    let total = 0;
    for (const w of weights) total += w / g;
    if (total <= MAX_TABLE) {
      for (let i = 0; i < n; i++) counts[i] = weights[i]! / g;
      return counts;
    }
  }
  const target = Math.min(MAX_TABLE, Math.max(1024, 256 * n));
  let total = 0;
  for (const w of weights) total += w;
  for (let i = 0; i < n; i++) counts[i] = Math.max(1, Math.round((weights[i]! / total) * target));
  return counts;
}

/** Fills the EDF schedule for the given slot counts (a binary min-heap keyed by each endpoint's next deadline). */
export function edfSchedule(counts: Uint32Array): Uint32Array {
  const n = counts.length;
  let length = 0;
  for (let i = 0; i < n; i++) length += counts[i]!;
  const schedule = new Uint32Array(length);
  const deadline = new Float64Array(n);
  const served = new Uint32Array(n);
  const heap = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    deadline[i] = 1 / counts[i]!;
    heap[i] = i;
  }
  // Earlier deadline first; equal deadlines by endpoint index, so the schedule is deterministic.
  const before = (a: number, b: number) =>
    deadline[a]! < deadline[b]! || (deadline[a] === deadline[b] && a < b);
  const siftDown = (pos: number, size: number) => {
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= size) return;
      const r = l + 1;
      const child = r < size && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, heap[pos]!)) return;
      const t = heap[pos]!;
      heap[pos] = heap[child]!;
      heap[child] = t;
      pos = child;
    }
  };
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i, n);
  let size = n;
  for (let slot = 0; slot < length; slot++) {
    const top = heap[0]!;
    schedule[slot] = top;
    served[top] = served[top]! + 1;
    if (served[top] === counts[top]) {
      heap[0] = heap[--size]!;
    } else {
      deadline[top] = (served[top]! + 1) / counts[top]!;
    }
    siftDown(0, size);
  }
  return schedule;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export const weightedRoundRobin: PolicyDefinition<WeightedRoundRobinOptions> = {
  name: WEIGHTED_ROUND_ROBIN,
  description: 'Each endpoint in turn, as often as its weight says (EDF schedule precomputed into a table).',
  parse(raw, path) {
    readObject(raw, path, []);
    return {};
  },
  create(_options, env): Policy {
    return {
      name: WEIGHTED_ROUND_ROBIN,
      build(endpoints) {
        if (uniformWeights(endpoints)) {
          return new RoundRobinPicker(endpoints, Math.floor(env.random() * endpoints.length));
        }
        const schedule = edfSchedule(slotCounts(endpoints.map((e) => e.effectiveWeight)));
        return new SchedulePicker(endpoints, schedule, Math.floor(env.random() * schedule.length));
      },
    };
  },
};
