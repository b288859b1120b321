/** Comparisons shared by the printed table, report.md and report.html. */
import type { Target } from './options.js';
import type { BenchCell } from './results.js';
import { systemRegistry } from './systems/registry.js';

export interface RunMeta {
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpuModel: string; cores: number; memoryGiB: number; os: string; node: string; etcd: string | null };
  /** 1-minute load average before and after the run: other work on the machine is noise in every number. */
  loadAverage: { start: number; end: number };
  options: Record<string, unknown>;
}

/** The cell of a system, workload and connection count, for one target (any target when not given). */
export function findCell(cells: BenchCell[], system: string, workload: string, connections: number, target?: Target): BenchCell | undefined {
  return cells.find((c) => c.system === system && c.workload === workload && c.connections === connections && (target === undefined || c.target === target));
}

/**
 * The target that comparisons between systems use: `leader` when the run has it (issue 7's
 * goals are about the leader), else the first one measured.
 */
export function mainTarget(cells: BenchCell[]): Target | undefined {
  return cells.some((c) => c.target === 'leader') ? 'leader' : cells[0]?.target;
}

/** "raft", or "raft → follower" when the run has more than one target. */
export function seriesName(cells: BenchCell[], system: string, target: Target): string {
  return distinct(cells.map((c) => c.target)).length > 1 ? `${system} → ${target}` : system;
}

export const distinct = <T>(xs: T[]): T[] => [...new Set(xs)];

export interface Ratio {
  workload: string;
  target: Target;
  connections: number;
  numerator: string;
  denominator: string;
  rps: number | null;
  p99: number | null;
}

const isProtocol = (s: string): boolean => systemRegistry[s]?.kind === 'protocol';

/** Every protocol against every baseline, and every other protocol against raft, at the same target. */
export function ratios(cells: BenchCell[]): Ratio[] {
  const systems = distinct(cells.map((c) => c.system));
  const pairs: [string, string][] = [];
  for (const p of systems.filter(isProtocol)) {
    for (const b of systems) if (b !== p && (!isProtocol(b) || b === 'raft')) pairs.push([p, b]);
  }
  const out: Ratio[] = [];
  for (const workload of distinct(cells.map((c) => c.workload))) {
    for (const target of distinct(cells.map((c) => c.target))) {
      for (const connections of distinct(cells.map((c) => c.connections))) {
        for (const [n, d] of pairs) {
          const a = findCell(cells, n, workload, connections, target);
          const b = findCell(cells, d, workload, connections, target);
          if (a === undefined || b === undefined) continue;
          out.push({
            workload,
            target,
            connections,
            numerator: n,
            denominator: d,
            rps: b.rps > 0 ? a.rps / b.rps : null,
            p99: b.latencyMs.p99 > 0 ? a.latencyMs.p99 / b.latencyMs.p99 : null,
          });
        }
      }
    }
  }
  return out;
}

export interface GoalCheck {
  goal: string;
  value: string;
  met: boolean | null;
}

/**
 * The goals of issue 7, evaluated on this run (null: the run lacks the cells to tell), on the
 * cells of one target (mainTarget; named in the goal when it is not the leader).
 */
