/**
 * Which endpoints a picker may choose from, given what health checking knows, and in what proportions.
 *
 * Step 1: candidates are the endpoints the resolver still lists (removed ones are draining).
 * Step 2: candidates are grouped by priority level; each level's healthy share, times the overprovisioning factor,
 *   decides how much traffic it keeps and how much spills to the next level (./priority.ts).
 * Step 3 (panic, Envoy `healthy_panic_threshold`): when there is not enough healthy capacity across all levels and
 *   fewer than `panicThreshold` percent of a level's endpoints are healthy, that level routes across *all* its
 *   endpoints. Health checks are themselves fallible; when most of a fleet looks down at once, piling every request
 *   onto the few survivors usually takes them down too (a cascading failure), while spreading load lets requests to
 *   healthy-but-mislabelled endpoints succeed. 0 disables panic: the routable set may then be empty.
 * Step 4: within a level, traffic is divided over localities by weight, or the caller's own zone is preferred
 *   (./locality.ts).
 * The result is a list of groups with traffic shares. One group (the common case) builds the policy's picker
 * directly; several build one picker each behind a {@link GroupedPicker}.
 */

import type { RandomSource } from '../../random.js';
import type { EndpointState } from '../endpoint-state.js';
import { EMPTY_PICKER, type PickContext, type Picker, type Policy } from '../policy/picker.js';
import { splitLevel } from './locality.js';
import { defaultRoutingOptions, type RoutingOptions } from './options.js';
import { type LevelCounts, priorityLoad } from './priority.js';
import { AliasTable } from './weights.js';

/** A slice of traffic and the endpoints that take it. */
export interface RoutingGroup {
  readonly endpoints: readonly EndpointState[];
  /** Fraction of all traffic (groups sum to 1). */
  readonly share: number;
  readonly priority: number;
  /** This group's level is in panic (unhealthy endpoints included). */
  readonly panic: boolean;
}

export interface RoutableSet {
  /** Every endpoint in some group. */
  readonly endpoints: EndpointState[];
  readonly groups: readonly RoutingGroup[];
  /** True when the panic threshold put unhealthy endpoints back in (in any level that takes traffic). */
  readonly panic: boolean;
  readonly healthy: number;
  readonly candidates: number;
}

/**
 * Computes the routable set. `options` may be a bare panic threshold (percent) for the defaults of everything else.
 */
export function selectRoutable(
  states: Iterable<EndpointState>,
  options: RoutingOptions | number = defaultRoutingOptions,
): RoutableSet {
  const o = typeof options === 'number' ? { ...defaultRoutingOptions, panicThreshold: options } : options;
  const { levels, candidates, healthyCount } = byPriority(states);
  const order = [...levels.keys()].sort((a, b) => a - b);
  const counts: LevelCounts[] = order.map((p) => ({
    total: levels.get(p)!.all.length,
    healthy: levels.get(p)!.healthy.length,
  }));
  const load = priorityLoad(counts, o.overprovisioningFactor, o.panicThreshold);
  const groups: RoutingGroup[] = [];
  let panic = false;
  order.forEach((priority, i) => {
    const share = load.load[i]!;
    if (share <= 0) return;
    const level = levels.get(priority)!;
    const levelPanic = load.panic[i]!;
    panic ||= levelPanic;
    for (const g of splitLevel(level.all, level.healthy, levelPanic, o)) {
      if (g.endpoints.length > 0 && g.share > 0) {
        groups.push({ endpoints: g.endpoints, share: share * g.share, priority, panic: levelPanic });
      }
    }
  });
  const total = groups.reduce((a, g) => a + g.share, 0);
  const normalized = groups.map((g) => ({ ...g, share: g.share / total }));
  return {
    endpoints: normalized.flatMap((g) => g.endpoints),
    groups: normalized,
    panic,
    healthy: healthyCount,
    candidates,
  };
}

/** The listed endpoints by priority level, all and healthy, with the totals. */
function byPriority(states: Iterable<EndpointState>) {
  const levels = new Map<number, { all: EndpointState[]; healthy: EndpointState[] }>();
  let candidates = 0;
  let healthyCount = 0;
  for (const state of states) {
    if (state.removed) continue;
    candidates++;
    const p = state.endpoint.priority;
    let level = levels.get(p);
    if (level === undefined) {
      level = { all: [], healthy: [] };
      levels.set(p, level);
    }
    level.all.push(state);
    if (state.healthy) {
      level.healthy.push(state);
      healthyCount++;
    }
  }
  return { levels, candidates, healthyCount };
}

/**
 * Builds the picker for a routable set: the policy's own picker when there is one group, else a
 * {@link GroupedPicker}. Returns `undefined` when nothing is routable.
 */
export function buildPicker(set: RoutableSet, policy: Policy, random: RandomSource): Picker | undefined {
  if (set.groups.length === 0) return undefined;
  if (set.groups.length === 1) return policy.build(set.groups[0]!.endpoints);
  return new GroupedPicker(
    set.groups.map((g) => policy.build(g.endpoints)),
    set.groups.map((g) => g.share),
    random,
  );
}

/**
 * One rebuild's routing: the routable set among `candidates` (every state's `routable` flag set to match) and a
 * picker over it (the empty picker when nothing is routable). Off the hot path.
 */
export function route(
  states: Iterable<EndpointState>,
  candidates: Iterable<EndpointState>,
  options: RoutingOptions,
  policy: Policy,
  random: RandomSource,
): { routable: RoutableSet; picker: Picker } {
  const routable = selectRoutable(candidates, options);
  for (const state of states) state.routable = false;
  for (const state of routable.endpoints) state.routable = true;
  return { routable, picker: buildPicker(routable, policy, random) ?? EMPTY_PICKER };
}

/**
 * Chooses a group by its traffic share (alias table: one draw, O(1)), then asks that group's picker. With a
 * `hashKey` the group is chosen from the key's hash instead, so affinity survives priority and zone splits
 * (Envoy likewise chooses the priority from the request hash when there is one).
 */
export class GroupedPicker implements Picker {
  readonly #pickers: readonly Picker[];
  readonly #table: AliasTable;
  readonly #random: RandomSource;

  constructor(pickers: readonly Picker[], shares: readonly number[], random: RandomSource) {
    this.#pickers = pickers;
    this.#table = new AliasTable(shares);
    this.#random = random;
  }

  pick(ctx: PickContext, now: number): EndpointState | undefined {
    const u = ctx.hashKey === undefined ? this.#random() : hashUnit(ctx.hashKey);
    return this.#pickers[this.#table.sample(u)]!.pick(ctx, now);
  }
}

/** FNV-1a of a string mapped to [0, 1). */
function hashUnit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}
