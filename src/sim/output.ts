/**
 * Turns a {@link SimulationResult} into what people read: the results table and the two SVG charts, optionally
 * written to a folder (`<name>-latency.svg`, `<name>-load.svg`, `<name>.txt`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigurationResult, SimulationResult } from './engine.js';
import { formatTable, type ResultRow } from './report.js';
import { cdfChart, loadChart, type Series } from './svg.js';

/** Most backends shown one by one when the fleet is a single group of replicas. */
const MAX_INDIVIDUAL = 10;

/** True when results are shown per backend: one group of replicas, small enough to list (e.g. hot keys). */
function perReplica(result: ConfigurationResult): boolean {
  const groups = new Set(result.backends.map((b) => b.group));
  return groups.size === 1 && result.backends.length > 1 && result.backends.length <= MAX_INDIVIDUAL;
}

/**
 * Share of attempts per backend group (replicas of one `backends[]` entry summed) — or, when the whole fleet is
 * one group of replicas, the largest and smallest share of a single replica (how uneven the spread is).
 */
export function groupShares(result: ConfigurationResult): [string, number][] {
  if (new Set(result.backends.map((b) => b.group)).size === 1 && result.backends.length > 1) {
    const shares = result.backends.map((b) => b.share);
    return [
      [`${result.backends[0]!.group} max`, Math.max(...shares)],
      ['min', Math.min(...shares)],
    ];
  }
  const shares = new Map<string, number>();
  for (const b of result.backends) shares.set(b.group, (shares.get(b.group) ?? 0) + b.share);
  return [...shares];
}

/** Table rows for a simulation. */
export function resultRows(result: SimulationResult): ResultRow[] {
  return result.configurations.map((c) => ({
    name: c.name,
    requests: c.requests,
    p50: c.latency.p50,
    p99: c.latency.p99,
    p999: c.latency.p999,
    errors: c.errors,
    retries: c.retries,
    shares: groupShares(c),
  }));
}

/** Channel events worth a line under the table (endpoint additions and removals are the fleet's own timeline). */
const REPORTED_EVENTS: readonly [string, string][] = [
  ['endpointEjected', 'ejections'],
  ['endpointReturned', 'returns'],
  ['panic', 'panic changes'],
];

/** The full text report: title, description, table, and what the library reported during each run. */
export function textReport(result: SimulationResult): string {
  const lines = [`# ${result.name}`];
  if (result.description !== '') lines.push(result.description);
  lines.push('', formatTable(resultRows(result)), '');
  for (const c of result.configurations) {
    const parts = REPORTED_EVENTS.flatMap(([key, label]) => {
      const n = c.channelEvents[key] ?? 0;
      return n === 0 ? [] : [`${n.toLocaleString('en-US')} ${label}`];
    });
    if (parts.length > 0) lines.push(`${c.name}: ${parts.join(', ')} (all clients)`);
  }
  if (lines[lines.length - 1] !== '') lines.push('');
  return lines.join('\n');
}

/** Latency CDF chart, one line per configuration. */
export function latencySvg(result: SimulationResult): string {
  return cdfChart(
    `${result.name}: latency CDF`,
    result.configurations.map((c): Series => ({ label: c.name, points: c.cdf })),
  );
}

/** Load-over-time chart: one panel per configuration, one line per backend group (sum of its replicas). */
export function loadSvg(result: SimulationResult): string {
  return loadChart(
    `${result.name}: requests/s sent to each backend`,
    result.configurations.map((c) => {
      const single = perReplica(c);
      const keyOf = (b: (typeof c.backends)[number]) => (single ? b.name : b.group);
      const groups = new Map<string, number[]>();
      c.backends.forEach((b, i) => {
        const series = c.load.series[i]!;
        const acc = groups.get(keyOf(b));
        if (acc === undefined) groups.set(keyOf(b), [...series]);
        else for (let t = 0; t < series.length; t++) acc[t]! += series[t]!;
      });
      const replicas = new Map<string, number>();
      for (const b of c.backends) replicas.set(keyOf(b), (replicas.get(keyOf(b)) ?? 0) + 1);
      return {
        label: c.name,
        series: [...groups].map(([group, values]) => ({
          // Several replicas: plot the mean per replica, so groups of different sizes compare.
          label: replicas.get(group)! > 1 ? `${group} (per replica)` : group,
          points: values.map((v, t) => [(t + 0.5) * c.load.bucketMs, v / replicas.get(group)!] as const),
        })),
      };
    }),
  );
}

/** Writes the report and both charts to `dir`; returns the paths written. */
export async function writeResults(
  result: SimulationResult,
  dir: string,
  baseName: string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [join(dir, `${baseName}.txt`), textReport(result)],
    [join(dir, `${baseName}-latency.svg`), latencySvg(result)],
    [join(dir, `${baseName}-load.svg`), loadSvg(result)],
  ];
  for (const [path, content] of files) await writeFile(path, content);
  return files.map(([path]) => path);
}
