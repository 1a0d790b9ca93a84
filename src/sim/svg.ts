/**
 * Hand-written SVG charts (no chart dependency): a latency CDF per configuration and per-backend load over time.
 * Output is plain SVG 1.1 that renders in browsers and on GitHub; colours come from a fixed palette so the same
 * configuration keeps its colour across charts.
 */

/** One line of a chart. */
export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];
/**
 * Dash patterns for the CDF lines, by configuration: configurations that perform alike draw exactly on top of each
 * other, and with solid lines the legend would name a series nobody can see. The first is solid and widest, the
 * rest dashed and narrower, so a line under another still shows through its gaps.
 */
const DASHES = ['', '8 4', '2 3', '12 3 2 3', '5 5', '1 4'];
const WIDTH = 720;
const MARGIN = { left: 64, right: 180, top: 36, bottom: 44 };
const FONT = 'font-family="system-ui, sans-serif" font-size="12"';

/** Escapes text for SVG. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/**
 * Latency CDF, one line per configuration. x: latency on a log scale; y: the quantile on a tail-stretched scale
 * (−log10(1 − q): 0, 90 %, 99 %, 99.9 %, 99.99 % equally spaced), because the differences that matter sit in the tail.
 */
export function cdfChart(title: string, series: readonly Series[]): string {
  const height = 360;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  // The axis starts at the fastest p1 (below it the curve is flat and only wastes width).
  const xs = series
    .flatMap((s) => s.points.filter(([, q]) => q >= 0.01).map(([x]) => x))
    .filter((x) => x > 0);
  const lo = Math.floor(Math.log10(Math.max(1e-3, Math.min(...xs, 1))));
  const hi = Math.ceil(Math.log10(Math.max(...xs, 10)));
  const X = (ms: number) =>
    MARGIN.left + ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo || 1)) * plotW;
  const tail = (q: number) => Math.min(4, -Math.log10(Math.max(1e-4, 1 - q)));
  const Y = (q: number) => MARGIN.top + plotH - (tail(q) / 4) * plotH;
  const parts: string[] = [frame(title, height)];
  for (let e = lo; e <= hi; e++) {
    const x = X(10 ** e);
    parts.push(gridLine(x, MARGIN.top, x, MARGIN.top + plotH));
    parts.push(
      text(
        x,
        MARGIN.top + plotH + 16,
        10 ** e >= 1 ? (10 ** e).toLocaleString('en-US') : String(10 ** e),
        'middle',
      ),
    );
  }
  for (const [q, label] of [
    [0, '0'],
    [0.9, 'p90'],
    [0.99, 'p99'],
    [0.999, 'p99.9'],
    [0.9999, 'p99.99'],
  ] as const) {
    const y = Y(q);
    parts.push(gridLine(MARGIN.left, y, MARGIN.left + plotW, y));
    parts.push(text(MARGIN.left - 6, y + 4, label, 'end'));
  }
  parts.push(text(MARGIN.left + plotW / 2, height - 8, 'latency, ms (log scale)', 'middle'));
  series.forEach((s, i) => {
    const d = s.points.map(([x, q], k) => `${k === 0 ? 'M' : 'L'}${num(X(x))},${num(Y(q))}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}"${lineStyle(i)}/>`);
  });
  parts.push(
    legend(
      series.map((s) => s.label),
      true,
    ),
  );
  return `${parts.join('\n')}\n</svg>\n`;
}

/**
 * Load over time: one panel per configuration, one line per backend (requests per second it was sent).
 */
export function loadChart(
  title: string,
  panels: readonly { label: string; series: readonly Series[] }[],
): string {
  const panelH = 170;
  const height = MARGIN.top + panels.length * (panelH + 40) + MARGIN.bottom - 20;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const all = panels.flatMap((p) => p.series.flatMap((s) => s.points));
  const maxX = Math.max(...all.map(([x]) => x), 1);
  const maxY = niceCeil(Math.max(...all.map(([, y]) => y), 1));
  const parts: string[] = [frame(title, height)];
  panels.forEach((panel, p) => {
    const top = MARGIN.top + p * (panelH + 40) + 14;
    const X = (t: number) => MARGIN.left + (t / maxX) * plotW;
    const Y = (v: number) => top + panelH - (v / maxY) * panelH;
    parts.push(text(MARGIN.left, top - 6, panel.label, 'start', 'bold'));
    for (const v of [0, maxY / 2, maxY]) {
      parts.push(gridLine(MARGIN.left, Y(v), MARGIN.left + plotW, Y(v)));
      parts.push(text(MARGIN.left - 6, Y(v) + 4, Math.round(v).toLocaleString('en-US'), 'end'));
    }
    panel.series.forEach((s, i) => {
      const d = s.points.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${num(X(x))},${num(Y(y))}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5"/>`);
    });
    if (p === panels.length - 1) {
      for (let k = 0; k <= 4; k++) {
        const t = (maxX * k) / 4;
        parts.push(text(X(t), top + panelH + 16, `${num(t / 1000)} s`, 'middle'));
      }
    }
  });
  parts.push(text(MARGIN.left - 50, MARGIN.top + 6, 'req/s', 'start'));
  parts.push(legend(panels[0]?.series.map((s) => s.label) ?? []));
  return `${parts.join('\n')}\n</svg>\n`;
}

function frame(title: string, height: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(WIDTH / 2 - MARGIN.right / 2, 20, title, 'middle', 'bold'),
  ].join('\n');
}

/** Width and dash of CDF line `i` (see {@link DASHES}). */
function lineStyle(i: number): string {
  const dash = DASHES[i % DASHES.length]!;
  return i === 0 ? ' stroke-width="3"' : ` stroke-width="2" stroke-dasharray="${dash}"`;
}

function legend(labels: readonly string[], dashed = false): string {
  const x = WIDTH - MARGIN.right + 16;
  return labels
    .map((label, i) => {
      const y = MARGIN.top + 10 + i * 18;
      const style = dashed ? lineStyle(i) : ' stroke-width="3"';
      return `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${PALETTE[i % PALETTE.length]}"${style}/>${text(x + 28, y + 4, label, 'start')}`;
    })
    .join('\n');
}

function gridLine(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="#ddd"/>`;
}

function text(x: number, y: number, content: string, anchor: string, weight = 'normal'): string {
  return `<text x="${num(x)}" y="${num(y)}" text-anchor="${anchor}" font-weight="${weight}" fill="#222">${esc(content)}</text>`;
}

/** Rounds up to 1, 2 or 5 × a power of ten, for axis maxima. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
