/**
 * Availability and latency: ok / fail / info counts per operation type and per fault period
 * (an operation belongs to the set of faults active when it was invoked), latency percentiles
 * of completed operations, and per-second throughput and latency series for the report.
 */
import type { Operation, OpF } from './history.js';

export interface Counts {
  ok: number;
  fail: number;
  info: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** A fault's start and end in ms of the run clock (end null: still running at the end). */
export interface FaultWindow {
  fault: string;
  startMs: number;
  endMs: number | null;
}

export interface PeriodStats extends Counts {
  /** "none", "recovery", or the active faults joined with "+" (e.g. "kill+partition"). */
  period: string;
  /** ok operations per second during the period. */
  okPerSec: number;
  durationMs: number;
}

export interface SecondBucket {
  second: number;
  ok: number;
  fail: number;
  info: number;
  /** Median latency of ok operations invoked in this second (ms), null when none. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface AvailabilityResult {
  total: Counts;
  byOp: Record<OpF, Counts>;
  byPeriod: PeriodStats[];
  /** Latency in ms of ok and fail operations (info ones have no meaningful latency). */
  latencyMs: Record<OpF | 'all', Percentiles>;
  perSecond: SecondBucket[];
  /**
   * Of the operations invoked after the final heal, the fraction the cluster answered
   * definitely: ok, or a cas refused with CAS_MISMATCH (a correct answer, not unavailability).
   */
  answeredRatioAfterHeal: number | null;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

export function checkAvailability(
  ops: readonly Operation[],
  faults: readonly FaultWindow[],
  opts: { healMs?: number | null; endMs?: number; startMs?: number } = {},
): AvailabilityResult {
  const zero = (): Counts => ({ ok: 0, fail: 0, info: 0 });
  const total = zero();
  const byOp = { read: zero(), write: zero(), cas: zero(), delete: zero() } as Record<OpF, Counts>;
  const periods = new Map<string, Counts>();
  const lat: Record<OpF | 'all', number[]> = { read: [], write: [], cas: [], delete: [], all: [] };
  const seconds = new Map<number, { counts: Counts; lat: number[] }>();
  const endMs = opts.endMs ?? Math.max(0, ...ops.map((o) => (Number.isFinite(o.completeNs) ? o.completeNs : o.invokeNs) / 1e6));
  const healMs = opts.healMs ?? null;
  const afterHeal = zero();
  let casMismatchAfterHeal = 0;

  for (const op of ops) {
    const startMs = op.invokeNs / 1e6;
    total[op.type]++;
    byOp[op.f][op.type]++;
    const period = periodAt(startMs, faults, healMs);
    const counts = periods.get(period) ?? zero();
    counts[op.type]++;
    periods.set(period, counts);
    if (healMs !== null && startMs >= healMs) {
      afterHeal[op.type]++;
      if (op.type === 'fail' && op.error?.startsWith('409') === true) casMismatchAfterHeal++;
    }
    const second = Math.floor(startMs / 1000);
    const bucket = seconds.get(second) ?? { counts: zero(), lat: [] };
    bucket.counts[op.type]++;
    if (op.type !== 'info' && Number.isFinite(op.completeNs)) {
      const ms = (op.completeNs - op.invokeNs) / 1e6;
      if (op.type === 'ok') bucket.lat.push(ms);
      lat[op.f].push(ms);
      lat.all.push(ms);
    }
    seconds.set(second, bucket);
  }

  const durations = periodDurations(faults, healMs, opts.startMs ?? 0, endMs);
  const byPeriod: PeriodStats[] = [...periods].map(([period, c]) => {
    const durationMs = durations.get(period) ?? 0;
    return { period, ...c, durationMs, okPerSec: durationMs > 0 ? (c.ok * 1000) / durationMs : 0 };
  });
  byPeriod.sort((a, b) => (a.period === 'none' ? -1 : b.period === 'none' ? 1 : a.period.localeCompare(b.period)));
  const perSecond: SecondBucket[] = [...seconds]
    .sort((a, b) => a[0] - b[0])
    .map(([second, b]) => {
      const p = percentiles(b.lat);
      return { second, ...b.counts, p50Ms: p.count > 0 ? p.p50 : null, p99Ms: p.count > 0 ? p.p99 : null };
    });
  const afterTotal = afterHeal.ok + afterHeal.fail + afterHeal.info;
  const latencyMs = Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, percentiles(v)])) as Record<OpF | 'all', Percentiles>;
  return { total, byOp, byPeriod, latencyMs, perSecond, answeredRatioAfterHeal: afterTotal === 0 ? null : (afterHeal.ok + casMismatchAfterHeal) / afterTotal };
}

/** The period an operation invoked at `ms` belongs to: "recovery", "none", or the active faults joined with "+". */
export function periodAt(ms: number, faults: readonly FaultWindow[], healMs: number | null): string {
  if (healMs !== null && ms >= healMs) return 'recovery';
  const active = new Set(faults.filter((f) => f.startMs <= ms && (f.endMs === null || f.endMs > ms)).map((f) => f.fault));
  return active.size === 0 ? 'none' : [...active].sort().join('+');
}

/** How long each period lasted, by sweeping the fault boundaries. */
function periodDurations(faults: readonly FaultWindow[], healMs: number | null, startMs: number, endMs: number): Map<string, number> {
  const clamp = (ms: number) => Math.min(Math.max(ms, startMs), endMs);
  const cuts = new Set<number>([startMs, endMs]);
  for (const f of faults) {
    cuts.add(clamp(f.startMs));
    cuts.add(clamp(f.endMs ?? endMs));
  }
  if (healMs !== null) cuts.add(clamp(healMs));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i]!;
    const b = sorted[i + 1]!;
    if (b <= a) continue;
    const period = periodAt((a + b) / 2, faults, healMs);
    out.set(period, (out.get(period) ?? 0) + (b - a));
  }
  return out;
}
