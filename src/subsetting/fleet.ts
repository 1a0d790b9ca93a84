/**
 * Fleet-wide arithmetic over the subsetting functions: for a whole fleet of clients, which connections exist, how
 * much load each backend gets, and how many connections change when the fleet changes. Used by
 * scripts/subsetting.ts and its test to measure the targets in docs/subsetting.md; handy for sizing an aperture.
 */
import { apertureWindow, type PeerRing, randomOrder, serverRing } from './aperture.js';
import { peerRingLayout, peerWindowMembers } from './peer-ring.js';

/** How every client of a fleet chooses its backends. */
export type FleetScheme =
  | {
      readonly kind: 'aperture';
      readonly aperture: number;
      readonly peerRing: PeerRing;
      readonly seed: number;
    }
  | { readonly kind: 'random'; readonly size: number; readonly seed: number }
  /** Deterministic aperture from a peer list (src/subsetting/peer-ring.ts); client i's address is {@link peerAddress}. */
  | { readonly kind: 'peers'; readonly aperture: number; readonly seed: number };

/** The address fleet arithmetic gives client `index` for the `'peers'` scheme (any distinct strings would do). */
export function peerAddress(index: number): string {
  return `10.${200 + (index >>> 16)}.${(index >>> 8) & 255}.${index & 255}:9000`;
}

/** One client's backends and its traffic share to each (shares sum to 1). */
export type ClientSubset = ReadonlyMap<string, number>;

/** The subset of every client `0..clients-1` over `backends`. */
export function fleetSubsets(
  clients: number,
  backends: readonly string[],
  scheme: FleetScheme,
): ClientSubset[] {
  const subsets: ClientSubset[] = [];
  if (scheme.kind === 'aperture') {
    const ring = serverRing(backends, scheme.seed);
    for (let index = 0; index < clients; index++) {
      const { members } = apertureWindow(ring, { index, count: clients }, scheme.aperture, scheme.peerRing);
      const total = members.reduce((sum, m) => sum + m.overlap, 0);
      subsets.push(new Map(members.map((m) => [m.address, m.overlap / total])));
    }
  } else if (scheme.kind === 'peers') {
    const ring = serverRing(backends, scheme.seed);
    const layout = peerRingLayout(
      Array.from({ length: clients }, (_, i) => peerAddress(i)),
      scheme.seed,
    );
    for (let index = 0; index < clients; index++) {
      const members = peerWindowMembers(
        layout,
        layout.peers.indexOf(peerAddress(index)),
        ring.length,
        scheme.aperture,
      );
      const total = members.reduce((sum, m) => sum + m.overlap, 0);
      subsets.push(new Map(members.map((m) => [ring[m.rank]!, m.overlap / total])));
    }
  } else {
    for (let index = 0; index < clients; index++) {
      // Each client's own seed, as a process would draw at random; derived from the index here to be repeatable.
      const order = randomOrder(backends, (scheme.seed + Math.imul(index + 1, 0x9e3779b1)) >>> 0);
      const chosen = order.slice(0, Math.min(scheme.size, order.length));
      subsets.push(new Map(chosen.map((address) => [address, 1 / chosen.length])));
    }
  }
  return subsets;
}

/** Spread of a per-backend quantity. */
export interface Spread {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** max / mean: 1 is perfectly even. */
  readonly maxOverMean: number;
}

export function spread(values: readonly number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const max = Math.max(...values);
  return { min: Math.min(...values), max, mean, maxOverMean: max / mean };
}

/** Connections and request load per backend, each client sending one unit of load. */
export function fleetBalance(
  subsets: readonly ClientSubset[],
  backends: readonly string[],
): { connections: Spread; load: Spread; total: number; fullMesh: number } {
  const connections = new Map(backends.map((b) => [b, 0]));
  const load = new Map(backends.map((b) => [b, 0]));
  let total = 0;
  for (const subset of subsets) {
    for (const [address, share] of subset) {
      connections.set(address, connections.get(address)! + 1);
      load.set(address, load.get(address)! + share);
      total++;
    }
  }
  return {
    connections: spread([...connections.values()]),
    load: spread([...load.values()]),
    total,
    fullMesh: subsets.length * backends.length,
  };
}

/** Connections (client index, backend) opened and closed between two fleet states. */
export function connectionChurn(
  before: readonly ClientSubset[],
  after: readonly ClientSubset[],
): { opened: number; closed: number; changed: number } {
  let opened = 0;
  let closed = 0;
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const b = before[i] ?? new Map<string, number>();
    const a = after[i] ?? new Map<string, number>();
    for (const address of a.keys()) if (!b.has(address)) opened++;
    for (const address of b.keys()) if (!a.has(address)) closed++;
  }
  return { opened, closed, changed: opened + closed };
}

/**
 * The fewest connection changes any scheme could make between the two states, given the totals it ends with:
 * connections of clients that left and to backends that left must close, those of new clients must open, and the
 * total must move from the old count to the new one. Kept ≤ min(old − forced closes, new − forced opens), and
 * every connection not kept is a change.
 */
export function minimumChurn(
  before: readonly ClientSubset[],
  after: readonly ClientSubset[],
  remainingBackends: ReadonlySet<string>,
): number {
  let oldTotal = 0;
  let forcedClose = 0;
  before.forEach((subset, i) => {
    for (const address of subset.keys()) {
      oldTotal++;
      if (i >= after.length || !remainingBackends.has(address)) forcedClose++;
    }
  });
  let newTotal = 0;
  let forcedOpen = 0;
  after.forEach((subset, i) => {
    newTotal += subset.size;
    if (i >= before.length) forcedOpen += subset.size;
  });
  const kept = Math.min(oldTotal - forcedClose, newTotal - forcedOpen);
  return oldTotal - kept + (newTotal - kept);
}
