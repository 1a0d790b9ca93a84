/**
 * Retries of keyed requests (pick with `exclude`) under the hashing policies go to the key's own second choice —
 * the next endpoint along the ring or table — so they are deterministic per key and spread across endpoints.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../helpers/properties.js';
import { rig } from './helpers.js';

const ENDPOINTS = Array.from({ length: 8 }, (_, i) => `10.0.0.${i + 1}:80`);

describe.each([
  ['ring_hash', { name: 'ring_hash' }],
  ['maglev', { name: 'maglev', tableSize: 4099 }],
  ['maglev with bounded load', { name: 'maglev', tableSize: 4099, balanceFactor: 1.5 }],
])('%s', (_label, policy) => {
  it('sends a retry to the same second choice every time, never the excluded endpoint', () => {
    checkProperty(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (hashKey) => {
        const { balancer } = rig(ENDPOINTS, { policy });
        const first = balancer.pick({ hashKey })!;
        first.release();
        const retries = Array.from({ length: 5 }, () => {
          const lease = balancer.pick({ hashKey, exclude: [first.endpoint.address] })!;
          lease.release();
          return lease.endpoint.address;
        });
        expect(retries[0]).not.toBe(first.endpoint.address);
        expect(new Set(retries).size).toBe(1);
        // Excluding the first two: a third endpoint, again stable.
        const third = balancer.pick({ hashKey, exclude: [first.endpoint.address, retries[0]!] })!;
        expect([first.endpoint.address, retries[0]]).not.toContain(third.endpoint.address);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('spreads the retries of the keys of one endpoint over the others', () => {
    const { balancer } = rig(ENDPOINTS, { policy });
    const owner = '10.0.0.1:80';
    const targets = new Map<string, number>();
    for (let k = 0; targets.size < 7 && k < 20_000; k++) {
      const hashKey = `user-${k}`;
      const lease = balancer.pick({ hashKey })!;
      lease.release();
      if (lease.endpoint.address !== owner) continue;
      const retry = balancer.pick({ hashKey, exclude: [owner] })!;
      retry.release();
      targets.set(retry.endpoint.address, (targets.get(retry.endpoint.address) ?? 0) + 1);
    }
    // The second choices of one endpoint's keys are not all the same neighbour: every other endpoint gets some.
    expect(targets.size).toBe(7);
    expect(targets.has(owner)).toBe(false);
  });
});
