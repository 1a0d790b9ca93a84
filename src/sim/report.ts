/**
 * Text output: the results table the simulator and `npm run demo` print, one row per configuration.
 */

/** One row of the results table; the simulator and the demo both fill it. */
export interface ResultRow {
  readonly name: string;
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly errors: number;
  readonly retries: number;
  /** Share of attempts per backend (or backend group), 0–1, in display order. */
  readonly shares: readonly (readonly [string, number])[];
}

/** Formats milliseconds for a table: `0.42`, `12.3`, `1,204`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString('en-US');
}

/** Renders rows as an aligned plain-text table (fits a terminal and a Markdown code block). */
export function formatTable(rows: readonly ResultRow[]): string {
  const header = ['configuration', 'requests', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'retries', 'share'];
  const body = rows.map((r) => [
    r.name,
    r.requests.toLocaleString('en-US'),
    formatMs(r.p50),
    formatMs(r.p99),
    formatMs(r.p999),
    r.errors === 0 ? '0' : `${r.errors.toLocaleString('en-US')} (${percent(r.errors / r.requests)})`,
    r.retries.toLocaleString('en-US'),
    r.shares.map(([name, share]) => `${name} ${percent(share)}`).join('  '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** `0.1234` → `12.3%`; small non-zero shares keep two decimals. */
export function percent(fraction: number): string {
  const p = fraction * 100;
  if (p === 0) return '0%';
  return `${p < 1 ? p.toFixed(2) : p.toFixed(1)}%`;
}
