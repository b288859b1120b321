/** Small self-contained SVG charts (no scripts, no CDN): grouped bars and lines. */
const palette = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0'];

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface BarSeries {
  name: string;
  values: (number | null)[];
}

export interface BarChart {
  title: string;
  yLabel: string;
  groups: string[];
  series: BarSeries[];
  log?: boolean;
  format?: (v: number) => string;
}

const W = 760;
const H = 320;
const M = { top: 36, right: 16, bottom: 64, left: 70 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function legend(names: string[], y: number): string {
  let x = M.left;
  return names
    .map((n, i) => {
      const item = `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${palette[i % palette.length]}"/><text x="${x + 14}" y="${y}" font-size="11">${esc(n)}</text>`;
      x += 24 + n.length * 7;
      return item;
    })
    .join('');
}

export function barChart(c: BarChart): string {
  const fmt = c.format ?? ((v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)));
  const all = c.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  let y: (v: number) => number;
  const ticks: number[] = [];
  if (c.log === true && all.length > 0) {
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))));
    const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))));
    const span = Math.max(1e-9, Math.log10(hi) - Math.log10(lo));
    y = (v) => M.top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * plotH;
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    const max = niceMax(Math.max(0, ...all));
    y = (v) => M.top + plotH - (v / max) * plotH;
    for (let i = 0; i <= 4; i++) ticks.push((max * i) / 4);
  }
  const groupW = plotW / Math.max(1, c.groups.length);
  const barW = Math.max(2, Math.min(40, (groupW * 0.8) / Math.max(1, c.series.length)));
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`);
  for (const t of ticks) {
    const ty = y(t);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${ty + 4}" text-anchor="end" font-size="11">${esc(fmt(t))}</text>`);
  }
  parts.push(`<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(c.yLabel)}</text>`);
  c.groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW + (groupW - barW * c.series.length) / 2;
    c.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined) return;
      const top = y(v);
      const x = gx + si * barW;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${Math.max(0, M.top + plotH - top).toFixed(1)}" fill="${palette[si % palette.length]}"><title>${esc(`${s.name}, ${g}: ${fmt(v)}`)}</title></rect>`,
      );
    });
    parts.push(`<text x="${M.left + gi * groupW + groupW / 2}" y="${M.top + plotH + 16}" text-anchor="middle" font-size="11">${esc(g)}</text>`);
  });
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`);
  parts.push(legend(c.series.map((s) => s.name), H - 14));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  /** Palette index (default: the series' position), so that related series can share a colour. */
  color?: number;
  /** Dashed line (e.g. a p99 next to a solid max of the same replica). */
  dashed?: boolean;
}

export interface LineMarker {
  x: number;
  /** Drawn at the top of the line; empty for an unlabelled tick (the label is its tooltip then). */
  label: string;
  tooltip?: string;
  /** Default red (events such as a kill or a leader change). */
  stroke?: string;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  markers: LineMarker[];
  /** Y tick labels (default: whole numbers). */
  format?: (v: number) => string;
  /** Lowest upper end of the y axis (so that a flat series near zero is not drawn as noise). */
  yMin?: number;
  /** Right end of the x axis (default: the largest x), so that charts of one run line up. */
  xMax?: number;
}

/** Like legend(), with each series' own colour and a dashed swatch for dashed series. */
function lineLegend(series: LineSeries[], y: number): string {
  let x = M.left;
  return series
    .map((s, i) => {
      const colour = palette[(s.color ?? i) % palette.length];
      const swatch = `<line x1="${x}" x2="${x + 12}" y1="${y - 4}" y2="${y - 4}" stroke="${colour}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="3 2"' : ''}/>`;
      const item = `${swatch}<text x="${x + 16}" y="${y}" font-size="11">${esc(s.name)}</text>`;
      x += 26 + s.name.length * 7;
      return item;
    })
    .join('');
}

export function lineChart(c: LineChart): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = c.xMax ?? Math.max(1, ...xs);
  const yMax = niceMax(Math.max(c.yMin ?? 0, ...ys));
  const fmt = c.format ?? ((v: number) => String(Math.round(v)));
  const x = (v: number): number => M.left + (v / xMax) * plotW;
  const y = (v: number): number => M.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const t = (yMax * i) / 4;
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${esc(fmt(t))}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const t = (xMax * i) / 5;
    parts.push(`<text x="${x(t)}" y="${M.top + plotH + 16}" text-anchor="middle" font-size="11">${(t / 1000).toFixed(1)}</text>`);
  }
  parts.push(`<text x="${M.left + plotW / 2}" y="${M.top + plotH + 32}" text-anchor="middle" font-size="11">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    const dash = s.dashed === true ? ' stroke-dasharray="5 3"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${palette[(s.color ?? i) % palette.length]}" stroke-width="1.5"${dash}><title>${esc(s.name)}</title></path>`);
  });
  let labelled = 0;
  let lastLabelX = -Infinity;
  for (const m of [...c.markers].sort((a, b) => a.x - b.x)) {
    const stroke = m.stroke ?? '#c00';
    const tip = m.tooltip ?? m.label;
    parts.push(`<line x1="${x(m.x)}" x2="${x(m.x)}" y1="${M.top}" y2="${M.top + plotH}" stroke="${stroke}" stroke-dasharray="4 3">${tip === '' ? '' : `<title>${esc(tip)}</title>`}</line>`);
    if (m.label === '') continue;
    // Labels of nearby markers go one row lower (three rows), so that they do not overprint.
    labelled = x(m.x) - lastLabelX < 120 ? labelled + 1 : 0;
    lastLabelX = x(m.x);
    parts.push(`<text x="${x(m.x) + 4}" y="${M.top + 10 + (labelled % 3) * 12}" font-size="11" fill="${stroke}">${esc(m.label)}</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`);
  parts.push(lineLegend(c.series, H - 14));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}
