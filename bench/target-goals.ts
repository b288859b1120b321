/**
 * The goals of issue 13 ("Fast off the happy path") that compare targets within one system:
 *
 * - puts through a follower ≥ 0.85× puts through the leader (a follower forwards writes to the
 *   leader over the replica transport; Raft dissertation §6.2, etcd's MsgProp);
 * - linearizable gets spread over every replica ≥ 1.5× gets through the leader alone (follower
 *   reads with a read index; Raft dissertation §6.4).
 *
 * Judged on the cells' medians (the median round, bench/rounds.ts), same system, same
 * workload, at the run's highest connection count (the issue measured at 100: throughput under
 * load, where one connection would measure the forwarding hop's latency instead). A row for
 * every system that has both cells and more than one replica (a single replica has no
 * follower, so both targets would be the same URL).
 */
import type { Target } from './options.js';
import type { BenchCell } from './results.js';
import { distinct, findCell, fmtRps, type GoalCheck } from './summary.js';

export interface TargetGoal {
  workload: 'put' | 'get';
  target: Target;
  /** The denominator: always the leader. */
  versus: Target;
  min: number;
  what: string;
}

export const targetGoals: readonly TargetGoal[] = [
  { workload: 'put', target: 'follower', versus: 'leader', min: 0.85, what: 'puts through a follower' },
  { workload: 'get', target: 'any', versus: 'leader', min: 1.5, what: 'linearizable gets spread over all replicas' },
];

export function targetGoalChecks(cells: BenchCell[]): GoalCheck[] {
  const hi = Math.max(...cells.map((c) => c.connections));
  const checks: GoalCheck[] = [];
  for (const goal of targetGoals) {
    for (const system of distinct(cells.map((c) => c.system))) {
      const a = findCell(cells, system, goal.workload, hi, goal.target);
      const b = findCell(cells, system, goal.workload, hi, goal.versus);
      if (a === undefined || b === undefined || Math.max(a.nodes, b.nodes) < 2) continue;
      checks.push(targetCheck(goal, system, hi, a, b));
    }
  }
  return checks;
}

function targetCheck(goal: TargetGoal, system: string, connections: number, a: BenchCell, b: BenchCell): GoalCheck {
  const name = `${system} ${goal.what} ≥ ${goal.min}× through the leader (${goal.workload}, ${connections} connections)`;
  const medians = `--target ${goal.target} ${fmtRps(a.rps)} vs --target ${goal.versus} ${fmtRps(b.rps)} req/s, ${mediansOf(a, b)}`;
  if (b.rps === 0) return { goal: name, value: `${medians}; the leader completed nothing`, met: null };
  const r = a.rps / b.rps;
  return { goal: name, value: `${r.toFixed(2)}× (${medians})`, met: r >= goal.min };
}

/** "medians of 3 rounds", or "one round each". */
function mediansOf(a: BenchCell, b: BenchCell): string {
  const n = Math.min(a.rounds.length, b.rounds.length);
  return n > 1 ? `medians of ${n} rounds` : 'one round each';
}
