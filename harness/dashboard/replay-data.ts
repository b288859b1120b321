/**
 * Replay of a chaos run (harness/chaos/run-chaos.ts writes `store/<run>/`): its history, fault
 * periods, link changes and the checker's verdict, shaped for scrubbing in the browser. Pure:
 * store-runs.ts reads the files.
 */
import type { ResultsFile } from '../chaos/results-file.js';
import { linkFrames, nodeFrames, type LinkFrame, type NodeFrame } from './replay-frames.js';

/** One operation: invoke and completion, times in ms from the start of the run. */
export interface ReplayOp {
  process: number;
  f: string;
  key: string;
  value: unknown;
  result: unknown;
  type: 'ok' | 'fail' | 'info';
  startMs: number;
  /** Null for an operation whose outcome is unknown and that never completed. */
  endMs: number | null;
  node: string | null;
  error: string | null;
  /** One of the operations the checker could not linearize. */
  violation: boolean;
}

export interface ReplayNemesis {
  timeMs: number;
  f: string;
  value: unknown;
}

export interface ReplayData {
  name: string;
  verdict: string;
  protocol: string | null;
  seed: number | null;
  nemesis: string[];
  durationMs: number;
  runStartMs: number;
  healMs: number | null;
  ops: ReplayOp[];
  /** True when the history had more operations than are sent. */
  truncated: boolean;
  nemesisEvents: ReplayNemesis[];
  periods: ResultsFile['periods'];
  linkEvents: ResultsFile['linkEvents'];
  /** The replicas of the run, and the network and replicas at every change (replay-frames.ts). */
  ids: string[];
  linkFrames: LinkFrame[];
  nodeFrames: NodeFrame[];
  /** ok / fail / info completions per bucket of bucketMs. */
  buckets: { bucketMs: number; ok: number[]; fail: number[]; info: number[] };
  linearizability: { valid: unknown; ops: number | null; elapsedMs: number | null; reason: string | null };
  violation: { key: string; stateBefore: unknown; stateAfter: unknown; ops: Array<{ process: number; f: string; value: unknown; startMs: number; endMs: number | null; reason: string }> } | null;
  lostWrites: { valid: boolean; lost: number; notes: string[] } | null;
  summary: string[];
}

interface HistoryLine {
  process: number | 'nemesis';
  type: string;
  f: string;
  key?: string;
  value: unknown;
  time: number;
  node?: string;
  error?: string;
}

export const maxReplayOps = 100_000;

export function buildReplay(name: string, results: Partial<ResultsFile> | null, historyText: string): ReplayData {
  const lines = parseLines(historyText);
  const violation = violationOf(results);
  const { ops, truncated } = pairOps(lines, violation);
  const lastMs = Math.max(0, ...lines.map((l) => l.time / 1e6));
  const durationMs = results?.endMs ?? lastMs;
  const lin = results?.linearizability;
  return {
    name,
    verdict: results?.verdict ?? 'unchecked',
    protocol: results?.options?.protocol ?? null,
    seed: results?.options?.seed ?? null,
    nemesis: results?.options?.nemesis ?? [],
    durationMs,
    runStartMs: results?.runStartMs ?? 0,
    healMs: results?.healMs ?? null,
    ops,
    truncated,
    nemesisEvents: lines.filter((l) => l.process === 'nemesis').map((l) => ({ timeMs: l.time / 1e6, f: l.f, value: l.value })),
    periods: results?.periods ?? [],
    linkEvents: results?.linkEvents ?? [],
    ids: idsOf(results, ops),
    linkFrames: linkFrames(results?.linkEvents ?? []),
    nodeFrames: nodeFrames(results?.periods ?? [], durationMs),
    buckets: bucketize(ops, durationMs),
    linearizability:
      lin === undefined
        ? { valid: 'not checked', ops: null, elapsedMs: null, reason: 'no results.json' }
        : lin.valid === 'skipped'
          ? { valid: 'skipped', ops: null, elapsedMs: null, reason: lin.reason }
          : { valid: lin.valid, ops: lin.stats.ops, elapsedMs: lin.stats.elapsedMs, reason: null },
    violation,
    lostWrites: results?.lostWrites === undefined ? null : { valid: results.lostWrites.valid, lost: results.lostWrites.lost.length, notes: results.lostWrites.notes },
    summary: summaryOf(results),
  };
}

