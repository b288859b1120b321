import type { PaxosStatus } from '../../protocols/multipaxos/types.js';
import type { ReplicaMetrics } from '../metrics.js';
import { addForwardingMetrics, type ForwardingStats, addPeerMetrics, addStorageMetrics, snapshotTimer, type DiskStats, type SnapshotTimer } from '../replica-metrics.js';
import type { Transport } from '../transport/index.js';

/** What the Multi-Paxos replica's metrics read at scrape time. */
export interface PaxosMetricSources {
  status: () => PaxosStatus;
  commitIndex: () => number;
  appliedIndex: () => number;
  readsServed: () => number;
  disk: DiskStats;
  transport: Transport;
  forwarding: ForwardingStats;
  /** The last background snapshot's chunk count (nodes/snapshots/snapshot-jobs.ts). */
  snapshotJobs: { takeChunks: number };
}

/**
 * Counters of one Multi-Paxos replica, read by GET /metrics (Prometheus text format) through the
 * process's registry (nodes/metrics.ts). The consensus_* names are the Raft replica's
 * (nodes/raft/raft-replica-stats.ts) so that benchmarks and dashboards compare the two directly;
 * an "entry" is one client command (a slot carries a batch of them) or a no-op.
 */
export class PaxosReplicaStats {
  proposals = 0;
  applied = 0;
  appliedSlots = 0;
  timeouts = 0;
  overloaded = 0;
  leaderChanges = 0;
  badMessages = 0;
  notApplied = 0;
  compactions = 0;
  snapshotsTaken = 0;
  snapshotsInstalled = 0;
  snapshotChunksSent = 0;
  snapshotChunksReceived = 0;
  /** Compaction snapshots, timed by phase (consensus_snapshot_seconds); a no-op until registered. */
  snapshotSeconds: SnapshotTimer = () => undefined;

  register(m: ReplicaMetrics, src: PaxosMetricSources): void {
    const status = m.perScrape(src.status);
    m.counter('consensus_proposals_total', 'Commands proposed by this replica as leader.', () => this.proposals);
    m.counter('consensus_applied_entries_total', 'Commands (and no-ops) applied to the state machine.', () => this.applied);
    m.counter('paxos_applied_slots_total', 'Decided slots applied to the state machine.', () => this.appliedSlots);
    m.counter('consensus_linearizable_reads_total', 'Linearizable reads served (read index).', src.readsServed);
    m.counter('consensus_request_timeouts_total', 'Client requests answered TIMEOUT.', () => this.timeouts);
    m.counter('consensus_overloaded_total', 'Client requests refused OVERLOADED.', () => this.overloaded);
    m.counter('consensus_not_applied_total', 'Proposals whose slot was decided with another ballot (NO_LEADER).', () => this.notApplied);
    m.counter('consensus_leader_changes_total', 'Times this replica saw the leader change.', () => this.leaderChanges);
    m.counter('consensus_bad_peer_messages_total', 'Peer messages dropped as malformed.', () => this.badMessages);
    m.counter('paxos_compactions_total', 'Garbage collections of decided slots (behind a stored snapshot).', () => this.compactions);
    m.counter('paxos_snapshots_taken_total', 'State-machine snapshots taken in the background and saved.', () => this.snapshotsTaken);
    m.counter('paxos_snapshots_installed_total', 'State-machine snapshots received from a peer and restored.', () => this.snapshotsInstalled);
    m.counter('paxos_snapshot_chunks_sent_total', 'Snapshot chunks sent to replicas behind the compaction point.', () => this.snapshotChunksSent);
    m.counter('paxos_snapshot_chunks_received_total', 'Snapshot chunks received from a peer and stored.', () => this.snapshotChunksReceived);
    m.gauge('paxos_snapshot_chunks', 'Chunks of the last snapshot taken.', () => src.snapshotJobs.takeChunks);
    m.gauge('paxos_snapshot_slot', 'Slot of the stored snapshot.', () => status().snapshotSlot);
    m.gauge('paxos_compacted_to', 'Every slot at or below it is garbage-collected here.', () => status().compactedTo);
    addStorageMetrics(m, src.disk, 'Commands in accepted pvalues written to storage.');
    m.gauge('paxos_ballot_round', 'Round of the current ballot.', () => status().ballot.round);
    m.gauge('paxos_is_leader', '1 when this replica leads.', () => (status().role === 'leader' ? 1 : 0));
    m.gauge('paxos_inflight_slots', 'Slots with a commander in flight (pipelining).', () => status().inflight);
    m.gauge('consensus_commit_index', 'Highest slot below which every slot is decided.', src.commitIndex);
    m.gauge('consensus_applied_index', 'Highest slot applied.', src.appliedIndex);
    m.gauge('paxos_slot_in', 'Next slot this leader proposes in.', () => status().slotIn);
    addPeerMetrics(m, src.transport);
    addForwardingMetrics(m, src.forwarding);
    this.snapshotSeconds = snapshotTimer(m);
  }
}
