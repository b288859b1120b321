import type { ConsensusCounters } from '../prom-metrics.js';
import type { Dialect } from '../requests.js';

export interface SystemStartOptions {
  /** Replicas, for the systems that replicate (ignored by `single` and `hello`). */
  nodes: number;
  /** Where replica logs go (warnings and errors only), or nowhere when absent. */
  logDir?: string;
}

/** One process of a running system, for the soak's sampler (bench/soak-sampler.ts). */
export interface ReplicaInfo {
  /** n1, n2, ... or etcd's member names e1, e2, ... */
  id: string;
  /** Its client URL. */
  url: string;
  /** Its process id at start (RSS from /proc/<pid>/status), -1 when unknown. */
  pid: number;
}

/** A started system under test. */
export interface RunningSystem {
  name: string;
  /** Replicas actually running (1 for the baselines without replication). */
  nodes: number;
  dialect: Dialect;
  /** The leader's (primary's) client URL: where load goes by default. */
  targetUrl: string;
  /** Every replica's client URL (`--target any`, failover). */
  urls: string[];
  metricsUrls: string[];
  /** Processes whose CPU time counts as the system's. */
  pids(): number[];
  /** Every replica (member) with its URL and pid, in the order of `urls`. */
  replicas(): ReplicaInfo[];
  /** The counter of leader or view changes each replica exports on /metrics; null when it has none. */
  leaderCounter: string | null;
  /** Cluster-wide counters from /metrics, or null when the system has none. */
  readCounters(): Promise<ConsensusCounters | null>;
  /** Kill the current leader (SIGKILL): its id and when the signal went (epoch ms). Absent for systems without one. */
  killLeader?: () => Promise<{ replica: string; killedAtMs: number }>;
  stop(): Promise<void>;
}

export interface SystemDefinition {
  name: string;
  kind: 'protocol' | 'baseline';
  /** One line for the report and the README. */
  description: string;
  /** Has a leader that the failover experiment can kill (with more than one replica). */
  failover: boolean;
  /** null when it can run here, otherwise why it is skipped. */
  unavailable(): Promise<string | null>;
  start(options: SystemStartOptions): Promise<RunningSystem>;
}
