/** report.html: one self-contained page (inline SVG, no scripts, no network) with the charts and tables. */
import type { FailoverReport } from './failover.js';
import type { BenchCell } from './results.js';
import type { RunNote } from './runner.js';
import { soakCharts } from './soak-charts.js';
import { soakGoalChecks } from './soak-goals.js';
import type { SoakReport } from './soak-results.js';
import { soakConditions, soakEventLines, soakReplicaHeader, soakReplicaRows, soakSummaryHeader, soakSummaryRow, soakWindowTable } from './soak-summary.js';
import { distinct, findCell, fmtOpt, goalChecks, ratios, seriesName, tableHeader, tableRow, type RunMeta } from './summary.js';
import { barChart, esc, lineChart } from './svg-charts.js';
import { targetGoalChecks } from './target-goals.js';

const htmlTable = (header: string[], rows: string[][]): string =>
  `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

export function renderHtml(cells: BenchCell[], failover: FailoverReport[], notes: RunNote[], meta: RunMeta, soaks: SoakReport[] = []): string {
  const body: string[] = [];
  const m = meta.machine;
  body.push(`<h1>consensus-lab benchmark</h1>`);
  body.push(`<p><code>${esc(meta.command)}</code><br>${esc(meta.startedAt)} · ${esc(m.cpuModel)}, ${m.cores} cores, ${m.memoryGiB} GiB · load average ${meta.loadAverage.start} → ${meta.loadAverage.end} · Node ${esc(m.node)}${m.etcd === null ? ' · no etcd' : ` · etcd ${esc(m.etcd)}`}</p>`);
  if (notes.length > 0) body.push(`<ul>${notes.map((n) => `<li>${esc(`${n.system}${n.workload === undefined ? '' : ` (${n.workload})`}: ${n.note}`)}</li>`).join('')}</ul>`);
  // One series per (system, target): "raft → follower" when the run has several targets.
  const series = distinct(cells.map((c) => `${c.system}\u0000${c.target}`)).map((k) => {
    const [system, target] = k.split('\u0000') as [string, BenchCell['target']];
    return { system, target, name: seriesName(cells, system, target) };
  });
  const connections = distinct(cells.map((c) => c.connections)).sort((a, b) => a - b);
  for (const workload of distinct(cells.map((c) => c.workload))) {
    body.push(`<h2>${esc(workload)}</h2>`);
    const present = series.filter((s) => cells.some((c) => c.system === s.system && c.target === s.target && c.workload === workload));
    const at = (s: (typeof series)[number], c: number): BenchCell | undefined => findCell(cells, s.system, workload, c, s.target);
    body.push(
      barChart({
        title: `${workload}: throughput by system and connections`,
        yLabel: 'successful requests / s',
        groups: connections.map((c) => `${c} conn`),
        series: present.map((s) => ({ name: s.name, values: connections.map((c) => at(s, c)?.rps ?? null) })),
      }),
    );
    for (const c of connections) {
      const here = present.filter((s) => at(s, c) !== undefined);
      if (here.length === 0) continue;
      body.push(
        barChart({
          title: `${workload}, ${c} connection${c === 1 ? '' : 's'}: latency percentiles (log scale)`,
          yLabel: 'ms',
          groups: here.map((s) => s.name),
          log: true,
          format: (v) => (v >= 1 ? String(Math.round(v * 100) / 100) : v.toPrecision(2)),
          series: (['p50', 'p90', 'p99', 'max'] as const).map((p) => ({ name: p, values: here.map((s) => at(s, c)?.latencyMs[p] ?? null) })),
        }),
      );
    }
    body.push(htmlTable(tableHeader, cells.filter((x) => x.workload === workload).map(tableRow)));
  }
  const rs = ratios(cells);
  if (rs.length > 0) {
    body.push('<h2>Ratios</h2>');
    body.push(htmlTable(['workload', 'target', 'conns', 'pair', 'req/s ratio', 'p99 ratio'], rs.map((r) => [r.workload, r.target, String(r.connections), `${r.numerator} / ${r.denominator}`, fmtOpt(r.rps) + '×', fmtOpt(r.p99) + '×'])));
  }
  const goals = goalChecks(cells);
  if (goals.length > 0) {
    body.push('<h2>Goals (issue 7)</h2>');
    body.push(htmlTable(['goal', 'this run', 'met'], goals.map((g) => [g.goal, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : 'NO'])));
  }
  const targetRows = targetGoalChecks(cells);
  if (targetRows.length > 0) {
    body.push('<h2>Goals through any replica (issue 13)</h2>', '<p>Each system against itself: the same workload and connections, the load sent to another target; judged on the medians.</p>');
    body.push(htmlTable(['goal', 'this run', 'met'], targetRows.map((g) => [g.goal, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : 'NO'])));
  }
  if (failover.length > 0) {
    body.push('<h2>Failover</h2>');
    for (const f of failover) {
      body.push(
        lineChart({
          title: `${f.system} (${f.nodes} nodes): acknowledged writes per second, ${f.ratePerS}/s offered, 100 ms buckets`,
          xLabel: 'seconds since the load started',
          yLabel: 'writes / s',
          series: [
            { name: 'acknowledged', points: f.buckets.map((b) => [b.tMs, b.okPerS]) },
            { name: 'failed', points: f.buckets.map((b) => [b.tMs, b.failedPerS]) },
          ],
          markers: [{ x: f.killAtMs, label: `kill ${f.killedReplica}${f.recoveryMs === null ? '' : `, first ack after ${f.recoveryMs} ms`}` }],
        }),
      );
    }
    body.push(
      htmlTable(
        ['system', 'killed', 'kill → first ack (ms)', 'longest gap (ms)', 'ok', 'failed', 'not sent'],
        failover.map((f) => [f.system, f.killedReplica, f.recoveryMs === null ? 'never' : String(f.recoveryMs), String(f.longestGapMs), String(f.writesOk), String(f.writesFailed), String(f.writesNotSent)]),
      ),
    );
  }
  if (soaks.length > 0) body.push(...soakSection(soaks));
  const style = `body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:12px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f4f4f4}td:nth-child(-n+3){text-align:left}details{margin:1em 0}svg{display:block;margin:1em 0;max-width:100%;height:auto}code{background:#f4f4f4;padding:2px 4px}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>consensus-lab benchmark ${esc(meta.startedAt)}</title><style>${style}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

/** Charts first, then the tables report.md has (the per-window table folded away). */
function soakSection(soaks: SoakReport[]): string[] {
  const out = ['<h2>Soak</h2>', `<p>${esc(soakConditions(soaks))}</p>`];
  out.push(htmlTable(soakSummaryHeader, soaks.map((s) => soakSummaryRow(s, soaks))));
  const goals = soakGoalChecks(soaks);
  if (goals.length > 0) {
    out.push('<h3>Soak goals (issue: fast off the happy path)</h3>');
    out.push(htmlTable(['goal', 'this run', 'met'], goals.map((g) => [g.goal, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : 'NO'])));
  }
  out.push(`<ul>${soaks.flatMap((s) => soakEventLines(s, soaks)).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`);
  out.push(...soakCharts(soaks));
  out.push('<h3>Replicas</h3>', htmlTable(soakReplicaHeader, soaks.flatMap((s) => soakReplicaRows(s, soaks))));
  const table = soakWindowTable(soaks);
  out.push(`<details><summary>Throughput per window</summary>${htmlTable(table.header, table.rows)}</details>`);
  return out;
}
