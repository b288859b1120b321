/**
 * Availability both ways: what the clients saw, and what the replicas the faults left alone
 * offered.
 *
 * Under a minority partition a client that asks the cut-off replica waits out its timeout, so the
 * clients' operations per second (availability.ts) fall even while the majority side serves well:
 * they measure the clients as much as the cluster. Here every operation is also attributed to the
 * replica it asked (the history's `node`), and a replica counts as impaired while a fault takes it
 * down (kill, pause, ...) or cuts it off from every majority (a partition's minority side). Per
 * fault period: the operations on healthy replicas (how many succeeded, how fast), those on
 * impaired ones, and the client time spent waiting on impaired replicas. With `--client-failover`
 * the clients leave impaired replicas, and the two views meet.
 */
import { faultKind } from '../nemesis/fault-kinds.js';
import type { ScheduledFault } from '../nemesis/fault-kinds.js';
import { percentiles, periodAt, type Counts, type FaultWindow } from './availability.js';
import type { Operation } from './history.js';

/** A fault as it ran, with the nodes it impaired. */
export interface ImpairingWindow extends FaultWindow {
  impaired: string[];
}

export interface SideStats extends Counts {
  okPerSec: number;
  /** Latency of ok operations (ms); null when none. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Client time spent in these operations (s): ok, fail, and info ones up to their timeout. */
  clientSeconds: number;
}

export interface HealthyPeriod {
  period: string;
  durationMs: number;
  /** Every node some fault of this period impaired at some point. */
  impaired: string[];
  clients: SideStats;
  healthy: SideStats;
  onImpaired: SideStats;
}

export interface ReplicaPeriod extends SideStats {
  node: string;
  period: string;
}

export interface HealthySideResult {
  byPeriod: HealthyPeriod[];
  byReplica: ReplicaPeriod[];
}

/**
 * The nodes a fault impaired: the targets of a fault that takes nodes down; for a partition, the
 * nodes outside its majority component (none when the links that pass still connect a majority
 * to everyone, as in bridge and ring).
 */
export function impairedBy(fault: { fault: string; targets: readonly string[] }, planned: ScheduledFault | undefined, ids: readonly string[]): string[] {
  let resource: string;
  try {
    resource = faultKind(fault.fault).resource;
  } catch {
    return [...fault.targets];
  }
  if (resource === 'nodes') return [...fault.targets];
  if (resource !== 'network') return [];
  const cut = planned?.params?.['cut'] as Array<[string, string]> | undefined;
  if (cut === undefined) return fault.targets.slice(0, 1); // isolate: the one node
  return outsideMajority(ids, cut);
}

/** Nodes not in a component of more than half the nodes, where a link passes unless cut either way. */
function outsideMajority(ids: readonly string[], cut: ReadonlyArray<readonly [string, string]>): string[] {
  const cutSet = new Set(cut.map(([a, b]) => `${a}>${b}`));
  const talks = (a: string, b: string) => !cutSet.has(`${a}>${b}`) && !cutSet.has(`${b}>${a}`);
  const seen = new Set<string>();
  let majority: Set<string> | null = null;
  for (const start of ids) {
    if (seen.has(start)) continue;
    const component = new Set([start]);
    const queue = [start];
    while (queue.length > 0) {
      const a = queue.pop()!;
      for (const b of ids) if (!component.has(b) && talks(a, b)) (component.add(b), queue.push(b));
    }
    for (const id of component) seen.add(id);
    if (component.size > ids.length / 2) majority = component;
  }
  return majority === null ? [...ids] : ids.filter((id) => !majority.has(id));
}

