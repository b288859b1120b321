/**
 * The shape of bench/results/<time>/soak.json: one SoakReport per soak round (system,
 * workload, target, connections, round, repetition). Times are seconds since the round's load started; the
 * windows are complete windows of `windowS` seconds.
 */
import type { Workload } from './requests.js';
import type { Target } from './options.js';

export interface SoakWindow {
  index: number;
  startS: number;
  /** Successful responses completed in the window / window length (the load generator's count). */
  rps: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Of the window's successful responses. */
  latencyMs: { p50: number; p99: number; max: number };
}

export interface LagWindow {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Probes answered (probe series) or gauge samples (gauge series) in the window. */
  count: number;
  /** Probes that failed (error, timeout, non-2xx); 0 for gauges. */
  failed: number;
}

export interface LagSeries {
  windows: LagWindow[];
  /** Over every complete window. For gauges, p99 is the highest per-second p99 (an upper bound). */
  p99Ms: number | null;
  maxMs: number | null;
  /** When the worst one was seen. */
  maxAtS: number | null;
}

export interface RssSeries {
  /** [seconds since the load started, MB (2^20 bytes)], about one a second. */
  series: [number, number][];
  startMB: number | null;
  peakMB: number | null;
  endMB: number | null;
}

export interface SoakReplica {
  id: string;
  pid: number;
  /** Response time of GET /health (etcd: GET /version), polled every 20 ms: an upper bound of event-loop stalls. */
  probe: LagSeries;
  /** prom-client's event-loop delay gauges from the replica's /metrics; null when it exports none. */
  gauges: LagSeries | null;
  rss: RssSeries;
  /** Keys in its state machine at the first status poll of the round (ours; null for etcd). */
  keysAtStart: number | null;
  statusErrors: number;
}

export interface LeaderEvent {
  tS: number;
  from: string | null;
  to: string;
  epoch: number;
}

export interface SoakLeadership {
  /** Leader when the round started. */
  initial: string | null;
  /** New (epoch, leader) pairs seen in /status polls during the round. */
  changes: number;
  events: LeaderEvent[];
  /** Term / ballot round / view at the start and the end of the round. */
  epochStart: number | null;
  epochEnd: number | null;
  /** Largest increase of the replicas' leader-change counter over the round (catches changes between polls); null without one. */
  counterDelta: number | null;
  counterName: string | null;
}

export interface SoakReport {
  system: string;
  nodes: number;
  workload: Workload;
  connections: number;
  target: Target;
  keys: number;
  valueBytes: number;
  /** 1-based round of the matrix (`--rounds`). */
  round: number;
  /** 1-based repetition of the cell within its round (`--repetitions`). */
  repetition: number;
  windowS: number;
  /** Measured duration of the whole round (longer than the windows by the partial tail). */
  durationS: number;
  startedAt: string;
  /** Successful requests / second over the whole round. */
  rps: number;
  windows: SoakWindow[];
  throughput: {
    minRps: number;
    medianRps: number;
    maxRps: number;
    worstIndex: number | null;
    /** Worst window / median window. */
    worstToMedian: number | null;
    /** The goal's floor: every window ≥ floor × median. */
    floor: number;
    allAboveFloor: boolean | null;
  };
  leadership: SoakLeadership;
  /** Snapshots (Raft, Multi-Paxos) or stable checkpoints (PBFT) as the status polls saw them. */
  snapshots: { replica: string; tS: number; index: number }[];
  replicas: SoakReplica[];
  /** Probes of `stallMs` or more, in time order: the 500 slowest when there are more (`stallsTotal` counts them all). */
  stalls: { replica: string; tS: number; ms: number }[];
  stallsTotal: number;
  stallMs: number;
  /** RSS of processes that are not part of the system (the load generator). */
  others: { id: string; rss: RssSeries }[];
  sampler: {
    probePath: string;
    probeIntervalMs: number;
    /** The sampler's own worst event-loop delay per window (ms). */
    selfLagMaxMs: (number | null)[];
  };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);

/** The problems with a parsed soak.json (empty when it has the documented shape). */
export function validateSoak(value: unknown): string[] {
  if (!Array.isArray(value)) return ['soak.json is not an array'];
  const problems: string[] = [];
  value.forEach((raw: unknown, i) => {
    const at = (what: string): void => void problems.push(`soak ${i}: ${what}`);
    if (typeof raw !== 'object' || raw === null) return at('not an object');
    const s = raw as Record<string, unknown>;
    for (const k of ['system', 'workload', 'target', 'startedAt']) if (typeof s[k] !== 'string') at(`${k} is not a string`);
    for (const k of ['nodes', 'connections', 'keys', 'valueBytes', 'round', 'repetition', 'windowS', 'durationS', 'rps', 'stallsTotal', 'stallMs']) if (!isNum(s[k])) at(`${k} is not a number`);
    const windows = s['windows'];
    if (!Array.isArray(windows)) at('windows is not an array');
    else
      windows.forEach((w: Record<string, unknown>, j) => {
        for (const k of ['index', 'startS', 'rps', 'ok', 'non2xx', 'errors']) if (!isNum(w[k])) at(`windows[${j}].${k} is not a number`);
        const lat = w['latencyMs'] as Record<string, unknown> | undefined;
        for (const k of ['p50', 'p99', 'max']) if (!isNum(lat?.[k])) at(`windows[${j}].latencyMs.${k} is not a number`);
        if (w['index'] !== j) at(`windows[${j}].index is ${String(w['index'])}`);
      });
    const tp = s['throughput'] as Record<string, unknown> | undefined;
    for (const k of ['minRps', 'medianRps', 'maxRps', 'floor']) if (!isNum(tp?.[k])) at(`throughput.${k} is not a number`);
    const ld = s['leadership'] as Record<string, unknown> | undefined;
    if (!isNum(ld?.['changes']) || !Array.isArray(ld?.['events'])) at('leadership.changes/events missing');
    else for (const k of ['epochStart', 'epochEnd', 'counterDelta']) if (!isNumOrNull(ld[k])) at(`leadership.${k} is not a number or null`);
    const replicas = s['replicas'];
    if (!Array.isArray(replicas) || replicas.length === 0) at('replicas is empty');
    else
      replicas.forEach((r: Record<string, unknown>, j) => {
        if (typeof r['id'] !== 'string') at(`replicas[${j}].id is not a string`);
        const probe = r['probe'] as Record<string, unknown> | undefined;
        if (!Array.isArray(probe?.['windows']) || (Array.isArray(windows) && (probe['windows'] as unknown[]).length !== windows.length)) at(`replicas[${j}].probe.windows does not match the windows`);
        const rss = r['rss'] as Record<string, unknown> | undefined;
        if (!Array.isArray(rss?.['series'])) at(`replicas[${j}].rss.series is not an array`);
        for (const k of ['startMB', 'peakMB', 'endMB']) if (!isNumOrNull(rss?.[k])) at(`replicas[${j}].rss.${k} is not a number or null`);
      });
    if (!Array.isArray(s['snapshots']) || !Array.isArray(s['stalls']) || !Array.isArray(s['others'])) at('snapshots/stalls/others missing');
  });
  return problems;
}
