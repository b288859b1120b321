/** The soak's tables and sentences, shared by report.md, report.html and the printed summary. */
import type { LeaderEvent, SoakReport } from './soak-results.js';
import { fmtMs, fmtRps } from './summary.js';

const dash = '–';
const optMs = (v: number | null): string => (v === null ? dash : fmtMs(v));
const optMB = (v: number | null): string => (v === null ? dash : v.toFixed(0));
const maxOf = (vs: (number | null)[]): number | null => {
  const xs = vs.filter((v): v is number => v !== null);
  return xs.length === 0 ? null : Math.max(...xs);
};

/**
 * "raft", or with more than one of a kind in the run: "raft → follower" (targets), "raft r2"
 * (rounds), "raft #2" (repetitions), e.g. "raft → any r2 #1".
 */
export function soakLabel(s: SoakReport, all: SoakReport[]): string {
  const same = all.filter((o) => o.system === s.system && o.workload === s.workload && o.connections === s.connections);
  const several = (pick: (o: SoakReport) => unknown): boolean => new Set(same.map(pick)).size > 1;
  return [
    s.system,
    several((o) => o.target) ? ` → ${s.target}` : '',
    several((o) => o.round) ? ` r${s.round}` : '',
    several((o) => o.repetition) ? ` #${s.repetition}` : '',
  ].join('');
}

/** Worst over the replicas: [p99, max] of the probes, or of the gauges (null when none has gauges). */
export function worstLag(s: SoakReport, which: 'probe' | 'gauges'): { p99Ms: number | null; maxMs: number | null; replica: string | null; atS: number | null } {
  let worst: { replica: string; maxMs: number; atS: number | null } | null = null;
  const p99s: (number | null)[] = [];
  for (const r of s.replicas) {
    const series = which === 'probe' ? r.probe : r.gauges;
    if (series === null) continue;
    p99s.push(series.p99Ms);
    if (series.maxMs !== null && (worst === null || series.maxMs > worst.maxMs)) worst = { replica: r.id, maxMs: series.maxMs, atS: series.maxAtS };
  }
  return { p99Ms: maxOf(p99s), maxMs: worst?.maxMs ?? null, replica: worst?.replica ?? null, atS: worst?.atS ?? null };
}

/** A system whose replicas name no leader and count no leader changes (the hello baseline). */
export const leaderless = (s: SoakReport): boolean => s.leadership.initial === null && s.leadership.epochStart === null && s.leadership.counterName === null;

export function leaderText(s: SoakReport): string {
  const l = s.leadership;
  if (leaderless(s)) return dash;
  const counter = l.counterDelta === null ? '' : `, counter +${l.counterDelta}`;
  return `${l.changes}${counter}`;
}

export const soakSummaryHeader = [
  'system', 'workload', 'conns', 'windows', 'req/s', 'min', 'median', 'max', 'worst / median', '≥ 0.8×', 'errors', 'non2xx',
  'leader changes', 'epoch', 'probe p99 / max ms', 'gauge p99 / max ms', 'RSS start / peak / end MB',
];

export function soakSummaryRow(s: SoakReport, all: SoakReport[]): string[] {
  const t = s.throughput;
  const probe = worstLag(s, 'probe');
  const gauges = worstLag(s, 'gauges');
  const errors = s.windows.reduce((n, w) => n + w.errors, 0);
  const non2xx = s.windows.reduce((n, w) => n + w.non2xx, 0);
  const l = s.leadership;
  const epoch = l.epochStart === null ? dash : l.epochStart === l.epochEnd ? String(l.epochStart) : `${l.epochStart} → ${l.epochEnd}`;
  const rss = (pick: 'startMB' | 'peakMB' | 'endMB'): string => optMB(maxOf(s.replicas.map((r) => r.rss[pick])));
  return [
    soakLabel(s, all),
    s.workload,
    String(s.connections),
    `${s.windows.length} × ${s.windowS} s`,
    fmtRps(s.rps),
    fmtRps(t.minRps),
    fmtRps(t.medianRps),
    fmtRps(t.maxRps),
    t.worstToMedian === null ? dash : `${t.worstToMedian.toFixed(2)}× (window ${(t.worstIndex ?? 0) + 1})`,
    t.allAboveFloor === null ? dash : t.allAboveFloor ? 'yes' : 'no',
    String(errors),
    String(non2xx),
    leaderText(s),
    epoch,
    `${optMs(probe.p99Ms)} / ${optMs(probe.maxMs)}`,
    gauges.maxMs === null ? dash : `${optMs(gauges.p99Ms)} / ${optMs(gauges.maxMs)}`,
    `${rss('startMB')} / ${rss('peakMB')} / ${rss('endMB')}`,
  ];
}

export const soakReplicaHeader = ['system', 'replica', 'pid', 'keys at start', 'probe p99 ms', 'probe max ms (at s)', 'failed probes', 'gauge p99 ms', 'gauge max ms (at s)', 'RSS start MB', 'RSS peak MB', 'RSS end MB'];

