/** report.md's soak section: summary per system, replicas, the issue's soak goals, events, windows. */
import { soakGoalChecks } from './soak-goals.js';
import type { SoakReport } from './soak-results.js';
import {
  soakConditions,
  soakEventLines,
  soakReplicaHeader,
  soakReplicaRows,
  soakSummaryHeader,
  soakSummaryRow,
  soakWindowTable,
} from './soak-summary.js';

type MdTable = (header: string[], rows: string[][]) => string;

export function renderSoakMarkdown(soaks: SoakReport[], mdTable: MdTable): string[] {
  if (soaks.length === 0) return [];
  const out: string[] = [];
  const s0 = soaks[0]!;
  out.push('## Soak', '', soakConditions(soaks), '');
  out.push(
    `Throughput is what the load generator saw complete in each ${s0.windowS} s window (2xx responses / window length); ` +
      'only complete windows count. `worst / median` is the slowest window against the median window (the goal: ≥ 0.8×). ' +
      `Leader changes are new (epoch, leader) pairs in every replica's status, polled once a second, plus the largest increase of a replica's leader-change counter over the soak (ours count every change of the leader a replica knows, "none" included, so one election usually adds 2; etcd's counts leaders seen). ` +
      `The **probe** is the response time of \`GET ${s0.sampler.probePath}\`${soaks.some((s) => s.sampler.probePath !== s0.sampler.probePath) ? ' (etcd: `GET /version`, because its /health runs a quorum read)' : ''}, ` +
      `sent every ${s0.sampler.probeIntervalMs} ms to every replica by a separate sampler process: a blocked event loop answers late, but so does one with requests queued before the probe, so it is an upper bound of the stall. ` +
      'The **gauge** is prom-client\'s `nodejs_eventloop_lag_p99_seconds` / `_max_seconds` from the replica\'s /metrics, scraped every second (the delay measured inside the replica; per window: the highest per-second p99 and the max), when the replicas export it. ' +
      'RSS is VmRSS from /proc/<pid>/status once a second; MB are MiB; the summary shows the largest replica.',
    '',
  );
  out.push(mdTable(soakSummaryHeader, soaks.map((s) => soakSummaryRow(s, soaks))), '');
  out.push('### Replicas', '', mdTable(soakReplicaHeader, soaks.flatMap((s) => soakReplicaRows(s, soaks))), '');
  const goals = soakGoalChecks(soaks);
  if (goals.length > 0) {
    out.push('### Soak goals (issue: fast off the happy path)', '');
    out.push(mdTable(['goal', 'this run', 'met'], goals.map((g) => [g.goal, g.value, g.met === null ? 'n/a' : g.met ? 'yes' : '**no**'])), '');
  }
  out.push('### Events', '');
  for (const s of soaks) for (const line of soakEventLines(s, soaks)) out.push(`- ${line}`);
  out.push('');
  const table = soakWindowTable(soaks);
  out.push('### Throughput per window', '', mdTable(table.header, table.rows), '');
  return out;
}
