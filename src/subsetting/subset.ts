/**
 * The subsetting layer of a Balancer: between the resolver's endpoint set and the routable set, it keeps only this
 * client's subset, so the adapters open connections to those endpoints alone (undici Pools are created on pick;
 * the grpc-js policy applies the subset before creating subchannels, src/grpc/subset.ts). Health, outlier detection and panic then apply to the subset. When members of
 * the subset are unhealthy the subset first widens along the ring (the next endpoints after the window) until it
 * holds `minAperture` healthy endpoints, within `maxAperture`; only when that is not enough
 * does the panic threshold see an unhealthy subset.
 *
 * With a coordinate: deterministic aperture (./aperture.ts). Without: random subsetting of `minAperture` endpoints
 * (rendezvous hashing with a per-client seed drawn from the Balancer's random source).
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { ExtensionContext } from '../balancer/extension.js';
import type { Resolver } from '../balancer/resolver.js';
import { checkNumber, join, readEnum, readNumber, readObject } from '../config/validate.js';
import type { EndpointInput } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import {
  apertureWindow,
  type ClientCoordinate,
  type PeerRing,
  randomOrder,
  ringHash,
  ringRest,
  serverRing,
} from './aperture.js';
import { DynamicAperture, type DynamicApertureOptions, parseDynamicAperture } from './dynamic-aperture.js';
import { PeerList } from './peer-list.js';

/**
 * The coordinate taken from the clients of this service themselves: their addresses (a list, or a resolver of them,
 * e.g. a `DnsResolver` for this service's own name) and this client's own address among them. Peers lie on the peer
 * ring by a hash of their address, so one joining or leaving moves only the few windows around it
 * (src/subsetting/peer-ring.ts). Until a resolver's first answer the client uses random subsetting.
 */
export interface PeerListCoordinate {
  /** Every client of this service (this one may be missing: it is added), or a resolver of them. */
  readonly peers: readonly EndpointInput[] | Resolver;
  /** This client's address as the peers are spelled (`'10.0.0.5:8080'`, or `{ host, port }`). */
  readonly self: EndpointInput;
}

/**
 * A coordinate, a function returning the current one (called at every rebuild of the subset), or the peer list the
 * coordinate is derived from.
 */
export type CoordinateSource = ClientCoordinate | (() => ClientCoordinate) | PeerListCoordinate;

/** The `subset` option of a Balancer. */
export interface SubsetOptions {
  readonly kind: 'aperture';
  /**
   * This client's `{ index, count }` among the clients of its service (e.g. a StatefulSet ordinal and the replica
   * count), or a function returning it. Absent: random subsetting. `index` unique per client, from 0 to count − 1.
   */
  readonly coordinate?: CoordinateSource;
  /**
   * Logical aperture: how many endpoints' worth of the ring one client covers, an integer from 1 to 10,000, capped
   * at the endpoint count. Default 12 (Finagle's `minDeterministicAperture`: weighted P2C needs ≥ 4 endpoints to
   * honour weights, 12 lowers the chance that a subset holds no healthy endpoint).
   */
  readonly minAperture?: number;
  /**
   * Most endpoints the subset may hold after widening around unhealthy members, an integer ≥ `minAperture`.
   * Default: unbounded (every endpoint).
   */
  readonly maxAperture?: number;
  /**
   * `'stable'` (default): client offsets independent of the client count, so scaling the clients moves only their
   * own connections; coverage varies by about ±1 client. `'even'`: Finagle's exact tiling (equal load), but a change
   * of the client count moves nearly every window. See docs/subsetting.md.
   */
  readonly peerRing?: PeerRing;
  /** Seed of the server ring's hashed order, an integer from 0 to 2^32 − 1, the same on every client. Default 0. */
  readonly seed?: number;
  /**
   * Fewest zones (`locality.zone`) the subset's healthy members should span, an integer from 1 to 100: when the
   * window covers fewer, the next healthy endpoint of each missing zone along the ring joins (at most
   * `minZones − 1` extra, beyond `maxAperture` if need be), so one zone outage cannot empty a subset. Capped at the
   * zones that have a healthy endpoint. Default 1 (off).
   */
  readonly minZones?: number;
  /**
   * Load-driven aperture (Finagle's load band): widen by one while the smoothed requests in flight per member stay
   * above `highLoad`, narrow by one below `lowLoad`, within [`minAperture`, `maxAperture`]. Default off; `{}` turns
   * it on with Finagle's bounds. See src/subsetting/dynamic-aperture.ts for why it is off by default.
   */
  readonly dynamic?: DynamicApertureOptions;
}

