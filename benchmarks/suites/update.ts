/**
 * What an endpoint-set update costs (issue 17: ≤ 50 ms at 10,000 endpoints for every policy): `setEndpoints()` on a
 * Balancer holding 10,000 weighted IPv4 endpoints, alternating between two lists that differ by one endpoint removed
 * at the front and one appended (a typical resolver update). It parses and validates the list, diffs it against the
 * held states, and rebuilds the policy's picker.
 *
 * Same-run baseline `update/baseline-map/10000`: copying the input list into a `Map` by `host:port` — the floor for
 * any diff by address. `build/<policy>/10000` is the picker build alone over the same states.
 */
import { Balancer } from '../../src/balancer/balancer.js';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import { createPolicy, parsePolicyConfig } from '../../src/balancer/policy/registry.js';
import { systemClock } from '../../src/clock.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { seededRandom } from '../../src/random.js';
import type { Bench } from '../harness.js';

const N = 10_000;
export const UPDATE_POLICIES = [
  'round_robin',
  'weighted_round_robin',
  'random',
  'least_request',
  'p2c_peak_ewma',
  'p2c_robust_ewma',
  'ring_hash',
  'maglev',
  'multiprobe',
];

function list(n: number): { host: string; port: number; weight: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
    weight: 1 + (i % 4),
  }));
}

export default async function suite(b: Bench): Promise<void> {
  const a = list(N);
  const c = [...a.slice(1), { host: '11.0.0.1', port: 8080, weight: 2 }];
  b.group(`endpoint-set update, ${N} endpoints`, () => {
    let flip = false;
    b.bench(`update/baseline-map/${N}`, () => {
      flip = !flip;
      const map = new Map<string, object>();
      for (const e of flip ? a : c) map.set(`${e.host}:${e.port}`, e);
      return map;
    });
    for (const policy of UPDATE_POLICIES) {
      const balancer = new Balancer({ endpoints: a, policy, random: seededRandom(7) });
      let odd = false;
      b.bench(`update/${policy}/${N}`, () => {
        odd = !odd;
        balancer.setEndpoints(odd ? c : a);
        return balancer;
      });
    }
    const states = a.map((e, k) => new EndpointState(parseEndpoint(e, `e${k}`), 0, 1));
    const fewer = states.slice(1);
    for (const policy of UPDATE_POLICIES) {
      const built = createPolicy(parsePolicyConfig(policy), {
        random: seededRandom(7),
        clock: systemClock,
        load: { totalInFlight: 0 },
      });
      let odd = false;
      b.bench(`build/${policy}/${N}`, () => {
        odd = !odd;
        return built.build(odd ? fewer : states);
      });
    }
  });
}
