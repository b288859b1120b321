/**
 * Runs a planned schedule against a live cluster: every fault is its own task (start at atMs,
 * stop after durationMs), so that a slow restart does not delay the next fault. "leader"
 * targets are resolved when the fault starts. The runtime keeps the majority rule too: a node
 * fault whose target is already down gets another target, and is skipped if that would take
 * down more nodes than allowed. Every start and stop is recorded as a `nemesis` event; heal()
 * ends every fault (clocks reset to the true time included) and records `heal`.
 */
import type { HistoryRecorder } from '../chaos/history.js';
import { faultKind, type FaultKind, type NemesisEnv, type ScheduledFault } from './fault-kinds.js';
import { majorityDownLimit, type Schedule } from './schedule.js';

export interface NemesisPeriod {
  id: number;
  fault: string;
  targets: string[];
  startMs: number;
  /** Null while running (or when heal() ended it). */
  endMs: number | null;
  detail: Record<string, unknown>;
}

export class NemesisRunner {
  /** What actually happened, for the availability checker and the report. */
  readonly periods: NemesisPeriod[] = [];
  private readonly down = new Set<string>();
  private readonly active = new Map<number, { kind: FaultKind; fault: ScheduledFault; targets: string[]; period: NemesisPeriod }>();
  private readonly maxDown: number;
  private aborted = false;
  private running: Promise<void> = Promise.resolve();
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly env: NemesisEnv,
    private readonly recorder: HistoryRecorder,
    allowMajorityDown = false,
    /** Overrides the majority rule's bound (PBFT: f, the faulty replicas it tolerates). */
    maxImpaired?: number,
  ) {
    this.maxDown = maxImpaired ?? majorityDownLimit(env.ids.length, allowMajorityDown);
  }

  /** Runs the whole schedule; `t0Ms` is the recorder time the schedule's atMs count from. */
  async run(schedule: Schedule, t0Ms = this.recorder.nowMs()): Promise<void> {
    this.running = Promise.all(schedule.faults.map((f) => this.runFault(f, t0Ms))).then(() => undefined);
    await this.running;
  }

  /** Stop waiting: pending faults do not start, running ones are left for heal(). */
  abort(): void {
    this.aborted = true;
    for (const wake of this.wakers) wake();
  }

  /** End every running fault, heal the network, resume and restart every node. */
  async heal(extraIds: readonly string[] = []): Promise<void> {
    this.abort();
    // Let starts and stops already under way finish (sleeping faults return at once).
    await this.running;
    const running = [...this.active.values()];
    this.active.clear();
    for (const a of running) a.period.endMs = this.recorder.nowMs();
    this.env.proxy?.heal();
    await this.env.kernel?.healPartitions();
    await this.env.bandwidth?.clearAll();
    await this.env.clocks?.resetAll(); // every clock true again, every strobe stopped
    const ids = new Set([...this.down, ...extraIds]);
    await Promise.all(
      [...ids].map(async (id) => {
        const state = this.env.cluster.replica(id).state;
        if (running.some((a) => a.kind.name === 'byzantine' && a.targets.includes(id))) {
          this.env.cluster.setByzantine?.(id, null); // back to an honest replica
          if (state === 'paused') this.env.cluster.resume(id);
          await this.env.cluster.restart(id);
          return;
        }
        if (state === 'paused') this.env.cluster.resume(id);
        else if (state === 'killed' || state === 'stopped') {
          const wiped = running.some((a) => a.kind.name === 'restart-wiped' && a.targets.includes(id));
          await this.env.cluster.restart(id, { wipe: wiped });
        }
      }),
    );
    this.down.clear();
    this.recorder.nemesis('heal', { ended: running.map((a) => ({ id: a.fault.id, fault: a.fault.fault, nodes: a.targets })) });
  }

  private async runFault(fault: ScheduledFault, t0Ms: number): Promise<void> {
    await this.sleepUntil(t0Ms + fault.atMs);
    if (this.aborted) return;
    const kind = faultKind(fault.fault);
    // A node still restarting from an earlier fault counts as down: wait a little for it
    // rather than skip at once (the fault then ends at its planned time, a little shorter).
    let targets = await this.resolveTargets(kind, fault);
    const waitUntilMs = t0Ms + fault.atMs + Math.min(fault.durationMs / 2, 3000);
    while (targets === null && !this.aborted && this.recorder.nowMs() < waitUntilMs) {
      await this.sleepUntil(this.recorder.nowMs() + 50);
      targets = await this.resolveTargets(kind, fault);
    }
    if (this.aborted) return;
    if (targets === null) {
      this.recorder.nemesis(`skip-${fault.fault}`, { id: fault.id, planned: fault.targets, why: 'would impair a majority' });
      return;
    }
    if (kind.resource === 'nodes') for (const id of targets) this.down.add(id);
    const period: NemesisPeriod = { id: fault.id, fault: fault.fault, targets, startMs: this.recorder.nowMs(), endMs: null, detail: {} };
    this.periods.push(period);
    this.active.set(fault.id, { kind, fault, targets, period });
    this.recorder.nemesis(`start-${fault.fault}`, { id: fault.id, ...(await this.safely(() => kind.start(fault, this.env, targets))) });
    period.detail = { ...(fault.params ?? {}) };
    delete period.detail['cut'];
    await this.sleepUntil(t0Ms + fault.atMs + fault.durationMs);
    if (this.aborted || !this.active.has(fault.id)) return;
    const stopped = await this.safely(() => kind.stop(fault, this.env, targets));
    // Only now: a restarting node is still down until it serves again.
    this.active.delete(fault.id);
    period.endMs = this.recorder.nowMs();
    if (kind.resource === 'nodes') for (const id of targets) this.down.delete(id);
    this.recorder.nemesis(`stop-${fault.fault}`, { id: fault.id, ...stopped });
  }

  private async resolveTargets(kind: FaultKind, fault: ScheduledFault): Promise<string[] | null> {
    const n = this.env.ids.length;
    // A fault that takes every node down (FaultKind.exclusive) runs alone, with every node up.
    if ([...this.active.values()].some((a) => a.kind.exclusive?.(withParams(a.targets, a.fault)) === true)) return null;
    if (kind.exclusive?.(fault) === true) {
      const allUp = this.env.ids.every((id) => !this.down.has(id) && this.env.cluster.replica(id).state === 'up');
      return this.active.size === 0 && allUp ? [...this.env.ids] : null;
    }
    const impairedNow = [...this.active.values()].reduce((sum, a) => sum + a.kind.impairs(withParams(a.targets, a.fault), n), 0);
    if (impairedNow + kind.impairs(withParams(fault.targets, fault), n) > this.maxDown) return null;
    const leader = fault.targets.includes('leader') ? await this.env.findLeader() : null;
    const upIds = () => this.env.ids.filter((id) => !this.down.has(id) && this.env.cluster.replica(id).state === 'up');
    const resolved: string[] = [];
    for (const t of fault.targets) {
      let id = t === 'leader' ? leader : t;
      if (kind.resource === 'nodes' && (id === null || !upIds().includes(id) || resolved.includes(id))) {
        const candidates = upIds().filter((x) => !resolved.includes(x));
        if (candidates.length === 0) return null;
        id = candidates[this.env.rng.int(candidates.length)]!;
      }
      if (id === null) id = this.env.ids[this.env.rng.int(n)]!;
      resolved.push(id);
    }
    return resolved;
  }

  private async safely(fn: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    try {
      return await fn();
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  private sleepUntil(atMs: number): Promise<void> {
    const ms = atMs - this.recorder.nowMs();
    if (ms <= 0 || this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}

function withParams(targets: string[], fault: ScheduledFault): Pick<ScheduledFault, 'targets' | 'params'> {
  return fault.params === undefined ? { targets } : { targets, params: fault.params };
}
