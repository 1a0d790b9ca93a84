/**
 * `npx tsx scripts/subsetting.ts`: the subsetting tables of docs/subsetting.md — 200 clients × 100 backends with
 * deterministic aperture (both peer rings), random subsetting of the same size and the full mesh, in one run; then
 * the connection churn of 200 → 250 clients and 100 → 90 backends.
 */
import {
  backendAddresses,
  churn,
  type FleetCase,
  removeBackends,
  runFleet,
} from '../benchmarks/subsetting/fleet.js';

const base = { clients: 200, backends: 100, aperture: 12, picksPerClient: 2_000 };
const policies = ['p2c_robust_ewma', 'random'];
const cases: [string, Omit<FleetCase, 'policy'>][] = [
  ['aperture, stable ring (default)', { ...base, peerRing: 'stable' }],
  ['aperture, even ring (Finagle)', { ...base, peerRing: 'even' }],
  ['random subsetting, 13 per client', { ...base, aperture: 13, peerRing: undefined }],
];
const f = (x: number) => x.toFixed(3);

console.log(
  '| scheme | policy | conns/client | total conns (of full mesh) | conns max/mean (min..max) | picks max/mean |',
);
console.log('|---|---|---|---|---|---|');
for (const policy of policies) {
  for (const [label, c] of cases) {
    const r = runFleet({ ...c, policy });
    console.log(
      `| ${label} | ${policy} | ${f(r.total / c.clients)} | ${r.total} (${(100 * r.meshFraction).toFixed(1)} %) | ${f(r.connections.maxOverMean)} (${r.connections.min}..${r.connections.max}) | ${f(r.load!.maxOverMean)} |`,
    );
  }
}
const mesh = runFleet({ ...base, aperture: 100, peerRing: 'even', policy: 'p2c_robust_ewma' });
console.log(
  `| full mesh | p2c_robust_ewma | 100 | ${mesh.total} (100 %) | 1.000 | ${f(mesh.load!.maxOverMean)} |`,
);

console.log('\n| scheme | change | connections changed | minimum necessary | ratio |');
console.log('|---|---|---|---|---|');
for (const [label, c] of cases) {
  const before = runFleet({ ...c, policy: 'random', picksPerClient: 0 });
  const grown = runFleet({ ...c, clients: 250, policy: 'random', picksPerClient: 0 });
  const g = churn(before, grown, backendAddresses(100));
  console.log(`| ${label} | clients 200 → 250 | ${g.changed} | ${g.minimum} | ${f(g.ratio)} |`);
  const { result, remaining } = removeBackends({ ...c, policy: 'random', picksPerClient: 0 }, 90);
  const s = churn(before, result, remaining);
  console.log(`| ${label} | backends 100 → 90 | ${s.changed} | ${s.minimum} | ${f(s.ratio)} |`);
}
