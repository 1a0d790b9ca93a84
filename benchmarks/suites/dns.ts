/**
 * DNS answer handling, which runs once per refresh (every TTL, 5 s by default), not per request: what it costs
 * relative to the work the Balancer does anyway on an update.
 * - baseline `parseEndpoints`: the Balancer validating the same endpoint list (it does so on every update);
 * - `dns/answer/a`: A records → endpoints (validation, dedup, sort);
 * - `dns/answer/srv`: SRV records + target addresses → endpoints (levels, weight split, merge);
 * - `dns/fingerprint`: the change check that lets an unchanged answer skip the update entirely.
 */
import { parseEndpoints } from '../../src/endpoint.js';
import {
  addressAnswerToEndpoints,
  checkSrvRecords,
  endpointsFingerprint,
  type FamilyRecords,
  srvAnswerToEndpoints,
} from '../../src/resolvers/dns/answer.js';
import type { Bench } from '../harness.js';

const SIZES = [10, 1000];

export default async function suite(b: Bench): Promise<void> {
  for (const n of SIZES) {
    const options = { hostname: 'orders.test', prefer: 'none' as const, maxEndpoints: 65_535 };
    const ipv4 = Array.from({ length: n }, (_, i) => ({
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      ttl: 5,
    }));
    const set = addressAnswerToEndpoints(8080, { ipv4 }, options);
    const rawSrv = Array.from({ length: n }, (_, i) => ({
      name: `t${i}.orders.test`,
      port: 8080,
      priority: i % 3,
      weight: i % 5,
    }));
    const targets = new Map<string, FamilyRecords>(rawSrv.map((r, i) => [r.name, { ipv4: [ipv4[i]!] }]));
    b.group(`DNS answer handling, ${n} records`, () => {
      b.bench(`dns/baseline-parseEndpoints/${n}`, () => parseEndpoints(set.endpoints, 'endpoints'));
      b.bench(`dns/answer/a/${n}`, () => addressAnswerToEndpoints(8080, { ipv4 }, options));
      b.bench(`dns/answer/srv/${n}`, () =>
        srvAnswerToEndpoints(checkSrvRecords(rawSrv, options), targets, options),
      );
      b.bench(`dns/fingerprint/${n}`, () => endpointsFingerprint(set.endpoints));
    });
  }
}
