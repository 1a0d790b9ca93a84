/**
 * The targets of issue 19 on the fleet measurement (benchmarks/subsetting/fleet.ts, real Balancers): 200 clients ×
 * 100 backends with the default subsetting (stable ring, aperture 12), random subsetting of the same size in the
 * same run for comparison, and the connection churn of scaling clients and backends.
 */
import { describe, expect, it } from 'vitest';
import { backendAddresses, churn, removeBackends, runFleet } from '../../benchmarks/subsetting/fleet.js';

const base = { clients: 200, backends: 100, aperture: 12, policy: 'p2c_robust_ewma' } as const;

describe('200 clients × 100 backends, uniform load', () => {
  const aperture = runFleet({ ...base, peerRing: 'stable', picksPerClient: 2_000 });
  // Same size as the aperture's subsets (12.98 per client on average), chosen at random by each client.
  const random = runFleet({ ...base, aperture: 13, peerRing: undefined, picksPerClient: 2_000 });

  it('connections per backend ≤ 1.25 × mean, total ≤ 15 % of the full mesh', () => {
    expect(aperture.connections.maxOverMean).toBeLessThanOrEqual(1.25);
    expect(aperture.meshFraction).toBeLessThanOrEqual(0.15);
    // The comparison: random subsetting of the same size is visibly uneven.
    expect(Math.abs(random.meshFraction - aperture.meshFraction)).toBeLessThan(0.01);
    expect(random.connections.maxOverMean).toBeGreaterThan(1.25);
  });

  it('request load (picks of the real Balancers) max/mean ≤ 1.10', () => {
    expect(aperture.load!.maxOverMean).toBeLessThanOrEqual(1.1);
    expect(random.load!.maxOverMean).toBeGreaterThan(1.25);
  });
});

describe('fleet changes move few connections', () => {
  const before = runFleet({ ...base, peerRing: 'stable', picksPerClient: 0 });

  it('clients 200 → 250: changes ≤ 2 × the minimum necessary', () => {
    const after = runFleet({ ...base, clients: 250, peerRing: 'stable', picksPerClient: 0 });
    const c = churn(before, after, backendAddresses(100));
    expect(c.minimum).toBeGreaterThan(0);
    expect(c.ratio).toBeLessThanOrEqual(2);
  });

  it('backends 100 → 90: changes ≤ 2 × the minimum necessary', () => {
    const { result, remaining } = removeBackends({ ...base, peerRing: 'stable', picksPerClient: 0 }, 90);
    expect(remaining).toHaveLength(90);
    const c = churn(before, result, remaining);
    expect(c.ratio).toBeLessThanOrEqual(2);
  });

  it('the even (Finagle) ring misses the client target: why stable is the default', () => {
    const even = runFleet({ ...base, peerRing: 'even', picksPerClient: 0 });
    const grown = runFleet({ ...base, clients: 250, peerRing: 'even', picksPerClient: 0 });
    expect(churn(even, grown, backendAddresses(100)).ratio).toBeGreaterThan(2);
  });
});
