/**
 * The coordinate derived from a peer list (src/subsetting/peer-ring.ts, peer-list.ts): even connections and load
 * over the fleet, few connections moved when peers or backends come and go, and a Balancer that follows a resolver
 * of its peers, keeping the last good list on a bad update.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backendAddresses } from '../../benchmarks/subsetting/fleet.js';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import {
  connectionChurn,
  fleetBalance,
  fleetSubsets,
  minimumChurn,
  peerAddress,
  peerRingLayout,
  peerWindowMembers,
  peerWindowSpan,
  serverRing,
} from '../../src/subsetting/index.js';
import { manualResolver } from '../helpers/manual-resolver.js';
import { checkProperty } from '../helpers/properties.js';

const scheme = { kind: 'peers', aperture: 12, seed: 0 } as const;

describe('fleet balance from a peer list (200 clients × 100 backends, aperture 12)', () => {
  const backends = backendAddresses(100);
  const subsets = fleetSubsets(200, backends, scheme);
  const balance = fleetBalance(subsets, backends);

  it('connections per backend ≤ 1.25 × the mean and ≤ 15 % of the full mesh', () => {
    expect(balance.connections.maxOverMean).toBeLessThanOrEqual(1.25);
    expect(balance.total / (200 * 100)).toBeLessThanOrEqual(0.15);
  });

  it('load per backend ≤ 1.10 × the mean: the shared balancing evens out dense and sparse stretches', () => {
    expect(balance.load.maxOverMean).toBeLessThanOrEqual(1.1);
    // Uniform shares within each window (no balancing) load the backends under dense stretches up to ~1.3×.
    const uniform = subsets.map((s) => new Map([...s.keys()].map((a) => [a, 1 / s.size])));
    expect(fleetBalance(uniform, backends).load.maxOverMean).toBeGreaterThan(1.15);
  });

  it('clients 200 → 250 and backends 100 → 90 move ≤ 2 × the minimum necessary', () => {
    const grown = fleetSubsets(250, backends, scheme);
    expect(connectionChurn(subsets, grown).changed).toBeLessThanOrEqual(
      2 * minimumChurn(subsets, grown, new Set(backends)),
    );
    const remaining = backends.filter((_, i) => i % 10 !== 0);
    const shrunk = fleetSubsets(200, remaining, scheme);
    expect(connectionChurn(subsets, shrunk).changed).toBeLessThanOrEqual(
      2 * minimumChurn(subsets, shrunk, new Set(remaining)),
    );
  });
});

describe('one peer joining', () => {
  // While the span ⌈a·N_c/N_s⌉ stays the same; when it grows, every window grows by one stretch (as every window of
  // Finagle's even ring widens), which the 200 → 250 churn measurement above includes.
  it('changes the members of at most span clients: those whose windows reach its point', () => {
    checkProperty(
      fc.property(
        fc.integer({ min: 2, max: 120 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (clients, servers, aperture, seed) => {
          const span = peerWindowSpan(clients + 1, servers, aperture);
          fc.pre(span === peerWindowSpan(clients, servers, aperture));
          const ring = serverRing(backendAddresses(servers), seed);
          const membersOf = (count: number) => {
            const layout = peerRingLayout(
              Array.from({ length: count }, (_, i) => peerAddress(i)),
              seed,
            );
            return Array.from({ length: clients }, (_, i) =>
              peerWindowMembers(layout, layout.peers.indexOf(peerAddress(i)), ring.length, aperture)
                .map((m) => m.rank)
                .sort((a, b) => a - b)
                .join(','),
            );
          };
          const before = membersOf(clients);
          const after = membersOf(clients + 1);
          const changed = before.filter((m, i) => m !== after[i]).length;
          // Only the windows that reach the newcomer's point (they now end there or one point earlier) change.
          expect(changed).toBeLessThanOrEqual(span);
        },
      ),
      { seed: 19, numRuns: 60 },
    );
  });
});

describe('a Balancer with coordinate { peers, self }', () => {
  const endpoints = backendAddresses(40);
  const peers = Array.from({ length: 30 }, (_, i) => peerAddress(i));

  it('follows its peer resolver: random subsetting first, the peer window after the first answer', () => {
    const resolver = manualResolver();
    const balancer = new Balancer({
      endpoints,
      subset: { kind: 'aperture', minAperture: 4, coordinate: { peers: resolver, self: peerAddress(7) } },
    });
    expect(balancer.subset!.coordinate).toBeUndefined();
    expect(balancer.subset!.members).toHaveLength(4);
    resolver.listener!.onUpdate({ endpoints: peers });
    const layout = peerRingLayout(peers, 0);
    const ring = serverRing(endpoints, 0);
    const expected = peerWindowMembers(layout, layout.peers.indexOf(peerAddress(7)), 40, 4).map(
      (m) => ring[m.rank],
    );
    expect(balancer.subset!.coordinate).toEqual({ index: layout.peers.indexOf(peerAddress(7)), count: 30 });
    expect(balancer.subset!.members).toEqual(expected);
    expect(balancer.pick()).toBeDefined();
    void balancer.close();
  });

  it('keeps the last good peer list on a bad update, and adds itself when missing', () => {
    const resolver = manualResolver();
    const balancer = new Balancer({
      endpoints,
      subset: { kind: 'aperture', minAperture: 4, coordinate: { peers: resolver, self: '10.9.9.9:9000' } },
    });
    resolver.listener!.onUpdate({ endpoints: peers });
    expect(balancer.subset!.coordinate!.count).toBe(31);
    const members = balancer.subset!.members;
    resolver.listener!.onUpdate({ endpoints: [...peers, peers[0]!] });
    resolver.listener!.onUpdate({ endpoints: [{ host: '10.0.0.1', port: 0 }] });
    expect(balancer.subset!.peerUpdatesRejected).toBe(2);
    expect(balancer.subset!.peerError).toBeInstanceOf(ConfigError);
    expect(balancer.subset!.peerError!.message).toMatch(/subset\.coordinate\.peers\[0\]\.port/);
    expect(balancer.subset!.members).toEqual(members);
    void balancer.close();
  });

  it('closes the peer resolver with the Balancer', async () => {
    let closed = 0;
    const resolver = { ...manualResolver(), close: () => void closed++ };
    const balancer = new Balancer({
      endpoints,
      subset: { kind: 'aperture', coordinate: { peers: resolver, self: peerAddress(0) } },
    });
    await balancer.close();
    expect(closed).toBe(1);
  });

  it('rejects a bad self, a bad peer entry and a peers value that is neither, naming the field', () => {
    const make = (coordinate: unknown) =>
      new Balancer({ endpoints, subset: { kind: 'aperture', coordinate } as never });
    expect(() => make({ peers, self: 'nope' })).toThrow(/subset\.coordinate\.self/);
    expect(() => make({ peers: [...peers, { host: '10.0.0.1', port: 70000 }], self: peers[0] })).toThrow(
      /subset\.coordinate\.peers\[30\]\.port/,
    );
    expect(() => make({ peers: 'dns:///peers', self: peers[0] })).toThrow(ConfigError);
    expect(() => make({ peers, self: peers[0], extra: 1 })).toThrow(/subset\.coordinate/);
  });
});