/** Defaults of {@link SubsetOptions}. */
export const defaultSubsetOptions = {
  /** Finagle minDeterministicAperture. */
  minAperture: 12,
  peerRing: 'stable',
  seed: 0,
  minZones: 1,
} as const;

const SUBSET_KEYS = [
  'kind',
  'coordinate',
  'minAperture',
  'maxAperture',
  'peerRing',
  'seed',
  'minZones',
  'dynamic',
];
const MAX_APERTURE = 10_000;
const MAX_CLIENTS = 1_000_000;

/** Validates a coordinate; throws {@link ConfigError} naming `path`. */
export function checkCoordinate(value: unknown, path: string): ClientCoordinate {
  const raw = readObject(value, path, ['index', 'count']);
  const count = checkNumber(raw.count, join(path, 'count'), { min: 1, max: MAX_CLIENTS, integer: true });
  const index = checkNumber(raw.index, join(path, 'index'), { min: 0, max: count - 1, integer: true });
  return { index, count };
}

/** What a Subset gets from its owner: the Balancer gives all of it, the grpc-js policy only the first two. */
export type SubsetContext = Pick<ExtensionContext, 'random' | 'invalidate'> &
  Partial<Pick<ExtensionContext, 'clock' | 'states'>>;

/** One endpoint of the subset and the fraction of its arc inside the window (1 for widened and random members). */
export interface SubsetMember {
  readonly address: string;
  readonly overlap: number;
}

export class Subset {
  readonly minAperture: number;
  readonly maxAperture: number;
  readonly peerRing: PeerRing;
  readonly seed: number;
  readonly minZones: number;
  #source: CoordinateSource | undefined;
  #coordinate: ClientCoordinate | undefined;
  #peers: PeerList | undefined;
  /** The logical aperture in force: `minAperture`, or what the dynamic aperture set. */
  #aperture: number;
  readonly #dynamic: DynamicAperture | undefined;
  #memberSet: ReadonlySet<string> = new Set();
  #endpointCount = 0;
  /** A first `select` happened: later joins are endpoints entering the subset, not the initial members. */
  #built = false;
  #joined = 0;
  readonly #path: string;
  #clientSeed = 0;
  #context: SubsetContext | undefined;
  #members: readonly string[] = [];
  #widened = 0;
  #ringHash = 0;
  #lastAddresses: readonly string[] = [];
  #ring: readonly string[] = [];

  constructor(options: unknown, path = 'subset') {
    const raw = readObject(options, path, SUBSET_KEYS);
    this.#path = path;
    if (raw.kind !== 'aperture')
      throw new ConfigError({ field: join(path, 'kind'), allowed: '"aperture"', received: raw.kind });
    const range = { min: 1, max: MAX_APERTURE, integer: true };
    this.minAperture = readNumber(raw, 'minAperture', path, range, defaultSubsetOptions.minAperture);
    this.maxAperture = readNumber(raw, 'maxAperture', path, { ...range, min: this.minAperture }, Infinity);
    this.peerRing = readEnum(raw, 'peerRing', path, ['even', 'stable'], defaultSubsetOptions.peerRing);
    this.seed = readNumber(raw, 'seed', path, { min: 0, max: 2 ** 32 - 1, integer: true }, 0);
    this.minZones = readNumber(raw, 'minZones', path, { min: 1, max: 100, integer: true }, 1);
    this.#aperture = this.minAperture;
    this.#dynamic =
      raw.dynamic === undefined
        ? undefined
        : new DynamicAperture(
            parseDynamicAperture(raw.dynamic, join(path, 'dynamic')),
            this.minAperture,
            this.maxAperture,
          );
    if (raw.coordinate !== undefined) this.#setSource(raw.coordinate, join(path, 'coordinate'));
  }

