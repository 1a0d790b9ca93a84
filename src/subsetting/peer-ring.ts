/**
 * Deterministic aperture from a peer list: the coordinate of a client derived from the addresses of all the clients
 * of its service (e.g. its own service's DNS name), not from an `{ index, count }` someone assigns.
 *
 * Ranks in a sorted peer list are no good as coordinates: one peer joining shifts the rank of every peer after it,
 * and with it nearly every window of the fleet (Finagle's even ring has this problem when the count changes). So the
 * peers are placed on the peer ring by a hash of their address, which never moves when others come and go, and a
 * client's window runs from its own point to the point of its k-th successor, k = ⌈a·N_c/N_s⌉ (what Finagle's even
 * ring gives, where the points are evenly spaced). Every stretch of the ring then lies in exactly k windows, so
 * connections per backend stay even, and a peer joining or leaving changes only the k windows that end around it.
 *
 * Hashed points are not evenly spaced: a client in a dense stretch has a short window and sends all of its traffic
 * there. Sending each window's traffic uniformly would load backends under dense stretches up to ~1.4× the mean
 * (measured, 200 × 100). Every client sees the same peer list, so each computes the same fleet-wide balancing and
 * takes its own row: a matrix scaling (Sinkhorn) of the client × stretch coverage matrix to equal load per unit of
 * ring with one unit of traffic per client. That changes shares, never memberships, so connections still only move
 * where windows do.
 */
import { xxh32String } from '../hash/xxh32.js';
import { windowMembers } from './aperture.js';

/** The peers as they lie on the peer ring: addresses in hash order and their points in [0, 1). */
export interface PeerRingLayout {
  readonly peers: readonly string[];
  readonly points: Float64Array;
}

/** Scaling rounds: enough for the local density swings that matter (a round costs O(N_c)). */
const BALANCING_ROUNDS = 32;

/** Places `peers` (distinct addresses) on the peer ring by XXH32 with `seed`, ties broken by address. */
export function peerRingLayout(peers: readonly string[], seed: number): PeerRingLayout {
  const keyed = peers.map((address) => ({ address, key: xxh32String(address, seed) }));
  keyed.sort((a, b) => a.key - b.key || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const points = new Float64Array(keyed.length);
  keyed.forEach((k, i) => {
    points[i] = k.key / 2 ** 32;
  });
  return { peers: keyed.map((k) => k.address), points };
}

/** How many successors' worth of the peer ring one window spans: ⌈a·N_c/N_s⌉, within 1..N_c. */
export function peerWindowSpan(clientCount: number, serverCount: number, aperture: number): number {
  const a = Math.min(aperture, serverCount);
  return Math.max(1, Math.min(clientCount, Math.ceil((a * clientCount) / serverCount)));
}

/** Length of stretch t, from point t to point t + 1 (the last wraps around; one peer: the whole ring). */
function stretchLengths(points: Float64Array): Float64Array {
  const n = points.length;
  const lengths = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const next = t + 1 < n ? points[t + 1]! : points[0]! + 1;
    lengths[t] = next - points[t]!;
  }
  if (n === 1) lengths[0] = 1;
  return lengths;
}

/**
 * Per-stretch factors b such that client i sending b_t·ℓ_t / Σ_{its stretches} b·ℓ of its traffic to stretch t (the
 * k stretches from its point) loads every unit of ring equally. Sinkhorn rounds on the circulant band: a_i = 1 / Σ
 * over i's stretches of b·ℓ, b_t = N_c / Σ over the clients covering t of a. Sliding sums keep a round O(N_c).
 */
export function stretchFactors(lengths: Float64Array, span: number): Float64Array {
  const n = lengths.length;
  const a = new Float64Array(n);
  const b = new Float64Array(n).fill(1);
  for (let round = 0; round < BALANCING_ROUNDS; round++) {
    // a_i over stretches i .. i+span-1
    let sum = 0;
    for (let t = 0; t < span; t++) sum += b[t % n]! * lengths[t % n]!;
    for (let i = 0; i < n; i++) {
      a[i] = sum > 0 ? 1 / sum : 0;
      sum += b[(i + span) % n]! * lengths[(i + span) % n]! - b[i]! * lengths[i]!;
    }
    // b_t over clients t-span+1 .. t
    let cover = windowSum(a, 1 - span, span);
    for (let t = 0; t < n; t++) {
      if (t > 0) cover += a[t]! - a[(t - span + n) % n]!;
      b[t] = cover > 0 ? n / cover : 1;
    }
  }
  return b;
}

function windowSum(values: Float64Array, start: number, count: number): number {
  const n = values.length;
  let sum = 0;
  for (let k = 0; k < count; k++) sum += values[(((start + k) % n) + n) % n]!;
  return sum;
}

/**
 * The backends (ranks on a server ring of `serverCount` arcs) of client `self` among `layout`'s peers, each with its
 * relative share of the client's traffic scaled so the largest is 1, in ring order from the window's start.
 */
export function peerWindowMembers(
  layout: PeerRingLayout,
  selfIndex: number,
  serverCount: number,
  aperture: number,
): { rank: number; overlap: number }[] {
  const n = layout.points.length;
  if (serverCount <= 0 || n === 0) return [];
  const span = peerWindowSpan(n, serverCount, aperture);
  const lengths = stretchLengths(layout.points);
  const factors = stretchFactors(lengths, span);
  const weights = new Map<number, number>();
  for (let k = 0; k < span; k++) {
    const t = (selfIndex + k) % n;
    if (lengths[t]! <= 0) continue;
    for (const m of windowMembers(layout.points[t]!, lengths[t]!, serverCount))
      weights.set(m.rank, (weights.get(m.rank) ?? 0) + factors[t]! * m.overlap);
  }
  const max = Math.max(...weights.values());
  return [...weights].map(([rank, weight]) => ({ rank, overlap: weight / max }));
}
