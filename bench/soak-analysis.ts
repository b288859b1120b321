/**
 * From one soak round's raw material (the load generator's windows and the sampler's samples,
 * both stamped with the same machine's wall clock) to the SoakReport of soak.json. Pure: the
 * unit tests feed it made-up samples.
 *
 * Leader changes are counted from the replicas' status answers: every (epoch, leader) pair
 * seen for the first time with an epoch at least as high as the current one is a change, so a
 * lagging follower still reporting the old leader does not count, nor does a replica that
 * knows no leader mid-election. A change and a change back within one poll interval could hide
 * between polls; the replicas' own leader-change counter, read at start and stop, catches
 * those (`counterDelta`).
 */
import { median, percentile } from './latency-samples.js';
import type { LoadWindow } from './load-protocol.js';
import type { GaugeSample, ProbeSample, ReplicaSamples, RssSample, SamplerResult, StatusSample } from './soak-protocol.js';
import type { LagSeries, LagWindow, LeaderEvent, RssSeries, SoakLeadership, SoakReplica, SoakReport, SoakWindow } from './soak-results.js';

export const throughputFloor = 0.8;
/** The goal for an event-loop stall during a snapshot or checkpoint. */
export const stallMs = 50;
const maxStalls = 500;

export interface SoakInput {
  meta: Pick<SoakReport, 'system' | 'nodes' | 'workload' | 'connections' | 'target' | 'keys' | 'valueBytes' | 'round' | 'repetition' | 'windowS'>;
  /** The load round: its start (epoch ms), measured duration, total successes and complete windows. */
  load: { startMs: number; durationS: number; ok: number; windows: LoadWindow[] };
  sampler: SamplerResult;
  probeIntervalMs: number;
  leaderCounter: string | null;
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
const mb = (bytes: number): number => round(bytes / 2 ** 20, 1);

export function analyzeSoak(input: SoakInput): SoakReport {
  const { meta, load, sampler } = input;
  const windowMs = meta.windowS * 1000;
  const endMs = load.startMs + load.windows.length * windowMs;
  const rel = (t: number): number => round((t - load.startMs) / 1000);
  const windowOf = (t: number): number | null => {
    const i = Math.floor((t - load.startMs) / windowMs);
    return i >= 0 && i < load.windows.length ? i : null;
  };
  const names = new Map(sampler.replicas.filter((r) => r.selfId !== null).map((r) => [r.selfId!, r.id]));
  const windows = load.windows.map((w): SoakWindow => ({
    index: w.index,
    startS: round(w.index * meta.windowS),
    rps: round(w.ok / meta.windowS, 1),
    ok: w.ok,
    non2xx: w.non2xx,
    errors: w.errors,
    latencyMs: w.latencyMs,
  }));
  const stalls = sampler.replicas.flatMap((r) =>
    r.probes.filter(([t, ms]) => windowOf(t) !== null && ms >= stallMs).map(([t, ms]) => ({ replica: r.id, tS: rel(t), ms })),
  );
  // The slowest ones are kept (then put in time order), so that the worst is never cut off.
  const kept = [...stalls].sort((a, b) => b.ms - a.ms).slice(0, maxStalls).sort((a, b) => a.tS - b.tS);
  return {
    ...meta,
    durationS: load.durationS,
    startedAt: new Date(load.startMs).toISOString(),
    rps: load.durationS > 0 ? round(load.ok / load.durationS, 1) : 0,
    windows,
    throughput: throughputSummary(windows),
    leadership: { ...leadership(sampler, load.startMs, endMs, rel, names), counterName: input.leaderCounter },
    snapshots: snapshotEvents(sampler.replicas, load.startMs, endMs, rel),
    replicas: sampler.replicas.map((r) => replicaReport(r, load.windows.length, windowOf, rel, load.startMs, endMs)),
    stalls: kept,
    stallsTotal: stalls.length,
    stallMs,
    others: sampler.others.map((o) => ({ id: o.id, rss: rssSeries(o.rss, load.startMs, endMs, rel) })),
    sampler: {
      probePath: sampler.probePath,
      probeIntervalMs: input.probeIntervalMs,
      selfLagMaxMs: bucketMax(sampler.selfLag.map(([t, ms]) => [t, ms]), load.windows.length, windowOf),
    },
  };
}

export function throughputSummary(windows: SoakWindow[]): SoakReport['throughput'] {
  if (windows.length === 0) return { minRps: 0, medianRps: 0, maxRps: 0, worstIndex: null, worstToMedian: null, floor: throughputFloor, allAboveFloor: null };
  const rps = windows.map((w) => w.rps);
  const med = median(rps);
  let worst = 0;
  for (let i = 1; i < rps.length; i++) if (rps[i]! < rps[worst]!) worst = i;
  const minRps = rps[worst]!;
  return {
    minRps,
    medianRps: round(med, 1),
    maxRps: Math.max(...rps),
    worstIndex: worst,
    worstToMedian: med > 0 ? round(minRps / med) : null,
    floor: throughputFloor,
    allAboveFloor: med > 0 ? minRps >= throughputFloor * med : false,
  };
}

/** Leader changes seen in the status polls of the round, and the leader-change counter's increase. */
export function leadership(
  sampler: Pick<SamplerResult, 'replicas'>,
  startMs: number,
  endMs: number,
  rel: (t: number) => number,
  names: Map<string, string>,
): SoakLeadership {
  const samples: StatusSample[] = sampler.replicas.flatMap((r) => r.status).sort((a, b) => a[0] - b[0]);
  const seen = new Set<string>();
  let current: { leader: string; epoch: number } | null = null;
  let initial: { leader: string; epoch: number } | null = null;
  let epochEnd: number | null = null;
  const events: LeaderEvent[] = [];
  for (const [t, rawLeader, epoch] of samples) {
    if (t > endMs) break;
    if (epoch !== null && t >= startMs) epochEnd = Math.max(epochEnd ?? epoch, epoch);
    if (rawLeader === null || epoch === null) continue;
    const leader = names.get(rawLeader) ?? rawLeader;
    const key = `${epoch}\u0000${leader}`;
    if (seen.has(key) || (current !== null && epoch < current.epoch)) continue;
    seen.add(key);
    const pair = { leader, epoch };
    // Before the round (the warm-up) a change only moves the starting point.
    if (current === null || t < startMs) initial = pair;
    else events.push({ tS: rel(t), from: current.leader, to: leader, epoch });
    current = pair;
  }
  const deltas = sampler.replicas
    .map((r) => (r.leaderCounter.start === null || r.leaderCounter.end === null ? null : r.leaderCounter.end - r.leaderCounter.start))
    .filter((d): d is number => d !== null);
  return {
    initial: initial?.leader ?? null,
    changes: events.length,
    events,
    epochStart: initial?.epoch ?? null,
    epochEnd: epochEnd ?? current?.epoch ?? null,
    counterDelta: deltas.length === 0 ? null : Math.max(...deltas),
    counterName: null,
  };
}

function snapshotEvents(replicas: ReplicaSamples[], startMs: number, endMs: number, rel: (t: number) => number): SoakReport['snapshots'] {
  const out: SoakReport['snapshots'] = [];
  for (const r of replicas) {
    let last: number | null = null;
    for (const [t, , , snapshot] of r.status) {
      if (snapshot === null) continue;
      if (last !== null && snapshot > last && t >= startMs && t <= endMs) out.push({ replica: r.id, tS: rel(t), index: snapshot });
      last = snapshot;
    }
  }
  return out.sort((a, b) => a.tS - b.tS);
}

function replicaReport(
  r: ReplicaSamples,
  nWindows: number,
  windowOf: (t: number) => number | null,
  rel: (t: number) => number,
  startMs: number,
  endMs: number,
): SoakReplica {
  const firstStatus = r.status.find(([t]) => t >= startMs) ?? r.status[r.status.length - 1];
  return {
    id: r.id,
    pid: r.pid,
    probe: probeSeries(r.probes, nWindows, windowOf, rel),
    gauges: r.gauges === null ? null : gaugeSeries(r.gauges, nWindows, windowOf, rel),
    rss: rssSeries(r.rss, startMs, endMs, rel),
    keysAtStart: firstStatus?.[4] ?? null,
    statusErrors: r.statusErrors,
  };
}

export function probeSeries(probes: ProbeSample[], nWindows: number, windowOf: (t: number) => number | null, rel: (t: number) => number): LagSeries {
  const per: number[][] = Array.from({ length: nWindows }, () => []);
  const failed = new Array<number>(nWindows).fill(0);
  let worst: ProbeSample | null = null;
  for (const p of probes) {
    const w = windowOf(p[0]);
    if (w === null) continue;
    if (p[1] < 0) {
      failed[w]!++;
      continue;
    }
    per[w]!.push(p[1]);
    if (worst === null || p[1] > worst[1]) worst = p;
  }
  const all = per.flat().sort((a, b) => a - b);
  return {
    windows: per.map((ms, i): LagWindow => {
      const s = ms.sort((a, b) => a - b);
      return {
        p50Ms: s.length === 0 ? null : percentile(s, 0.5),
        p99Ms: s.length === 0 ? null : percentile(s, 0.99),
        maxMs: s.length === 0 ? null : s[s.length - 1]!,
        count: s.length,
        failed: failed[i]!,
      };
    }),
    p99Ms: all.length === 0 ? null : percentile(all, 0.99),
    maxMs: worst?.[1] ?? null,
    maxAtS: worst === null ? null : rel(worst[0]),
  };
}

/** Gauges cover the second before each scrape: a window's max is exact, its p99 the highest per-second p99. */
export function gaugeSeries(gauges: GaugeSample[], nWindows: number, windowOf: (t: number) => number | null, rel: (t: number) => number): LagSeries {
  const per: GaugeSample[][] = Array.from({ length: nWindows }, () => []);
  for (const g of gauges) {
    const w = windowOf(g[0]);
    if (w !== null) per[w]!.push(g);
  }
  const ms = (s: number): number => round(s * 1000);
  let worst: GaugeSample | null = null;
  for (const g of per.flat()) if (worst === null || g[2] > worst[2]) worst = g;
  const p99s = per.flat().map((g) => g[1]);
  return {
    windows: per.map((gs): LagWindow => ({
      p50Ms: null,
      p99Ms: gs.length === 0 ? null : ms(Math.max(...gs.map((g) => g[1]))),
      maxMs: gs.length === 0 ? null : ms(Math.max(...gs.map((g) => g[2]))),
      count: gs.length,
      failed: 0,
    })),
    p99Ms: p99s.length === 0 ? null : ms(Math.max(...p99s)),
    maxMs: worst === null ? null : ms(worst[2]),
    maxAtS: worst === null ? null : rel(worst[0]),
  };
}

/** RSS from the load's start to the end of its last window: "start" is the first second's. */
export function rssSeries(rss: RssSample[], startMs: number, endMs: number, rel: (t: number) => number): RssSeries {
  const inRange = rss.filter(([t]) => t >= startMs && t <= endMs);
  const series = inRange.map(([t, bytes]): [number, number] => [rel(t), mb(bytes)]);
  return {
    series,
    startMB: series[0]?.[1] ?? null,
    peakMB: series.length === 0 ? null : Math.max(...series.map((s) => s[1])),
    endMB: series[series.length - 1]?.[1] ?? null,
  };
}

function bucketMax(samples: [number, number][], nWindows: number, windowOf: (t: number) => number | null): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(nWindows).fill(null);
  for (const [t, v] of samples) {
    const w = windowOf(t);
    if (w !== null) out[w] = Math.max(out[w] ?? v, v);
  }
  return out;
}