export function checkHealthySide(
  ops: readonly Operation[],
  windows: readonly ImpairingWindow[],
  periods: ReadonlyArray<{ period: string; durationMs: number }>,
  opts: { healMs: number | null; endMs: number },
): HealthySideResult {
  const impairedAt = (ms: number) => new Set(windows.filter((w) => w.startMs <= ms && (w.endMs === null || w.endMs > ms)).flatMap((w) => w.impaired));
  const byPeriod = new Map<string, { clients: Operation[]; healthy: Operation[]; onImpaired: Operation[]; impaired: Set<string> }>();
  const byReplica = new Map<string, Operation[]>();
  for (const op of ops) {
    const ms = op.invokeNs / 1e6;
    const period = periodAt(ms, windows, opts.healMs);
    const entry = byPeriod.get(period) ?? { clients: [], healthy: [], onImpaired: [], impaired: new Set<string>() };
    byPeriod.set(period, entry);
    const impaired = period === 'recovery' ? new Set<string>() : impairedAt(ms);
    for (const id of impaired) entry.impaired.add(id);
    entry.clients.push(op);
    (op.node !== undefined && impaired.has(op.node) ? entry.onImpaired : entry.healthy).push(op);
    const key = `${op.node ?? '?'}\u0000${period}`;
    const list = byReplica.get(key) ?? [];
    list.push(op);
    byReplica.set(key, list);
  }
  const duration = new Map(periods.map((p) => [p.period, p.durationMs]));
  const stats = (list: readonly Operation[], period: string) => sideStats(list, duration.get(period) ?? 0, opts.endMs);
  return {
    byPeriod: [...byPeriod].map(([period, e]) => ({
      period,
      durationMs: duration.get(period) ?? 0,
      impaired: [...e.impaired].sort(),
      clients: stats(e.clients, period),
      healthy: stats(e.healthy, period),
      onImpaired: stats(e.onImpaired, period),
    })),
    byReplica: [...byReplica]
      .map(([key, list]) => {
        const [node, period] = key.split('\u0000') as [string, string];
        return { node, period, ...stats(list, period) };
      })
      .sort((a, b) => a.period.localeCompare(b.period) || a.node.localeCompare(b.node)),
  };
}

function sideStats(list: readonly Operation[], durationMs: number, endMs: number): SideStats {
  const counts: Counts = { ok: 0, fail: 0, info: 0 };
  const okLatency: number[] = [];
  let clientMs = 0;
  for (const op of list) {
    counts[op.type]++;
    const completeMs = Number.isFinite(op.completeNs) ? op.completeNs / 1e6 : endMs;
    clientMs += Math.max(0, completeMs - op.invokeNs / 1e6);
    if (op.type === 'ok') okLatency.push((op.completeNs - op.invokeNs) / 1e6);
  }
  const p = percentiles(okLatency);
  return {
    ...counts,
    okPerSec: durationMs > 0 ? (counts.ok * 1000) / durationMs : 0,
    p50Ms: p.count > 0 ? p.p50 : null,
    p99Ms: p.count > 0 ? p.p99 : null,
    clientSeconds: clientMs / 1000,
  };
}

/** One line for the chaos command's summary: ok/s the clients saw, and what the healthy side served. */
export function healthySideSummary(h: HealthySideResult, failover: boolean): string {
  const faulty = h.byPeriod.filter((p) => p.period !== 'none' && p.period !== 'recovery');
  const ms = faulty.reduce((sum, p) => sum + p.durationMs, 0);
  if (ms === 0) return 'availability under faults: no fault ran';
  const sum = (f: (p: HealthyPeriod) => number) => faulty.reduce((x, p) => x + f(p), 0);
  const perSec = (n: number) => ((n * 1000) / ms).toFixed(1);
  const healthyOps = sum((p) => p.healthy.ok + p.healthy.fail + p.healthy.info);
  const healthyOk = healthyOps === 0 ? 'n/a' : `${((100 * sum((p) => p.healthy.ok)) / healthyOps).toFixed(0)}% ok`;
  return (
    `availability under faults (${(ms / 1000).toFixed(1)} s): clients ${perSec(sum((p) => p.clients.ok))} ok/s; ` +
    `on replicas not impaired ${perSec(sum((p) => p.healthy.ok))} ok/s (${healthyOk}); ` +
    `clients waited ${sum((p) => p.onImpaired.clientSeconds).toFixed(1)} s on impaired replicas${failover ? ' (failover clients)' : ''}`
  );
}
