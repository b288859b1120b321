/**
 * report.html's soak charts: throughput per window of every soak on one chart, request p99 per
 * window, and per soak the RSS of every replica over time and its event-loop lag per window
 * (the /health probe, and prom-client's gauges when exported), leader changes marked in red
 * and snapshots (stable checkpoints for PBFT) as grey ticks.
 */
import type { LagSeries, SoakReport } from './soak-results.js';
import { changeText, soakLabel } from './soak-summary.js';
import { lineChart, type LineMarker, type LineSeries } from './svg-charts.js';

const msLabel = (v: number): string => (v >= 10 ? String(Math.round(v)) : v.toFixed(1));
/** Beyond this many snapshot ticks a chart would be grey all over: they are left out (and said so). */
const maxSnapshotTicks = 60;

const mid = (s: SoakReport, i: number): number => (i + 0.5) * s.windowS * 1000;

function leaderMarkers(s: SoakReport, prefix = ''): LineMarker[] {
  return s.leadership.events.map((e) => ({ x: e.tS * 1000, label: `${prefix}${changeText(e)}`, tooltip: `${prefix}${changeText(e)} at ${e.tS.toFixed(1)} s (epoch ${e.epoch})` }));
}

function snapshotMarkers(s: SoakReport): LineMarker[] {
  if (s.snapshots.length > maxSnapshotTicks) return [];
  return s.snapshots.map((e) => ({ x: e.tS * 1000, label: '', tooltip: `${e.replica}: snapshot/checkpoint ${e.index} at ${e.tS.toFixed(1)} s`, stroke: '#999' }));
}

export function soakCharts(soaks: SoakReport[]): string[] {
  if (soaks.length === 0) return [];
  const out: string[] = [];
  const allLeaderMarkers = soaks.flatMap((s) => leaderMarkers(s, `${soakLabel(s, soaks)}: `));
  const xMax = Math.max(...soaks.map((s) => s.windows.length * s.windowS * 1000));
  out.push(
    lineChart({
      title: `Soak: successful requests per second, per ${soaks[0]!.windowS} s window`,
      xLabel: 'seconds since the load started (window midpoints)',
      yLabel: 'requests / s',
      series: soaks.map((s) => ({ name: soakLabel(s, soaks), points: s.windows.map((w, i): [number, number] => [mid(s, i), w.rps]) })),
      markers: allLeaderMarkers,
      xMax,
    }),
    lineChart({
      title: 'Soak: request latency p99 per window (successful requests)',
      xLabel: 'seconds since the load started',
      yLabel: 'ms',
      format: msLabel,
      series: soaks.map((s) => ({ name: soakLabel(s, soaks), points: s.windows.map((w, i): [number, number] => [mid(s, i), w.latencyMs.p99]) })),
      markers: allLeaderMarkers,
      xMax,
    }),
  );
  for (const s of soaks) {
    const label = soakLabel(s, soaks);
    out.push(
      lineChart({
        title: `${label}: resident memory (RSS) per replica`,
        xLabel: 'seconds since the load started',
        yLabel: 'MiB',
        series: s.replicas.map((r) => ({ name: r.id, points: r.rss.series.map(([t, v]): [number, number] => [t * 1000, v]) })),
        markers: leaderMarkers(s),
        xMax: s.windows.length * s.windowS * 1000,
      }),
    );
    const skipped = s.snapshots.length > maxSnapshotTicks ? ` (${s.snapshots.length} snapshots/checkpoints, too many to mark)` : '';
    out.push(
      lagChart(`${label}: GET ${s.sampler.probePath} response time per replica, per window${skipped}`, s, (r) => r.probe),
    );
    if (s.replicas.some((r) => r.gauges !== null)) {
      out.push(lagChart(`${label}: event-loop delay from prom-client's gauges, per window${skipped}`, s, (r) => r.gauges));
    }
  }
  return out;
}

/** Max (solid) and p99 (dashed) per window, one colour per replica. */
function lagChart(title: string, s: SoakReport, pick: (r: SoakReport['replicas'][number]) => LagSeries | null): string {
  const series: LineSeries[] = [];
  s.replicas.forEach((r, i) => {
    const lag = pick(r);
    if (lag === null) return;
    const points = (f: 'maxMs' | 'p99Ms'): [number, number][] =>
      lag.windows.flatMap((w, j): [number, number][] => (w[f] === null ? [] : [[mid(s, j), w[f]!]]));
    series.push({ name: `${r.id} max`, points: points('maxMs'), color: i }, { name: `${r.id} p99`, points: points('p99Ms'), color: i, dashed: true });
  });
  return lineChart({
    title,
    xLabel: 'seconds since the load started',
    yLabel: 'ms',
    format: msLabel,
    yMin: 1,
    series,
    markers: [...snapshotMarkers(s), ...leaderMarkers(s)],
    xMax: s.windows.length * s.windowS * 1000,
  });
}
