/**
 * A seeded fault schedule: the same seed, faults, time and interval give the same list of
 * {atMs, fault, targets, durationMs}. One fault starts per interval (after a warm-up), lasting
 * half to one and a half intervals (times the kind's durationScale), so faults of different kinds
 * may overlap. Overlapping
 * faults never impair a majority at once (nodes killed, paused or wiped, plus nodes a partition
 * cuts off from the majority) unless allowMajorityDown is set, so the cluster can stay live;
 * partitions never overlap other partitions, nor delays other delays (they own the proxy). The one
 * exception to the majority rule is a fault that takes every node down at once (a whole-cluster
 * power failure, FaultKind.exclusive): it is planned only in a window no other fault overlaps,
 * and nothing is planned to overlap it.
 */
import { SeededRng } from '../../protocols/common/rng.js';
import { faultKind, isExclusive, type ScheduledFault } from './fault-kinds.js';

export interface ScheduleOptions {
  faults: readonly string[];
  ids: readonly string[];
  timeMs: number;
  intervalMs: number;
  seed: number;
  allowMajorityDown?: boolean;
  /** Overrides the majority rule's bound on nodes impaired at once (PBFT: f). */
  maxImpaired?: number;
}

export interface Schedule {
  seed: number;
  timeMs: number;
  intervalMs: number;
  faults: ScheduledFault[];
}

export function majorityDownLimit(n: number, allowMajorityDown: boolean): number {
  return allowMajorityDown ? n : Math.floor((n - 1) / 2);
}

export function planSchedule(options: ScheduleOptions): Schedule {
  const { ids, timeMs, intervalMs } = options;
  const kinds = options.faults.map((f) => faultKind(f));
  const rng = new SeededRng(options.seed);
  const maxDown = options.maxImpaired ?? majorityDownLimit(ids.length, options.allowMajorityDown === true);
  const planned: ScheduledFault[] = [];
  if (kinds.length === 0 || intervalMs <= 0) return { seed: options.seed, timeMs, intervalMs, faults: planned };
  const warmupMs = Math.min(intervalMs, 2000);
  const minDurationMs = Math.max(200, Math.round(intervalMs / 2));

  for (let slot = warmupMs; slot + minDurationMs <= timeMs; slot += intervalMs) {
    const atMs = slot + rng.int(Math.max(1, Math.round(intervalMs * 0.2)));
    const wantMs = rng.between(minDurationMs, Math.round(intervalMs * 1.5));
    if (Math.min(wantMs, timeMs - atMs) < minDurationMs) break;
    // Try the kinds in a seeded rotation; the first that fits this window wins.
    const first = rng.int(kinds.length);
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(first + i) % kinds.length]!;
      const durationMs = Math.min(Math.round(wantMs * (kind.durationScale ?? 1)), timeMs - atMs);
      const end = atMs + durationMs;
      const overlapping = planned.filter((f) => f.atMs < end && f.atMs + f.durationMs > atMs);
      if (overlapping.some(isExclusive)) continue; // nothing overlaps a fault that takes every node down
      if (kind.resource !== 'nodes' && overlapping.some((f) => faultKind(f.fault).resource === kind.resource)) continue;
      const downFaults = overlapping.filter((f) => faultKind(f.fault).resource === 'nodes');
      const downNow = overlapping.reduce((n, f) => n + faultKind(f.fault).impairs(f, ids.length), 0);
      const taken = new Set(downFaults.flatMap((f) => f.targets));
      const plan = kind.plan({
        rng,
        ids,
        available: ids.filter((id) => !taken.has(id)),
        downCapacity: maxDown - downNow,
        allowMajorityDown: options.allowMajorityDown === true,
        idle: overlapping.length === 0,
        planned,
      });
      if (plan === null) continue;
      const fault: ScheduledFault = { id: planned.length + 1, atMs, fault: kind.name, targets: plan.targets, durationMs };
      if (plan.params !== undefined) fault.params = plan.params;
      const exclusive = isExclusive(fault);
      if (exclusive && overlapping.length > 0) continue;
      if (options.allowMajorityDown !== true && !exclusive && downNow + kind.impairs(fault, ids.length) > maxDown) continue;
      planned.push(fault);
      break;
    }
  }
  return { seed: options.seed, timeMs, intervalMs, faults: planned };
}

/** The most nodes the schedule's faults impair (take down or cut off) at the same time. */
export function maxConcurrentDown(schedule: Schedule, nodes: number): number {
  let max = 0;
  for (const f of schedule.faults) {
    const t = f.atMs;
    const down = schedule.faults
      .filter((g) => g.atMs <= t && g.atMs + g.durationMs > t)
      .reduce((n, g) => n + faultKind(g.fault).impairs(g, nodes), 0);
    max = Math.max(max, down);
  }
  return max;
}
