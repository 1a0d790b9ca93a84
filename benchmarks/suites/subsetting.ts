/**
 * Cost of subsetting (src/subsetting) against a same-run baseline: pick + release through a Balancer over 1,000
 * endpoints with and without `subset` (the hot path should not change: the picker holds the subset only), and one
 * picker rebuild (on every health change) with and without it, the server ring cached between rebuilds.
 */
import { Balancer } from '../../src/balancer/balancer.js';
import type { Outcome } from '../../src/balancer/outcome.js';
import { seededRandom } from '../../src/random.js';
import { serverRing } from '../../src/subsetting/index.js';
import type { Bench } from '../harness.js';

const N = 1000;
const endpoints = Array.from({ length: N }, (_, i) => `10.0.${i >> 8}.${i & 255}:8080`);
const OK: Outcome = { ok: true, latencyMs: 5, now: 0 };
const CTX = { now: 0 };

function pickRelease(balancer: Balancer): () => unknown {
  return () => {
    const lease = balancer.pick(CTX)!;
    lease.release(OK);
    return lease;
  };
}

export default async function suite(b: Bench): Promise<void> {
  const base = { endpoints, random: seededRandom(1) };
  const full = new Balancer(base);
  const subset = new Balancer({
    ...base,
    subset: { kind: 'aperture', coordinate: { index: 17, count: 300 } },
  });
  b.group(`subsetting: pick + release, ${N} endpoints, p2c_robust_ewma`, () => {
    b.bench(`subsetting/pick-release/full/${N}`, pickRelease(full));
    b.bench(`subsetting/pick-release/aperture-12/${N}`, pickRelease(subset));
  });
  b.allocations(`subsetting/pick-release/full/${N}`, pickRelease(full));
  b.allocations(`subsetting/pick-release/aperture-12/${N}`, pickRelease(subset));
  b.group(`subsetting: picker rebuild, ${N} endpoints`, () => {
    // setPolicy rebuilds: routable-set selection and the policy's build; with subset, the window and widening too.
    b.bench(`subsetting/rebuild/full/${N}`, () => full.setPolicy('p2c_robust_ewma'));
    b.bench(`subsetting/rebuild/aperture-12/${N}`, () => subset.setPolicy('p2c_robust_ewma'));
    // What the cache saves: hashing and sorting the ring, as after an endpoint update.
    b.bench(`subsetting/server-ring/${N}`, () => serverRing(endpoints, 0));
  });
}
