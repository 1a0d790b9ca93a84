/**
 * The subsetting measurement of docs/subsetting.md: a fleet of clients over a fleet of backends, each client a real
 * {@link Balancer} with the `subset` option, compared in one run with random subsetting of the same size and with
 * the full mesh. Connections come from each Balancer's subset; request load from the Balancers' own picks.
 * `npx tsx scripts/subsetting.ts` prints the tables; test/subsetting/fleet-targets.test.ts asserts the targets.
 */
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import {
  type ClientSubset,
  connectionChurn,
  minimumChurn,
  type PeerRing,
  peerAddress,
  type Spread,
  spread,
} from '../../src/subsetting/index.js';

export interface FleetCase {
  readonly clients: number;
  readonly backends: number;
  /** Logical aperture (minAperture). */
  readonly aperture: number;
  /**
   * `undefined`: random subsetting (no coordinate); `'peers'`: the coordinate from the list of every client's
   * address ({@link peerAddress}); otherwise `{ index, count }` on that peer ring.
   */
  readonly peerRing: PeerRing | 'peers' | undefined;
  /** Picks per client for the load measurement; 0 skips it. */
  readonly picksPerClient: number;
  readonly policy: string;
  /** Passed on as `subset.maxAperture` (`minAperture` turns widening off). Default unbounded. */
  readonly maxAperture?: number;
  /** Backends reported unhealthy (by address); they are left out of the spreads. Default none. */
  readonly unhealthy?: readonly string[];
}

export interface FleetResult {
  readonly subsets: ClientSubset[];
  readonly connections: Spread;
  /** Picks per backend (undefined when picksPerClient is 0). */
  readonly load: Spread | undefined;
  readonly total: number;
  /** total / (clients × backends). */
  readonly meshFraction: number;
}

export function backendAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`);
}

/**
 * Builds every client's Balancer, reads its subset and, with `picksPerClient`, picks through it. Each pick is
 * released after one step of a manual clock with a fixed latency, eight requests in flight per client, so the
 * load-aware policies see load as they would in production.
 */
export function runFleet(
  c: FleetCase,
  backends: readonly string[] = backendAddresses(c.backends),
): FleetResult {
  const unhealthy = new Set(c.unhealthy ?? []);
  const subsets: ClientSubset[] = [];
  const picks = new Map(backends.map((b) => [b, 0]));
  for (let index = 0; index < c.clients; index++) {
    const clock = new ManualClock();
    const balancer = new Balancer({
      endpoints: backends.map((a) =>
        unhealthy.has(a) ? { ...hostPort(a), health: 'unhealthy' as const } : a,
      ),
      policy: c.policy,
      clock,
      random: seededRandom(1000 + index),
      subset: {
        kind: 'aperture',
        minAperture: c.aperture,
        ...(c.maxAperture === undefined ? {} : { maxAperture: c.maxAperture }),
        ...coordinateOf(c, index),
      },
    });
    const members = balancer.subset!.members;
    const weights = new Map(balancer.stats().endpoints.map((e) => [e.address, e.effectiveWeight]));
    const totalWeight = members.reduce((sum, a) => sum + weights.get(a)!, 0);
    subsets.push(new Map(members.map((a) => [a, weights.get(a)! / totalWeight])));
    pickThrough(balancer, clock, c.picksPerClient, picks);
    void balancer.close();
  }
  const connections = new Map(backends.map((b) => [b, 0]));
  for (const s of subsets) for (const a of s.keys()) connections.set(a, connections.get(a)! + 1);
  const total = [...connections.values()].reduce((x, y) => x + y, 0);
  const healthy = (m: Map<string, number>) => [...m].filter(([a]) => !unhealthy.has(a)).map(([, v]) => v);
  return {
    subsets,
    connections: spread(healthy(connections)),
    load: c.picksPerClient > 0 ? spread(healthy(picks)) : undefined,
    total,
    meshFraction: total / (c.clients * backends.length),
  };
}

function coordinateOf(c: FleetCase, index: number): object {
  if (c.peerRing === undefined) return {};
  if (c.peerRing === 'peers') {
    const peers = Array.from({ length: c.clients }, (_, i) => peerAddress(i));
    return { coordinate: { peers, self: peerAddress(index) } };
  }
  return { coordinate: { index, count: c.clients }, peerRing: c.peerRing };
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

function pickThrough(balancer: Balancer, clock: ManualClock, n: number, picks: Map<string, number>): void {
  const inFlight: { release(outcome?: object): void }[] = [];
  for (let i = 0; i < n; i++) {
    if (inFlight.length >= 8) {
      clock.advance(1);
      inFlight.shift()!.release({ ok: true, latencyMs: 10 });
    }
    const lease = balancer.pick();
    if (lease === undefined) throw new Error('fleet measurement: nothing routable');
    picks.set(lease.endpoint.address, picks.get(lease.endpoint.address)! + 1);
    inFlight.push(lease);
  }
  for (const lease of inFlight) lease.release({ ok: true, latencyMs: 10 });
}

/** Connection churn of a fleet change, against the fewest changes possible (see `minimumChurn`). */
export function churn(
  before: FleetResult,
  after: FleetResult,
  remainingBackends: readonly string[],
): { changed: number; minimum: number; ratio: number } {
  const { changed } = connectionChurn(before.subsets, after.subsets);
  const minimum = minimumChurn(before.subsets, after.subsets, new Set(remainingBackends));
  return { changed, minimum, ratio: changed / minimum };
}

/** 100 → 90 backends: every tenth removed (the ring is hashed, so which ten does not favour any client). */
export function removeBackends(c: FleetCase, to: number): { result: FleetResult; remaining: string[] } {
  const all = backendAddresses(c.backends);
  const step = c.backends / (c.backends - to);
  const gone = new Set(Array.from({ length: c.backends - to }, (_, k) => all[Math.floor(k * step)]!));
  const remaining = all.filter((a) => !gone.has(a));
  return { result: runFleet({ ...c, picksPerClient: 0 }, remaining), remaining };
}
