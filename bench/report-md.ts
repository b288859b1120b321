/** report.md: the tables, the ratios to the baselines and the issue's goals, for one run. */
import type { FailoverReport } from './failover.js';
import type { RunNote } from './runner.js';
import type { BenchCell } from './results.js';
import { renderSoakMarkdown } from './soak-md.js';
import type { SoakReport } from './soak-results.js';
import { distinct, fmtMs, fmtOpt, goalChecks, ratios, tableHeader, tableRow, type RunMeta } from './summary.js';
import { systemRegistry } from './systems/registry.js';
import { targetGoalChecks } from './target-goals.js';

const mdTable = (header: string[], rows: string[][]): string =>
  [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 3 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export function renderMarkdown(cells: BenchCell[], failover: FailoverReport[], notes: RunNote[], meta: RunMeta, soaks: SoakReport[] = []): string {
  const out: string[] = [];
  out.push(`# consensus-lab benchmark, ${meta.startedAt}`, '');
  out.push('```', meta.command, '```', '');
  const m = meta.machine;
  out.push(`Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}${m.etcd === null ? ', no etcd' : `, etcd ${m.etcd}`}. Cluster and load generator share the machine. 1-minute load average ${meta.loadAverage.start} at the start, ${meta.loadAverage.end} at the end${Math.max(meta.loadAverage.start, meta.loadAverage.end) > m.cores ? ' (more than the cores: other work competed with this run, and a system with more processes gets a larger share of a contended CPU)' : ''}.`, '');
  const systems = distinct(cells.map((c) => c.system));
  if (systems.length > 0) {
    out.push('Systems:', '');
    for (const s of systems) out.push(`- **${s}**: ${systemRegistry[s]?.description ?? ''}`);
    out.push('');
  }
  if (notes.length > 0) {
    out.push('Notes:', '');
    for (const n of notes) out.push(`- ${n.system}${n.workload === undefined ? '' : ` (${n.workload})`}: ${n.note}`);
    out.push('');
  }
  for (const workload of distinct(cells.map((c) => c.workload))) {
    out.push(`## ${workload}`, '');
    const rows = cells.filter((c) => c.workload === workload).map(tableRow);
    out.push(mdTable(tableHeader, rows), '');
  }
  const rs = ratios(cells);
  if (rs.length > 0) {
    out.push('## Ratios', '', 'Throughput ratio (higher is better for the first system) and p99 latency ratio (lower is better).', '');
    out.push(
      mdTable(
        ['workload', 'target', 'conns', 'pair', 'req/s ratio', 'p99 ratio'],
        rs.map((r) => [r.workload, r.target, String(r.connections), `${r.numerator} / ${r.denominator}`, fmtOpt(r.rps) + '×', fmtOpt(r.p99) + '×']),
      ),
      '',
    );
  }
  const goals = goalChecks(cells);
  if (goals.length > 0) {
    out.push('## Goals (issue 7)', '');
    out.push(mdTable(['goal', 'this run', 'met'], goals.map((g) => [g.goal, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : '**no**'])), '');
  }
  const targetRows = targetGoalChecks(cells);
  if (targetRows.length > 0) {
    out.push('## Goals through any replica (issue 13)', '', 'Each system against itself: the same workload and connections, the load sent to another target. Judged on the medians (the median round of each cell).', '');
    out.push(mdTable(['goal', 'this run', 'met'], targetRows.map((g) => [g.goal, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : '**no**'])), '');
  }
  if (failover.length > 0) {
    out.push('## Failover', '');
    out.push(
      mdTable(
        ['system', 'nodes', 'write rate/s', 'killed', 'kill → first ack (ms)', 'longest gap (ms)', 'ok', 'failed', 'not sent'],
        failover.map((f) => [
          f.system,
          String(f.nodes),
          String(f.ratePerS),
          f.killedReplica,
          f.recoveryMs === null ? 'never' : String(f.recoveryMs),
          String(f.longestGapMs),
          String(f.writesOk),
          String(f.writesFailed),
          String(f.writesNotSent),
        ]),
      ),
      '',
      'Writes go round robin to every replica at a constant rate; the leader is SIGKILLed half-way. "kill → first ack" counts only writes sent after the kill. Throughput over time is charted in report.html.',
      '',
    );
  }
  out.push(...renderSoakMarkdown(soaks, mdTable));
  out.push('## How to read this', '');
  const rounds = Math.max(0, ...cells.map((c) => c.rounds.length));
  if (rounds > 1) out.push(`- Every cell ran in ${rounds} rounds, interleaved (round 1 started every system once, then round 2, …), each on a freshly started system; a row shows the round with the median req/s, \`req/s of every run\` all of them in round order.`);
  out.push(
    '- `req/s` is successful (2xx) responses per second over the measured round; latency percentiles are of successful responses' +
      (cells.some((c) => c.latencySource === 'autocannon') ? ' (fixed-rate cells: autocannon\'s whole-millisecond, coordinated-omission-corrected histogram)' : ', measured to the microsecond') +
      '.',
    '- `entries/fsync` and `peer msgs/req` come from the replicas\' /metrics before and after the round, summed over replicas.',
    '- `sys cores` is the CPU time of the system\'s processes divided by wall time; `loadgen cores` the same for the load generator. Both share the same 2 cores: a system that leaves more CPU to the load generator gets more load.',
    `- Latencies in ms; ${fmtMs(0.5)} means half a millisecond.`,
  );
  return out.join('\n') + '\n';
}