  /** @internal Called by the Balancer (or the grpc-js policy) once: gives the rebuild trigger and the random source. */
  attach(context: SubsetContext): void {
    this.#context = context;
    this.#clientSeed = (context.random() * 2 ** 32) >>> 0;
    this.#peers?.start(context.invalidate);
    if (this.#dynamic !== undefined) this.#startDynamic(this.#dynamic, context);
  }

  /** @internal Called by the Balancer on close: stops a peer resolver and the dynamic aperture. */
  close(): void | Promise<void> {
    this.#dynamic?.stop();
    return this.#peers?.close();
  }

  /** The logical aperture in force: `minAperture`, or what the dynamic aperture has set. */
  get aperture(): number {
    return this.#aperture;
  }

  /** The smoothed requests in flight per member the dynamic aperture last saw (0 without it). */
  get load(): number {
    return this.#dynamic?.load ?? 0;
  }

  /**
   * The coordinate in force, `undefined` for random subsetting. With a peer list: this client's rank in hash order
   * and the peer count (once the peers are known).
   */
  get coordinate(): ClientCoordinate | undefined {
    return this.#peers !== undefined ? this.#peers.coordinate : this.#coordinate;
  }

  /** Peer-list updates rejected (invalid or duplicate entries); the last good list was kept. */
  get peerUpdatesRejected(): number {
    return this.#peers?.rejected ?? 0;
  }

  /** Why the last peer update was rejected (a `ConfigError` naming the entry) or the last peer resolution failed. */
  get peerError(): Error | undefined {
    return this.#peers?.lastError;
  }

  /** Addresses of the current subset, window first, then widened members (for diagnostics and tests). */
  get members(): readonly string[] {
    return this.#members;
  }

  /** How many members widening added at the last rebuild. */
  get widened(): number {
    return this.#widened;
  }

  /** Fingerprint of the server ring (Finagle's `vector_hash`): clients of one service should all show the same. */
  get ringHash(): number {
    return this.coordinate === undefined ? 0 : this.#ringHash;
  }

  /**
   * Changes the coordinate (or the function returning it; `undefined` switches to random subsetting) and rebuilds
   * the subset. Throws {@link ConfigError} on a bad coordinate, keeping the old one.
   */
  setCoordinate(coordinate: CoordinateSource | undefined): void {
    const previous = this.#peers;
    if (coordinate === undefined) {
      this.#source = undefined;
      this.#coordinate = undefined;
      this.#peers = undefined;
    } else this.#setSource(coordinate, 'coordinate');
    if (previous !== this.#peers) {
      void previous?.close();
      if (this.#context !== undefined) this.#peers?.start(this.#context.invalidate);
    }
    this.#context?.invalidate();
  }

  /**
   * The endpoints of this client's subset among `states` (removed ones skipped), setting each member's
   * `effectiveWeight` to its weight times its overlap with the window. With `slowStart` the weight is the one slow
   * start just computed; without, the endpoint's own (and non-members get theirs back). Off the hot path.
   */
  select(states: Iterable<EndpointState>, slowStart: boolean): EndpointState[] {
    const byAddress = new Map<string, EndpointState>();
    for (const state of states) if (!state.removed) byAddress.set(state.address, state);
    const members = this.choose(
      [...byAddress.keys()],
      (address) => byAddress.get(address)!.healthy,
      (address) => byAddress.get(address)!.endpoint.locality?.zone,
    );
    const chosen: EndpointState[] = [];
    const wasMember = new Set<EndpointState>();
    for (const state of byAddress.values()) {
      if (state.inSubset) wasMember.add(state);
      state.inSubset = false;
    }
    let joined = 0;
    for (const { address, overlap } of members) {
      const state = byAddress.get(address)!;
      state.inSubset = true;
      // A known endpoint that joins (widening, a coordinate or aperture change) gets a cold connection: with slow
      // start its ramp begins now, as for an endpoint back from unhealthy. New endpoints ramp from when added.
      if (this.#built && !wasMember.has(state)) {
        if (this.#context?.clock !== undefined) state.activeSince = this.#context.clock.now();
        joined++;
      }
      state.effectiveWeight = (slowStart ? state.effectiveWeight : state.endpoint.weight) * overlap;
      chosen.push(state);
    }
    if (!slowStart) {
      const inSubset = new Set(chosen);
      for (const state of byAddress.values())
        if (!inSubset.has(state)) state.effectiveWeight = state.endpoint.weight;
    }
    this.#built = true;
    this.#joined = joined;
    return chosen;
  }

  /** @internal Known endpoints that joined at the last `select` (the Balancer reruns slow start for them). */
  get joined(): number {
    return this.#joined;
  }

  /**
   * The subset of `addresses` (each once): the window with its overlaps, then the endpoints widening added (overlap
   * 1), judged by `healthy` and, for `minZones`, `zoneOf`. For adapters that decide connections before the Balancer
   * sees endpoints (grpc-js).
   */
  choose(
    addresses: readonly string[],
    healthy: (address: string) => boolean,
    zoneOf: (address: string) => string | undefined = () => undefined,
  ): SubsetMember[] {
    this.#refreshCoordinate();
    this.#endpointCount = addresses.length;
    const { window, rest } = this.#order(addresses);
    const members = this.#widen(window, rest, healthy);
    if (this.minZones > 1) this.#spanZones(members, rest, healthy, zoneOf);
    this.#members = members.map((m) => m.address);
    this.#memberSet = new Set(this.#members);
    this.#widened = members.length - window.length;
    return members;
  }

  /** The window (with overlaps) and the rest of the endpoints in widening order. */
  #order(addresses: readonly string[]): { window: SubsetMember[]; rest: string[] } {
    const coordinate = this.#coordinate;
    const peers = this.#peers;
    if (peers?.coordinate !== undefined) {
      const ring = this.#ringFor(addresses);
      const window = peers.window(ring.length, this.#aperture);
      return {
        window: window.map((m) => ({ address: ring[m.rank]!, overlap: m.overlap })),
        rest: ringRest(ring, window),
      };
    }
    if (coordinate === undefined || peers !== undefined) {
      const order = randomOrder(addresses, this.#clientSeed);
      const size = Math.min(this.#aperture, order.length);
      return {
        window: order.slice(0, size).map((address) => ({ address, overlap: 1 })),
        rest: order.slice(size),
      };
    }
    const ring = this.#ringFor(addresses);
    const { members, rest } = apertureWindow(ring, coordinate, this.#aperture, this.peerRing);
    return { window: members, rest };
  }

  /**
   * The server ring, reused while the address list is unchanged: most rebuilds are health changes, and hashing and
   * sorting every address each time would make them O(N log N) with N hashes.
   */
  #ringFor(addresses: readonly string[]): readonly string[] {
    const last = this.#lastAddresses;
    if (last.length === addresses.length && last.every((a, i) => a === addresses[i])) return this.#ring;
    this.#lastAddresses = [...addresses];
    this.#ring = serverRing(addresses, this.seed);
    this.#ringHash = ringHash(this.#ring, this.seed);
    return this.#ring;
  }

  /**
   * Adds the next endpoints along the ring until the subset has `minAperture` healthy ones (the window may hold one
   * or two more, at its fractional edges: losing those does not widen). The aperture is the redundancy asked for;
   * widening past it would move connections on every single failure for no gain in redundancy.
   */
  #widen(
    window: SubsetMember[],
    rest: readonly string[],
    isHealthy: (address: string) => boolean,
  ): SubsetMember[] {
    let healthy = 0;
    for (const m of window) if (isHealthy(m.address)) healthy++;
    const members = [...window];
    const wanted = Math.min(this.#aperture, window.length);
    const cap = Math.max(window.length, this.maxAperture);
    for (const address of rest) {
      if (healthy >= wanted || members.length >= cap) break;
      members.push({ address, overlap: 1 });
      if (isHealthy(address)) healthy++;
    }
    return members;
  }

  /** Adds, along the ring, the first healthy endpoint of each zone the healthy members miss, up to `minZones`. */
  #spanZones(
    members: SubsetMember[],
    rest: readonly string[],
    healthy: (address: string) => boolean,
    zoneOf: (address: string) => string | undefined,
  ): void {
    const zones = new Set<string | undefined>();
    for (const m of members) if (healthy(m.address)) zones.add(zoneOf(m.address));
    const inSubset = new Set(members.map((m) => m.address));
    for (const address of rest) {
      if (zones.size >= this.minZones) return;
      const zone = zoneOf(address);
      if (inSubset.has(address) || zones.has(zone) || !healthy(address)) continue;
      members.push({ address, overlap: 1 });
      zones.add(zone);
    }
  }

  #startDynamic(dynamic: DynamicAperture, context: SubsetContext): void {
    const { clock, states } = context;
    if (clock === undefined || states === undefined)
      throw new ConfigError({
        field: join(this.#path, 'dynamic'),
        allowed: 'a Balancer (the grpc-js policy has no in-flight counts to drive it)',
        received: 'set',
      });
    const target = {
      inFlight: () => {
        let total = 0;
        for (const state of states()) if (this.#memberSet.has(state.address)) total += state.inFlight;
        return total;
      },
      aperture: () => this.#aperture,
      setAperture: (aperture: number) => {
        this.#aperture = aperture;
        context.invalidate();
      },
    };
    dynamic.start(clock, target, () => this.#endpointCount);
  }

  #setSource(source: unknown, path: string): void {
    if (typeof source === 'object' && source !== null && 'peers' in source) {
      this.#peers = PeerList.parse(source, path, this.seed);
      this.#source = source as PeerListCoordinate;
      this.#coordinate = undefined;
      return;
    }
    const coordinate = typeof source === 'function' ? (source as () => unknown)() : source;
    this.#coordinate = checkCoordinate(coordinate, path);
    this.#source = source as CoordinateSource;
  }

  /** A coordinate function is asked again at every rebuild; a bad answer keeps the last good coordinate. */
  #refreshCoordinate(): void {
    const source = this.#source;
    if (typeof source !== 'function') return;
    try {
      this.#coordinate = checkCoordinate(source(), 'coordinate');
    } catch {
      // Keep the last good coordinate: a transient bad answer must not reshuffle the fleet's connections.
    }
  }
}