function idsOf(results: Partial<ResultsFile> | null, ops: readonly ReplayOp[]): string[] {
  const n = results?.options?.nodes;
  if (n !== undefined) return Array.from({ length: n }, (_, i) => `n${i + 1}`);
  return [...new Set(ops.flatMap((o) => (o.node === null ? [] : [o.node])))].sort();
}

function parseLines(text: string): HistoryLine[] {
  const out: HistoryLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as HistoryLine;
      if (typeof e.time === 'number' && typeof e.type === 'string') out.push(e);
    } catch {
      // a torn last line of a crashed run
    }
  }
  return out;
}

function pairOps(lines: HistoryLine[], violation: ReplayData['violation']): { ops: ReplayOp[]; truncated: boolean } {
  const open = new Map<number, ReplayOp>();
  const ops: ReplayOp[] = [];
  const marked = new Set((violation?.ops ?? []).map((o) => `${o.process}@${o.startMs.toFixed(3)}`));
  for (const l of lines) {
    if (l.process === 'nemesis') continue;
    if (l.type === 'invoke') {
      const startMs = l.time / 1e6;
      const op: ReplayOp = { process: l.process, f: l.f, key: l.key ?? '', value: l.value, result: null, type: 'info', startMs, endMs: null, node: l.node ?? null, error: null, violation: marked.has(`${l.process}@${startMs.toFixed(3)}`) && l.key === violation?.key };
      open.set(l.process, op);
      ops.push(op);
      continue;
    }
    const op = open.get(l.process);
    if (op === undefined) continue;
    open.delete(l.process);
    op.type = l.type === 'ok' || l.type === 'fail' ? l.type : 'info';
    op.result = l.value;
    op.endMs = l.time / 1e6;
    op.error = l.error ?? null;
    if (op.node === null && l.node !== undefined) op.node = l.node;
  }
  return ops.length > maxReplayOps ? { ops: ops.slice(0, maxReplayOps), truncated: true } : { ops, truncated: false };
}

function violationOf(results: Partial<ResultsFile> | null): ReplayData['violation'] {
  const lin = results?.linearizability;
  if (lin === undefined || lin.valid === 'skipped' || !('violation' in lin) || lin.violation === undefined) return null;
  const v = lin.violation;
  return {
    key: v.key,
    stateBefore: v.stateBefore,
    stateAfter: v.stateAfter,
    ops: v.ops.map((o) => ({ process: o.process, f: o.f, value: o.value, startMs: o.invokeTime / 1e6, endMs: o.returnTime === null ? null : o.returnTime / 1e6, reason: o.reason })),
  };
}

function bucketize(ops: readonly ReplayOp[], durationMs: number): ReplayData['buckets'] {
  const bucketMs = Math.max(100, Math.ceil(durationMs / 600 / 50) * 50);
  const n = Math.max(1, Math.ceil(durationMs / bucketMs));
  const ok = new Array<number>(n).fill(0);
  const fail = new Array<number>(n).fill(0);
  const info = new Array<number>(n).fill(0);
  for (const op of ops) {
    const i = Math.min(n - 1, Math.floor((op.endMs ?? op.startMs) / bucketMs));
    (op.type === 'ok' ? ok : op.type === 'fail' ? fail : info)[i]!++;
  }
  return { bucketMs, ok, fail, info };
}

function summaryOf(r: Partial<ResultsFile> | null): string[] {
  if (r === null) return ['no results.json: the run did not finish, so it was never checked'];
  const out: string[] = [];
  const w = r.workload;
  if (w !== undefined) out.push(`${w.invoked} operations (${w.ok} ok, ${w.fail} fail, ${w.info} info) by ${w.processes} processes`);
  if (r.periods !== undefined) out.push(`faults: ${r.periods.map((p) => `${p.fault}(${p.targets.join(',')})`).join(' ') || 'none'}`);
  if (r.lostWrites !== undefined) out.push(`lost writes: ${r.lostWrites.valid ? 'none' : `${r.lostWrites.lost.length} lost, ${r.lostWrites.divergent.length} divergent keys`}`);
  return out;
}
