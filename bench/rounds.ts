/**
 * Rounds (`--rounds N`): the whole matrix runs N times, interleaved, and each cell reports its
 * median round.
 *
 * Why interleave: a shared machine drifts (other work comes and goes, caches warm, clocks
 * throttle). Measured as A A A B B B, that drift lands between A and B and looks like a
 * difference between them; measured as A B A B A B, it hits both alike. Why the median: one
 * lucky or unlucky run says little, and the median is not pulled by it (Georges, Buytaert and
 * Eeckhout, "Statistically Rigorous Java Performance Evaluation", OOPSLA 2007, on repeated
 * runs; Mytkowicz et al., "Producing Wrong Data Without Doing Anything Obviously Wrong!",
 * ASPLOS 2009, on how the setup of one run biases it).
 *
 * `--repetitions` is the other, cheaper repetition: several measured runs within one start of a
 * system, back to back. Rounds start every system afresh, so they also cover the variation
 * between starts (which replica leads, where the data directories land, what else runs then).
 */
import type { Target } from './options.js';
import type { Workload } from './requests.js';
import type { BenchCell } from './results.js';

/** One fresh start of a system, measured at every connection count in turn. */
export interface SystemStart {
  /** 1-based position in the run. */
  sequence: number;
  round: number;
  system: string;
  workload: Workload;
  target: Target;
}

export interface MatrixPlan {
  systems: string[];
  workloads: Workload[];
  targets: Target[];
  rounds: number;
}

/**
 * The order of the run: round 1 starts every (system, workload, target) once, in the order
 * given, then round 2 does the same again, and so on. Every round uses the same order.
 */
export function interleavedPlan(plan: MatrixPlan): SystemStart[] {
  const out: SystemStart[] = [];
  for (let round = 1; round <= plan.rounds; round++) {
    for (const system of plan.systems) {
      for (const workload of plan.workloads) {
        for (const target of plan.targets) out.push({ sequence: out.length + 1, round, system, workload, target });
      }
    }
  }
  return out;
}

/**
 * The item with the median value; for an even count the lower of the two middle ones (a real
 * run, never an average of two; the lower one, so a goal is never met by rounding up). Ties keep
 * the earlier item.
 */
export function medianBy<T>(items: readonly T[], value: (x: T) => number): T {
  if (items.length === 0) throw new Error('medianBy: no items');
  const sorted = items.map((item, i) => ({ item, i, v: value(item) })).sort((a, b) => a.v - b.v || a.i - b.i);
  return sorted[Math.floor((sorted.length - 1) / 2)]!.item;
}

/** What makes two measurements the same cell of the matrix. */
export const cellKey = (c: Pick<BenchCell, 'system' | 'workload' | 'target' | 'connections'>): string => `${c.system}|${c.workload}|${c.target}|${c.connections}`;

/**
 * One cell per (system, workload, target, connections), from one cell per round: the numbers
 * of the median round (they all belong together: its latency, CPU and counters), with every
 * round's req/s in `rpsRuns` and every round in `rounds`. Cells come out in the order they first
 * ran.
 */
export function mergeRounds(perRound: readonly BenchCell[]): BenchCell[] {
  const groups = new Map<string, BenchCell[]>();
  for (const c of perRound) {
    const key = cellKey(c);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [c]);
    else group.push(c);
  }
  return [...groups.values()].map((group) => {
    const inOrder = [...group].sort((a, b) => a.round - b.round);
    const chosen = medianBy(inOrder, (c) => c.rps);
    return { ...chosen, rpsRuns: inOrder.flatMap((c) => c.rpsRuns), rounds: inOrder.flatMap((c) => c.rounds) };
  });
}
