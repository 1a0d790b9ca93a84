/**
 * The peer list behind a {@link PeerListCoordinate}: parses and keeps the addresses of this service's clients (given,
 * or pushed by a resolver), places them on the peer ring, and gives this client's window. A bad update (an invalid
 * or duplicate entry, too many peers) is rejected and the last good list kept: a transient bad answer must not
 * reshuffle the fleet's connections.
 */

import type { Resolver } from '../balancer/resolver.js';
import { join, readObject } from '../config/validate.js';
import { parseEndpoint, parseEndpoints } from '../endpoint.js';
import { ConfigError } from '../errors/config-error.js';
import type { ClientCoordinate, WindowMember } from './aperture.js';
import { type PeerRingLayout, peerRingLayout, peerWindowMembers } from './peer-ring.js';

/** Most peers a list may hold (the `{ index, count }` coordinate has the same bound). */
export const MAX_PEERS = 1_000_000;

export class PeerList {
  readonly #self: string;
  readonly #seed: number;
  readonly #path: string;
  #resolver: Resolver | undefined;
  #layout: PeerRingLayout | undefined;
  #selfIndex = 0;
  #rejected = 0;
  #lastError: Error | undefined;
  #cache: { layout: PeerRingLayout; servers: number; aperture: number; window: WindowMember[] } | undefined;

  private constructor(self: string, seed: number, path: string) {
    this.#self = self;
    this.#seed = seed;
    this.#path = path;
  }

  /** Validates `{ peers, self }`; throws {@link ConfigError} naming the field. */
  static parse(value: unknown, path: string, seed: number): PeerList {
    const raw = readObject(value, path, ['peers', 'self']);
    const list = new PeerList(parseEndpoint(raw.self, join(path, 'self')).address, seed, path);
    const peers = raw.peers;
    if (Array.isArray(peers)) list.#accept(peers, join(path, 'peers'));
    else if (isResolver(peers)) list.#resolver = peers;
    else
      throw new ConfigError({
        field: join(path, 'peers'),
        allowed: 'an array of endpoints or a Resolver',
        received: peers,
      });
    return list;
  }

  /** This client's rank in hash order and the peer count; `undefined` until the peers are known. */
  get coordinate(): ClientCoordinate | undefined {
    const layout = this.#layout;
    return layout === undefined ? undefined : { index: this.#selfIndex, count: layout.peers.length };
  }

  /** Resolver updates rejected so far. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Why the last update was rejected (a `ConfigError` naming the entry) or the last resolution failed. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Starts the peer resolver, if any; `changed` is called after every accepted update. */
  start(changed: () => void): void {
    this.#resolver?.start({
      onUpdate: (update) => {
        try {
          this.#accept(update.endpoints, join(this.#path, 'peers'));
        } catch (error) {
          this.#rejected++;
          this.#lastError = error as Error;
          return;
        }
        changed();
      },
      // A failed resolution keeps the last good list, as for the Balancer's own resolver.
      onError: (error) => {
        this.#lastError = error;
      },
    });
  }

  close(): void | Promise<void> {
    return this.#resolver?.close();
  }

  /** This client's window over a server ring of `servers` arcs (cached while peers, size and aperture are unchanged). */
  window(servers: number, aperture: number): WindowMember[] {
    const layout = this.#layout;
    if (layout === undefined) return [];
    const cache = this.#cache;
    if (cache?.layout === layout && cache.servers === servers && cache.aperture === aperture)
      return cache.window;
    const window = peerWindowMembers(layout, this.#selfIndex, servers, aperture);
    this.#cache = { layout, servers, aperture, window };
    return window;
  }

  #accept(inputs: unknown, path: string): void {
    const addresses = parseEndpoints(inputs, path).map((e) => e.address);
    if (!addresses.includes(this.#self)) addresses.push(this.#self);
    if (addresses.length > MAX_PEERS)
      throw new ConfigError({
        field: path,
        allowed: `at most ${MAX_PEERS} peers`,
        received: addresses.length,
      });
    const layout = peerRingLayout(addresses, this.#seed);
    this.#layout = layout;
    this.#selfIndex = layout.peers.indexOf(this.#self);
  }
}

function isResolver(value: unknown): value is Resolver {
  const r = value as Resolver | null;
  return (
    typeof r === 'object' && r !== null && typeof r.start === 'function' && typeof r.close === 'function'
  );
}