export function soakReplicaRows(s: SoakReport, all: SoakReport[]): string[][] {
  const label = soakLabel(s, all);
  const at = (v: number | null, t: number | null): string => (v === null ? dash : `${fmtMs(v)} (${t === null ? '?' : t.toFixed(1)})`);
  const rows = s.replicas.map((r) => [
    label,
    r.id,
    String(r.pid),
    r.keysAtStart === null ? dash : r.keysAtStart.toLocaleString('en-US'),
    optMs(r.probe.p99Ms),
    at(r.probe.maxMs, r.probe.maxAtS),
    String(r.probe.windows.reduce((n, w) => n + w.failed, 0)),
    r.gauges === null ? 'not exported' : optMs(r.gauges.p99Ms),
    r.gauges === null ? dash : at(r.gauges.maxMs, r.gauges.maxAtS),
    optMB(r.rss.startMB),
    optMB(r.rss.peakMB),
    optMB(r.rss.endMB),
  ]);
  for (const o of s.others) rows.push([label, `${o.id} (not the system)`, dash, dash, dash, dash, dash, dash, dash, optMB(o.rss.startMB), optMB(o.rss.peakMB), optMB(o.rss.endMB)]);
  return rows;
}

/** One row per window, three columns per soak (req/s, errors + non-2xx, p99 ms). */
export function soakWindowTable(soaks: SoakReport[]): { header: string[]; rows: string[][] } {
  const header = ['window', 'start s', ...soaks.flatMap((s) => [`${soakLabel(s, soaks)} req/s`, 'errors', 'p99 ms'])];
  const n = Math.max(0, ...soaks.map((s) => s.windows.length));
  const rows = Array.from({ length: n }, (_, i) => {
    const startS = soaks.find((s) => s.windows[i] !== undefined)?.windows[i]?.startS ?? 0;
    return [
      String(i + 1),
      startS.toFixed(0),
      ...soaks.flatMap((s) => {
        const w = s.windows[i];
        return w === undefined ? [dash, dash, dash] : [fmtRps(w.rps), String(w.errors + w.non2xx), fmtMs(w.latencyMs.p99)];
      }),
    ];
  });
  return { header, rows };
}

/** "n1 → n2", or "n3 re-elected" for a new epoch with the same leader. */
export function changeText(e: LeaderEvent): string {
  return e.from === e.to ? `${e.to} re-elected` : `${e.from ?? '?'} → ${e.to}`;
}

/** Leader changes, snapshots and stalls of one soak, in words. */
export function soakEventLines(s: SoakReport, all: SoakReport[]): string[] {
  const label = soakLabel(s, all);
  const l = s.leadership;
  const out: string[] = [];
  // Our replicas count every change of the leader they know, through "none" too: an election usually counts twice.
  const counter = l.counterName === null ? '' : `; \`${l.counterName}\` rose by ${l.counterDelta ?? '?'} at most on any replica`;
  if (leaderless(s)) out.push(`${label}: no leader to track.`);
  else if (l.changes === 0) out.push(`${label}: no leader change seen in the /status polls (leader ${l.initial ?? 'unknown'}, epoch ${l.epochStart ?? '?'} → ${l.epochEnd ?? '?'})${counter}.`);
  else out.push(`${label}: ${l.changes} leader change${l.changes === 1 ? '' : 's'}: ${l.events.map((e) => `${changeText(e)} at ${e.tS.toFixed(1)} s (epoch ${e.epoch})`).join(', ')}${counter}.`);
  if (s.snapshots.length > 0) {
    const per = new Map<string, number>();
    for (const e of s.snapshots) per.set(e.replica, (per.get(e.replica) ?? 0) + 1);
    out.push(`${label}: ${s.snapshots.length} snapshots or stable checkpoints seen (${[...per].map(([r, n]) => `${r} ${n}`).join(', ')}).`);
  }
  const worst = [...s.stalls].sort((a, b) => b.ms - a.ms).slice(0, 5);
  out.push(
    s.stallsTotal === 0
      ? `${label}: no probe took ${s.stallMs} ms or more.`
      : `${label}: ${s.stallsTotal} probe${s.stallsTotal === 1 ? '' : 's'} took ≥ ${s.stallMs} ms; the worst: ${worst.map((x) => `${x.replica} ${fmtMs(x.ms)} ms at ${x.tS.toFixed(1)} s`).join(', ')}.`,
  );
  const self = maxOf(s.sampler.selfLagMaxMs);
  if (self !== null) out.push(`${label}: the sampler's own event loop was late by at most ${fmtMs(self)} ms (probe times include that much of its own delay at worst).`);
  return out;
}

/** What the run's load was, against the load the issue judges its soak goals on. */
export function soakConditions(soaks: SoakReport[]): string {
  const s = soaks[0];
  if (s === undefined) return '';
  const minutes = Math.min(...soaks.map((x) => x.windows.length * x.windowS));
  const targets = [...new Set(soaks.map((x) => x.target))];
  const issue = minutes >= 600 && s.connections === 100 && targets.includes('any') && s.keys >= 1_000_000 && s.valueBytes === 256;
  return (
    `This run: ${s.windows.length * s.windowS} s of ${s.workload}, ${s.connections} connections, --target ${targets.join(',')}, ${s.keys.toLocaleString('en-US')} keys of ${s.valueBytes} B. ` +
    (issue
      ? "That is the issue's soak load (its goals are about the --target any soaks)."
      : "The issue judges its soak goals on 600 s, 100 connections, --target any, 1,000,000 keys of 256 B: this run's load differs, so its goal rows are indicative.")
  );
}
