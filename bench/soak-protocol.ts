/**
 * What the soak's sampler process (bench/soak-sampler.ts) is asked to watch and what it hands
 * back: raw samples, stamped with epoch milliseconds, which bench/soak-analysis.ts turns into
 * the per-window series of soak.json. Tuples keep the one JSON line it sends small (a 10-minute
 * soak probes each replica 30,000 times).
 */
import type { Dialect } from './requests.js';
import type { ReplicaInfo } from './systems/types.js';

export interface SamplerSpec {
  dialect: Dialect;
  replicas: ReplicaInfo[];
  /** Processes whose RSS is recorded too but that are not part of the system (the load generator). */
  others: { id: string; pid: number }[];
  /** Counter of leader or view changes on /metrics (read at start and stop), or null. */
  leaderCounter: string | null;
  /** One probe in flight per replica, the next one this long after the previous one was sent. */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** /status, RSS and the event-loop gauges of /metrics. */
  statusIntervalMs: number;
}

/** [sent at (epoch ms), response time ms, or -1 when the probe failed (error, timeout, non-2xx)]. */
export type ProbeSample = [number, number];

/**
 * [epoch ms, leader as this replica reports it (our id, or etcd's member id), epoch (Raft term,
 * Multi-Paxos ballot round, PBFT view, etcd raft term), snapshot (Raft snapshot index,
 * Multi-Paxos snapshot slot, PBFT last stable checkpoint; null for etcd), keys in its state
 * machine (ours; null for etcd)].
 */
export type StatusSample = [number, string | null, number | null, number | null, number | null];

/** [epoch ms, bytes] from /proc/<pid>/status VmRSS. */
export type RssSample = [number, number];

/**
 * [epoch ms, p99 s, max s] of prom-client's default `nodejs_eventloop_lag_p99_seconds` and
 * `nodejs_eventloop_lag_max_seconds`. prom-client resets its event-loop histogram at every
 * scrape (lib/metrics/eventLoopLag.js), so each sample covers the time since the previous one.
 */
export type GaugeSample = [number, number, number];

export interface ReplicaSamples {
  id: string;
  url: string;
  pid: number;
  /** How this replica names itself in status answers (our id; etcd's member id), once known. */
  selfId: string | null;
  probes: ProbeSample[];
  status: StatusSample[];
  statusErrors: number;
  rss: RssSample[];
  /** null when its /metrics has no prom-client event-loop gauges (not scraped every second then). */
  gauges: GaugeSample[] | null;
  leaderCounter: { start: number | null; end: number | null };
}

export interface SamplerResult {
  startMs: number;
  endMs: number;
  /** GET path of the probe: /health on ours, /version on etcd (its /health does a quorum read). */
  probePath: string;
  replicas: ReplicaSamples[];
  others: { id: string; pid: number; rss: RssSample[] }[];
  /** [epoch ms, ms]: the sampler's own worst event-loop delay over each second (perf_hooks). */
  selfLag: [number, number][];
}

export type SamplerReply = { ready: true } | { result: SamplerResult } | { error: string };
