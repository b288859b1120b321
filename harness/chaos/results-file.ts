/**
 * What a chaos run is asked to do (ChaosOptions) and what it writes (results.json: ResultsFile),
 * apart from run-chaos.ts, so that the report, the dashboard and the replay read the shapes
 * without importing the runner that produces them.
 */
import type { Protocol, RaftFileTuning } from '../../nodes/config.js';
import type { CheckResult } from '../checker/check-history.js';
import type { HostsMode } from '../cluster/cluster.js';
import type { Schedule } from '../nemesis/schedule.js';
import type { FaultProxy } from '../proxy/fault-proxy.js';
import type { ReadConsistency } from '../workload/kv-op.js';
import { defaultMix, type OpMix, type Workload } from '../workload/workload.js';
import type { AvailabilityResult } from './availability.js';
import type { HealthySideResult } from './healthy-side.js';
import type { LostWritesResult } from './lost-writes.js';
import type { PowerLossSummary } from './power-loss-summary.js';
import type { StaleReadsResult } from './stale-reads.js';

export interface ChaosOptions {
  protocol: Protocol;
  nemesis: string[];
  timeS: number;
  intervalS: number;
  seed: number;
  nodes: number;
  clients: number;
  keys: number;
  ratePerSec: number;
  recoveryS: number;
  mix: OpMix;
  /** Client operation timeout (then `info`). */
  opTimeoutMs: number;
  checkerTimeoutS: number;
  unsafeLocalReads: boolean;
  unsafeNoFsync: boolean;
  allowMajorityDown: boolean;
  /** `?consistency=` of every read; stale reads are checked as stale-reads.ts says. */
  readConsistency: ReadConsistency;
  /** Clients that leave a replica after a timeout, refused connection or 503 (workload/endpoint-picker.ts). */
  clientFailover: boolean;
  /**
   * `loopback`: every replica on 127.0.0.1, links through the fault proxy. `netns`: every replica
   * in its own network namespace (harness/hosts), partitions made by iptables in the kernel.
   */
  hosts: HostsMode;
  out: string;
  tuning?: RaftFileTuning;
  /** Progress lines; nothing when absent. */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export const defaultChaosOptions: ChaosOptions = {
  protocol: 'raft',
  nemesis: ['partition', 'kill', 'pause'],
  timeS: 60,
  intervalS: 5,
  seed: 1,
  nodes: 3,
  clients: 10,
  keys: 5,
  ratePerSec: 200,
  recoveryS: 10,
  mix: defaultMix,
  opTimeoutMs: 3000,
  checkerTimeoutS: 60,
  unsafeLocalReads: false,
  unsafeNoFsync: false,
  allowMajorityDown: false,
  readConsistency: 'linearizable',
  clientFailover: false,
  hosts: 'loopback',
  out: 'store',
};

export type Verdict = 'valid' | 'invalid' | 'unknown' | 'aborted';

export interface ChaosResult {
  verdict: Verdict;
  exitCode: 0 | 1 | 2 | 130;
  dir: string;
  reportPath: string;
  summary: string;
}

export interface ResultsFile {
  options: Omit<ChaosOptions, 'log' | 'signal'>;
  verdict: Verdict;
  startedAt: string;
  durationMs: number;
  schedule: Schedule;
  periods: Array<{ id: number; fault: string; targets: string[]; startMs: number; endMs: number | null; detail: Record<string, unknown> }>;
  linkEvents: FaultProxy['events'];
  /** Where the replicas ran: the hosts mode, and in `netns` mode the run's subnet and bridge. */
  network: NetworkSummary;
  runStartMs: number;
  healMs: number | null;
  endMs: number;
  workload: Workload['stats'];
  linearizability: Pick<CheckResult, 'valid' | 'keys' | 'stats'> & { violation?: CheckResult['violation'] } | { valid: 'skipped'; reason: string };
  lostWrites: LostWritesResult & { notes: string[] };
  finalValues: Record<string, Record<string, string | null>>;
  availability: AvailabilityResult;
  /** With the power-loss nemeses: what the power failures discarded. */
  powerLoss?: PowerLossSummary;
  /** Availability per replica, and on the replicas the faults did not impair (healthy-side.ts). */
  healthySide: HealthySideResult;
  /** With `--read-consistency stale` only (stale-reads.ts). */
  staleReads?: StaleReadsResult;
}

export interface NetworkSummary {
  hosts: HostsMode;
  /** Who made the partitions: the fault proxy (user space) or iptables in the replicas' namespaces. */
  partitionsBy: 'proxy' | 'kernel';
  subnet?: string;
  bridge?: string;
  /** Each replica's address and namespace (`netns`). */
  replicas?: Record<string, { address: string; namespace: string }>;
}
