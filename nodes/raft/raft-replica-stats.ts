import type { RaftStatus } from '../../protocols/raft/types.js';
import type { ReplicaMetrics } from '../metrics.js';
import { addForwardingMetrics, type ForwardingStats, addPeerMetrics, addStorageMetrics, snapshotTimer, type DiskStats, type SnapshotTimer } from '../replica-metrics.js';
import type { Transport } from '../transport/index.js';

/** What the Raft replica's metrics read at scrape time. */
export interface RaftMetricSources {
  status: () => RaftStatus;
  appliedIndex: () => number;
  readsServed: () => number;
  disk: DiskStats;
  transport: Transport;
  forwarding: ForwardingStats;
}

/**
 * Counters of one Raft replica: the replica bumps these plain numbers; GET /metrics reads them
 * (Prometheus text format) through the process's registry (nodes/metrics.ts).
 */
export class RaftReplicaStats {
  proposals = 0;
  applied = 0;
  timeouts = 0;
  overloaded = 0;
  leaderChanges = 0;
  badMessages = 0;
  snapshotsTaken = 0;
  snapshotsInstalled = 0;
  /** Raft §7 snapshots, timed by phase (consensus_snapshot_seconds); a no-op until registered. */
  snapshotSeconds: SnapshotTimer = () => undefined;

  register(m: ReplicaMetrics, src: RaftMetricSources): void {
    const status = m.perScrape(src.status);
    m.counter('consensus_proposals_total', 'Commands proposed by this replica as leader.', () => this.proposals);
    m.counter('consensus_applied_entries_total', 'Log entries applied to the state machine.', () => this.applied);
    m.counter('consensus_linearizable_reads_total', 'Linearizable reads served (ReadIndex).', src.readsServed);
    m.counter('consensus_request_timeouts_total', 'Client requests answered TIMEOUT.', () => this.timeouts);
    m.counter('consensus_overloaded_total', 'Client requests refused OVERLOADED.', () => this.overloaded);
    m.counter('consensus_leader_changes_total', 'Times this replica saw the leader change.', () => this.leaderChanges);
    m.counter('consensus_bad_peer_messages_total', 'Peer messages dropped as malformed.', () => this.badMessages);
    m.counter('raft_snapshots_taken_total', 'Snapshots taken for log compaction (Raft §7).', () => this.snapshotsTaken);
    m.counter('raft_snapshots_installed_total', 'Snapshots restored: from disk at start or from the leader (InstallSnapshot).', () => this.snapshotsInstalled);
    addStorageMetrics(m, src.disk);
    m.gauge('raft_term', 'Current term.', () => status().term);
    m.gauge('raft_is_leader', '1 when this replica leads.', () => (status().role === 'leader' ? 1 : 0));
    m.gauge('consensus_commit_index', 'Highest index known committed.', () => status().commitIndex);
    m.gauge('consensus_applied_index', 'Highest index applied.', src.appliedIndex);
    m.gauge('consensus_last_log_index', 'Last index in the log.', () => status().lastLogIndex);
    addPeerMetrics(m, src.transport);
    addForwardingMetrics(m, src.forwarding);
    this.snapshotSeconds = snapshotTimer(m);
  }
}
