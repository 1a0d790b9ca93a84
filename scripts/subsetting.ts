/**
 * `npx tsx scripts/subsetting.ts`: the subsetting tables of docs/subsetting.md — 200 clients × 100 backends with
 * deterministic aperture (both peer rings), random subsetting of the same size and the full mesh, in one run; then
 * the connection churn of 200 → 250 clients and 100 → 90 backends. `--svg <file>` also writes the chart of
 * connections per backend (docs/charts/subsetting-connections.svg).
 */
import { writeFileSync } from 'node:fs';
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
  ['aperture, from the peer list', { ...base, peerRing: 'peers' }],
  ['random subsetting, 13 per client', { ...base, aperture: 13, peerRing: undefined }],
];
const f = (x: number) => x.toFixed(3);
const svgAt = process.argv.indexOf('--svg');
const perBackend: { label: string; counts: number[] }[] = [];

console.log(
  '| scheme | policy | conns/client | total conns (of full mesh) | conns max/mean (min..max) | picks max/mean |',
);
console.log('|---|---|---|---|---|---|');
for (const policy of policies) {
  for (const [label, c] of cases) {
    const r = runFleet({ ...c, policy });
    if (policy === 'p2c_robust_ewma') perBackend.push({ label, counts: connectionCounts(r.subsets) });
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

console.log(
  '\n| unhealthy backends | widening | picks max/mean (healthy backends) | conns max/mean | total conns |',
);
console.log('|---|---|---|---|---|');
const all = backendAddresses(100);
for (const dead of [1, 10]) {
  const unhealthy = all.filter((_, i) => i % Math.floor(100 / dead) === 7).slice(0, dead);
  for (const maxAperture of [undefined, 12]) {
    const r = runFleet({ ...base, peerRing: 'stable', policy: 'p2c_robust_ewma', unhealthy, maxAperture });
    const widening = maxAperture === undefined ? 'on (default)' : 'off (maxAperture 12)';
    console.log(
      `| ${dead} | ${widening} | ${f(r.load!.maxOverMean)} | ${f(r.connections.maxOverMean)} | ${r.total} |`,
    );
  }
}

if (svgAt > 0) {
  writeFileSync(process.argv[svgAt + 1]!, connectionsChart(perBackend));
  console.log(`\nwrote ${process.argv[svgAt + 1]}`);
}

function connectionCounts(subsets: readonly ReadonlyMap<string, number>[]): number[] {
  const counts = new Map<string, number>();
  for (const s of subsets) for (const a of s.keys()) counts.set(a, (counts.get(a) ?? 0) + 1);
  return backendAddresses(100).map((a) => counts.get(a) ?? 0);
}

/** Connections per backend, backends sorted from most to least connected, one line per scheme. */
function connectionsChart(series: readonly { label: string; counts: number[] }[]): string {
  const [w, h, left, top, plotW, plotH] = [760, 300, 56, 40, 440, 220];
  const colours = ['#1f77b4', '#2ca02c', '#9467bd', '#d62728'];
  const maxY = 45;
  const X = (i: number) => left + (i / 99) * plotW;
  const Y = (v: number) => top + plotH - (v / maxY) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="20" font-weight="bold">Connections per backend: 200 clients × 100 backends, ~13 per client</text>`,
  ];
  for (const v of [0, 15, 30, 45]) {
    parts.push(`<line x1="${left}" y1="${Y(v)}" x2="${left + plotW}" y2="${Y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${Y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${h - 12}" text-anchor="middle">backends, most to least connected</text>`,
  );
  series.forEach((s, k) => {
    const sorted = [...s.counts].sort((a, b) => b - a);
    const d = sorted.map((v, i) => `${i === 0 ? 'M' : 'L'}${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${colours[k % 4]}" stroke-width="2"/>`);
    parts.push(
      `<rect x="${left + plotW + 16}" y="${top + 10 + k * 20}" width="12" height="3" fill="${colours[k % 4]}"/>`,
    );
    parts.push(
      `<text x="${left + plotW + 34}" y="${top + 15 + k * 20}">${s.label.replace(/, 13 per client/, '')}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
