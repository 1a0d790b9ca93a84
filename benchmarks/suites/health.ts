/**
 * Cost of health on the hot path, against a same-run baseline: pick + release through a Balancer without health
 * options, with outlier detection (its `outcome` hook runs on every release), and with outlier detection, slow
 * start and `localZone` together; bytes allocated per pick + release; and one picker rebuild over two priority
 * levels × two zones (off the hot path, but it runs on every health change).
 */
import { Balancer } from '../../src/balancer/balancer.js';
import type { Outcome } from '../../src/balancer/outcome.js';
import { seededRandom } from '../../src/random.js';
import type { Bench } from '../harness.js';

const N = 100;
const endpoints = Array.from({ length: N }, (_, i) => ({
  host: '10.0.0.1',
  port: 1000 + i,
  priority: i < 80 ? 0 : 1,
  locality: { zone: i % 2 === 0 ? 'a' : 'b' },
}));
const OK: Outcome = { ok: true, latencyMs: 5, now: 0 };
const FAIL: Outcome = { ok: false, failure: 'status', status: 500, latencyMs: 5, now: 0 };
const CTX = { now: 0 };
// Failures every 50th release, never 1,000,000 in a row: the hook counts, nothing is ejected.
const NO_EJECTION = { consecutive5xx: 1_000_000 };

function pickRelease(balancer: Balancer): () => unknown {
  let i = 0;
  return () => {
    const lease = balancer.pick(CTX)!;
    lease.release(++i % 50 === 0 ? FAIL : OK);
    return lease;
  };
}

export default async function suite(b: Bench): Promise<void> {
  const base = { endpoints, policy: 'p2c_peak_ewma' as const, random: seededRandom(1) };
  const plain = new Balancer(base);
  const outlier = new Balancer({ ...base, outlierDetection: NO_EJECTION });
  const all = new Balancer({
    ...base,
    outlierDetection: NO_EJECTION,
    slowStart: { windowMs: 1 },
    localZone: 'a',
  });
  b.group(`health: pick + release, ${N} endpoints, p2c_peak_ewma`, () => {
    b.bench(`health/pick-release/baseline/${N}`, pickRelease(plain));
    b.bench(`health/pick-release/outlier/${N}`, pickRelease(outlier));
    b.bench(`health/pick-release/outlier+slow-start+zone/${N}`, pickRelease(all));
  });
  b.allocations(`health/pick-release/baseline/${N}`, pickRelease(plain));
  b.allocations(`health/pick-release/outlier/${N}`, pickRelease(outlier));

  const zoned = new Balancer({ ...base, localZone: 'a' });
  b.group(`health: picker rebuild, ${N} endpoints, 2 levels × 2 zones`, () => {
    // setPolicy rebuilds: routable-set selection, grouping, and the policy's build per group.
    b.bench(`health/rebuild/2-levels-2-zones/${N}`, () => zoned.setPolicy('p2c_peak_ewma'));
  });
}