export function goalChecks(all: BenchCell[]): GoalCheck[] {
  const target = mainTarget(all);
  const cells = all.filter((c) => c.target === target);
  const conns = distinct(cells.map((c) => c.connections)).sort((a, b) => a - b);
  const lo = conns[0];
  const hi = conns[conns.length - 1];
  if (lo === undefined || hi === undefined) return [];
  const get = (s: string, w: string, c: number): BenchCell | undefined => findCell(cells, s, w, c);
  const checks: GoalCheck[] = [];
  const where = target === 'leader' ? '' : ` (--target ${target})`;
  const ratioGoal = (name: string, a: BenchCell | undefined, b: BenchCell | undefined, min: number): void => {
    const goal = name + where;
    if (a === undefined || b === undefined || b.rps === 0) return void checks.push({ goal, value: 'n/a', met: null });
    const r = a.rps / b.rps;
    checks.push({ goal, value: `${r.toFixed(2)}× (${fmtRps(a.rps)} vs ${fmtRps(b.rps)} req/s)`, met: r >= min });
  };
  const latencyGoal = (name: string, a: BenchCell | undefined, b: BenchCell | undefined, pick: 'p50' | 'p99'): void => {
    const goal = name + where;
    if (a === undefined || b === undefined) return void checks.push({ goal, value: 'n/a', met: null });
    const x = a.latencyMs[pick];
    const y = b.latencyMs[pick];
    checks.push({ goal, value: `${fmtMs(x)} vs ${fmtMs(y)} ms`, met: x <= y });
  };
  ratioGoal(`raft put rps at ${hi} connections ≥ 2× etcd`, get('raft', 'put', hi), get('etcd', 'put', hi), 2);
  latencyGoal(`raft put p99 at ${hi} connections ≤ etcd`, get('raft', 'put', hi), get('etcd', 'put', hi), 'p99');
  latencyGoal(`raft put p50 at ${lo} connection(s) ≤ etcd`, get('raft', 'put', lo), get('etcd', 'put', lo), 'p50');
  ratioGoal(`raft linearizable get rps at ${hi} connections ≥ 2× etcd range`, get('raft', 'get', hi), get('etcd', 'get', hi), 2);
  if (cells.some((c) => c.system === 'multipaxos')) ratioGoal(`multipaxos put rps at ${hi} ≥ 0.9× raft`, get('multipaxos', 'put', hi), get('raft', 'put', hi), 0.9);
  if (cells.some((c) => c.system === 'pbft')) ratioGoal(`pbft put rps at ${hi} ≥ 0.5× raft`, get('pbft', 'put', hi), get('raft', 'put', hi), 0.5);
  ratioGoal(`raft put rps at ${hi} connections ≥ 0.25× hello`, get('raft', 'put', hi), get('hello', 'put', hi), 0.25);
  return checks;
}

export function fmtRps(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
}

export function fmtMs(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function fmtOpt(v: number | null, digits = 2): string {
  return v === null ? '–' : v.toFixed(digits);
}

export const tableHeader = ['system', 'nodes', 'workload', 'conns', 'target', 'req/s', 'req/s of every run', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'non2xx', 'entries/fsync', 'peer msgs/req', 'sys cores', 'sys CPU ms/req', 'loadgen cores'];

export function tableRow(c: BenchCell): string[] {
  return [
    c.system,
    String(c.nodes),
    c.workload + (c.readRatio === null ? '' : ` (${c.readRatio} reads)`),
    String(c.connections),
    c.target,
    fmtRps(c.rps),
    runsText(c),
    fmtMs(c.latencyMs.p50),
    fmtMs(c.latencyMs.p90),
    fmtMs(c.latencyMs.p99),
    fmtMs(c.latencyMs.max),
    String(c.errors),
    String(c.non2xx),
    fmtOpt(c.entriesPerFsync, 1),
    fmtOpt(c.peerMessagesPerRequest, 2),
    c.cpu.systemCores.toFixed(2),
    fmtOpt(c.cpu.systemMsPerRequest, 3),
    c.cpu.loadgenCores.toFixed(2),
  ];
}

/** Every run's req/s in the order they ran ("–" for a single run); rounds separated by ";". */
export function runsText(c: BenchCell): string {
  if (c.rpsRuns.length <= 1) return '–';
  const perRound = c.rpsRuns.length / Math.max(1, c.rounds.length);
  if (c.rounds.length <= 1 || !Number.isInteger(perRound)) return c.rpsRuns.map(fmtRps).join(', ');
  const groups: string[] = [];
  for (let i = 0; i < c.rpsRuns.length; i += perRound) groups.push(c.rpsRuns.slice(i, i + perRound).map(fmtRps).join(', '));
  return `${groups.join('; ')} (round ${c.round} reported)`;
}

/** Plain-text table for the terminal. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
