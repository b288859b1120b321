/**
 * The soak goals of the issue "Fast off the happy path", checked on this run's soaks: for each
 * of our protocols, no leader change, every window at least 0.8× the median window, 1.5× etcd's
 * soak throughput on the same load, event-loop stalls of at most 50 ms, and at most 250 MB RSS
 * per replica at 100,000 keys of 256 B. `met` is null where the run cannot tell.
 */
import { median } from './latency-samples.js';
import { stallMs } from './soak-analysis.js';
import type { SoakReport } from './soak-results.js';
import { soakLabel, worstLag } from './soak-summary.js';
import { fmtMs, fmtRps, type GoalCheck } from './summary.js';
import { systemRegistry } from './systems/registry.js';

export const soakGoalRss = { mb: 250, keys: 100_000, valueBytes: 256 };
export const soakGoalVsEtcd = 1.5;

export function soakGoalChecks(soaks: SoakReport[]): GoalCheck[] {
  const checks: GoalCheck[] = [];
  const ours = soaks.filter((s) => systemRegistry[s.system]?.kind === 'protocol');
  for (const s of ours) {
    const label = soakLabel(s, soaks);
    const l = s.leadership;
    checks.push({
      goal: `${label} soak: no leader change`,
      value: `${l.changes} seen in /status polls${l.counterDelta === null ? '' : `, leader-change counter +${l.counterDelta}`}`,
      met: l.changes === 0 && (l.counterDelta ?? 0) === 0,
    });
    const t = s.throughput;
    checks.push({
      goal: `${label} soak: every ${s.windowS} s window ≥ ${t.floor}× the median window`,
      value:
        t.worstToMedian === null
          ? `median ${fmtRps(t.medianRps)} req/s`
          : `worst ${fmtRps(t.minRps)} req/s (window ${(t.worstIndex ?? 0) + 1}) = ${t.worstToMedian.toFixed(2)}× the median ${fmtRps(t.medianRps)}`,
      met: t.allAboveFloor,
    });
  }
  for (const system of [...new Set(ours.map((s) => s.system))]) checks.push(...vsEtcd(system, soaks));
  for (const s of ours) checks.push(stallGoal(s, soaks), rssGoal(s, soaks));
  return checks;
}

/**
 * Median soak throughput of a system against etcd's on the same load (workload, connections,
 * target), over every round and repetition of each: one row per load.
 */
function vsEtcd(system: string, soaks: SoakReport[]): GoalCheck[] {
  const out: GoalCheck[] = [];
  const loads = soaks.filter((x) => x.system === system && x.round === 1 && x.repetition === 1);
  for (const s of loads) {
    const same = (name: string): number[] =>
      soaks.filter((x) => x.system === name && x.workload === s.workload && x.connections === s.connections && x.target === s.target).map((x) => x.rps);
    const etcd = same('etcd');
    const goal = `${system} soak throughput (${s.workload}, ${s.connections} connections, --target ${s.target}) ≥ ${soakGoalVsEtcd}× etcd's`;
    if (etcd.length === 0) {
      out.push({ goal, value: 'n/a: no etcd soak on this load in this run', met: null });
      continue;
    }
    const ours = same(system);
    const a = median(ours);
    const b = median(etcd);
    const of = ours.length > 1 || etcd.length > 1 ? `, medians of ${ours.length} and ${etcd.length} soaks` : '';
    out.push({ goal, value: b > 0 ? `${(a / b).toFixed(2)}× (${fmtRps(a)} vs ${fmtRps(b)} req/s${of})` : 'etcd completed nothing', met: b > 0 ? a / b >= soakGoalVsEtcd : null });
  }
  return out;
}

/**
 * Judged by prom-client's event-loop gauge when every replica exports it (the stall itself,
 * measured inside the replica); otherwise by the /health probe, which also counts the time a
 * probe waits behind queued requests, so it can only overstate a stall.
 */
function stallGoal(s: SoakReport, soaks: SoakReport[]): GoalCheck {
  const probe = worstLag(s, 'probe');
  const gauges = worstLag(s, 'gauges');
  const allGauges = s.replicas.every((r) => r.gauges !== null);
  const where = (w: { replica: string | null; atS: number | null }): string => (w.replica === null ? '' : ` (${w.replica} at ${w.atS?.toFixed(1) ?? '?'} s)`);
  const probeText = `/health probe max ${probe.maxMs === null ? 'n/a' : `${fmtMs(probe.maxMs)} ms`}${where(probe)}`;
  const gaugeText = allGauges ? `event-loop gauge max ${gauges.maxMs === null ? 'n/a' : `${fmtMs(gauges.maxMs)} ms`}${where(gauges)}` : 'no event-loop gauges exported (judged by the probe, an upper bound)';
  const judged = allGauges ? gauges.maxMs : probe.maxMs;
  return {
    goal: `${soakLabel(s, soaks)}: event-loop stall ≤ ${stallMs} ms over the whole soak (snapshots included) with ${s.keys.toLocaleString('en-US')} keys`,
    value: `${gaugeText}; ${probeText}`,
    met: judged === null ? null : judged <= stallMs,
  };
}

function rssGoal(s: SoakReport, soaks: SoakReport[]): GoalCheck {
  let peak: { id: string; mb: number } | null = null;
  for (const r of s.replicas) if (r.rss.peakMB !== null && (peak === null || r.rss.peakMB > peak.mb)) peak = { id: r.id, mb: r.rss.peakMB };
  const goalLoad = s.keys === soakGoalRss.keys && s.valueBytes === soakGoalRss.valueBytes;
  const value = peak === null ? 'n/a: no RSS read' : `peak ${peak.mb.toFixed(0)} MB (${peak.id})${goalLoad ? '' : `; not the goal's load: this soak holds ${s.keys.toLocaleString('en-US')} keys of ${s.valueBytes} B`}`;
  return {
    goal: `${soakLabel(s, soaks)}: RSS per replica ≤ ${soakGoalRss.mb} MB at ${soakGoalRss.keys.toLocaleString('en-US')} keys of ${soakGoalRss.valueBytes} B`,
    value,
    met: peak === null || !goalLoad ? null : peak.mb <= soakGoalRss.mb,
  };
}
