/**
 * Deterministic aperture (Finagle's d-aperture) and a random-subsetting baseline, as pure functions: which backends
 * one client talks to, and with what share of its traffic, given its coordinate among its peers.
 *
 * Two rings on the same [0, 1) space. The *peer ring* holds the N_c clients of one service; client i starts at its
 * offset. The *server ring* holds the N_s backends in a hashed order every client computes identically, each an arc
 * of width 1/N_s. A client's window is [offset, offset + width); it talks to the backends whose arcs the window
 * overlaps, and sends each a share of its traffic proportional to the overlap (Finagle's WeightedAperture), so an
 * edge backend only half inside the window gets half a share.
 *
 * Peer rings (docs/subsetting.md has the measurements):
 * - `'even'` (Finagle): offset = index / count, width = ceil(a·N_c/N_s) / N_c. The windows tile the ring an exact
 *   whole number of times, so every point of the server ring is covered by exactly that many clients: equal
 *   request load per backend. But every offset depends on `count`: changing the number of clients moves almost
 *   every client's window.
 * - `'stable'` (switchyard's variant): offset = the van der Corput (base-2 bit-reversal) point of `index`, which does
 *   not depend on `count`, width = max(a / N_s, 2 / N_c). Adding or removing clients moves only their own
 *   connections (plus edge adjustments when the width changes), at the price of a slightly uneven tiling
 *   (coverage varies by about ±1 client).
 */
import { xxh32String } from '../hash/xxh32.js';

/** Where this client sits among the clients of its service: `index` from 0 to `count - 1`, unique per client. */
export interface ClientCoordinate {
  readonly index: number;
  readonly count: number;
}

/** How client offsets are spread over the peer ring (see the module comment). */
export type PeerRing = 'even' | 'stable';

/** One backend of a window: its rank on the server ring and the fraction of its arc inside the window, in (0, 1]. */
export interface WindowMember {
  readonly rank: number;
  readonly overlap: number;
}

/** Overlaps smaller than this are rounding noise of the float arithmetic, not a sliver of a backend. */
const EPSILON = 1e-9;

/** Van der Corput point of `index` in base 2: its bits reversed behind the binary point (0, .5, .25, .75, .125, …). */
export function vanDerCorput(index: number): number {
  let x = 0;
  let scale = 0.5;
  for (let i = index; i > 0; i >>>= 1) {
    if (i & 1) x += scale;
    scale /= 2;
  }
  return x;
}

/** This client's start on the peer ring, in [0, 1). */
export function peerOffset(coordinate: ClientCoordinate, ring: PeerRing): number {
  return ring === 'even' ? coordinate.index / coordinate.count : vanDerCorput(coordinate.index);
}

/**
 * Width of a client's window, in (0, 1]. `aperture` is the logical aperture a (how many backends' worth of arc a
 * client covers), already capped at `serverCount`.
 */
export function apertureWidth(
  clientCount: number,
  serverCount: number,
  aperture: number,
  ring: PeerRing,
): number {
  if (ring === 'even') return Math.min(1, Math.ceil((aperture * clientCount) / serverCount) / clientCount);
  // The largest gap between the first n van der Corput points is at most 2/n: a narrower window could leave a
  // stretch of the server ring that no client covers.
  return Math.min(1, Math.max(aperture / serverCount, 2 / clientCount));
}

/**
 * The backends a window [offset, offset + width) overlaps on a ring of `serverCount` equal arcs, in ring order from
 * the window's start, each with the overlapping fraction of its arc. A full-width window returns every rank once.
 */
export function windowMembers(offset: number, width: number, serverCount: number): WindowMember[] {
  if (serverCount <= 0) return [];
  if (width >= 1 - EPSILON) {
    const first = Math.floor(offset * serverCount) % serverCount;
    return Array.from({ length: serverCount }, (_, k) => ({ rank: (first + k) % serverCount, overlap: 1 }));
  }
  const start = offset * serverCount;
  const end = (offset + width) * serverCount;
  const members: WindowMember[] = [];
  for (let k = Math.floor(start + EPSILON); k < end - EPSILON; k++) {
    const overlap = Math.min(k + 1, end) - Math.max(k, start);
    if (overlap <= EPSILON) continue;
    const rank = k % serverCount;
    // A window narrower than the ring can still end inside the arc it started in (start late in arc k, end early in
    // arc k + N_s): one backend, two partial overlaps, whose shares add up (a second entry would replace the first).
    if (members.length > 0 && members[0]!.rank === rank) {
      members[0] = { rank, overlap: Math.min(1, members[0]!.overlap + overlap) };
    } else members.push({ rank, overlap: Math.min(1, overlap) });
  }
  return members;
}

/**
 * The server ring: addresses in an order every client computes identically from the same set and seed (XXH32 of the
 * canonical address, ties by the address itself). Hashing rather than sorting the addresses spreads a failed
 * backend's neighbours over the address space, and a per-service seed gives each service its own order
 * (Finagle's shuffle entropy, commit 9e6734b).
 */
export function serverRing(addresses: readonly string[], seed: number): string[] {
  const keyed = addresses.map((address) => ({ address, key: xxh32String(address, seed) }));
  keyed.sort((a, b) => a.key - b.key || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return keyed.map((k) => k.address);
}

/**
 * A fingerprint of a server ring (XXH32 over the ordered addresses), Finagle's `vector_hash`: clients that disagree
 * on the ring, and so on their windows, show different values.
 */
export function ringHash(ring: readonly string[], seed: number): number {
  return xxh32String(ring.join(','), seed);
}

/**
 * Random subsetting baseline (gRFC A68): every client scores each address with its own seed and keeps the `size`
 * lowest. Rendezvous hashing, so one backend more or less changes at most one member, but balance across backends
 * is only statistical. Returns the addresses in score order (the order to widen in).
 */
export function randomOrder(addresses: readonly string[], clientSeed: number): string[] {
  return serverRing(addresses, clientSeed);
}

/**
 * The backends of a deterministic-aperture client, in ring order from its window's start, with their overlap; and
 * the rest of the ring after them, in order, for widening. Pure: same inputs, same answer on every client.
 */
export function apertureWindow(
  ring: readonly string[],
  coordinate: ClientCoordinate,
  aperture: number,
  peerRing: PeerRing,
): { members: { address: string; overlap: number }[]; rest: string[] } {
  const n = ring.length;
  if (n === 0) return { members: [], rest: [] };
  const a = Math.min(aperture, n);
  const width = apertureWidth(coordinate.count, n, a, peerRing);
  const window = windowMembers(peerOffset(coordinate, peerRing), width, n);
  const members = window.map((m) => ({ address: ring[m.rank]!, overlap: m.overlap }));
  return { members, rest: ringRest(ring, window) };
}

/** The ring's addresses after a window (members in ring order from its start), in ring order: widening order. */
export function ringRest(ring: readonly string[], window: readonly { readonly rank: number }[]): string[] {
  const n = ring.length;
  const last = window.length === 0 ? 0 : window[window.length - 1]!.rank;
  const rest: string[] = [];
  for (let k = 1; k <= n - window.length; k++) rest.push(ring[(last + k) % n]!);
  return rest;
}
