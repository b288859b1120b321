import type { PaxosStatus } from '../../protocols/multipaxos/types.js';
import { Metrics } from '../metrics.js';
import type { PaxosStore } from '../storage/leveldb-paxos-store.js';
import type { StorageStats } from '../storage/leveldb-raft-log-store.js';
import type { Transport } from '../transport/index.js';

/**
 * Counters of one Multi-Paxos replica, exposed on GET /metrics (Prometheus text format). The
 * consensus_* names are the Raft replica's (nodes/raft/raft-replica-stats.ts) so that benchmarks
 * and dashboards compare the two directly; an "entry" is one client command (a slot carries a
 * batch of them) or a no-op.
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

  render(
    id: string,
    status: PaxosStatus,
    commitIndex: number,
    appliedIndex: number,
    readsServed: number,
    store: PaxosStore,
    transport: Transport,
    snapshotJobs: { takeMs: number; restoreMs: number; takeChunks: number },
  ): string {
    const m = new Metrics({ replica: id, protocol: 'multipaxos' });
    const disk: StorageStats = (store as { stats?: StorageStats }).stats ?? { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
    const peers = Object.entries(transport.stats().peers);
    m.counter('consensus_proposals_total', 'Commands proposed by this replica as leader.', () => this.proposals);
    m.counter('consensus_applied_entries_total', 'Commands (and no-ops) applied to the state machine.', () => this.applied);
    m.counter('paxos_applied_slots_total', 'Decided slots applied to the state machine.', () => this.appliedSlots);
    m.counter('consensus_linearizable_reads_total', 'Linearizable reads served (read index).', () => readsServed);
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
    m.gauge('paxos_snapshot_take_ms', 'Duration of the last snapshot taken, start to saved (in the background).', () => snapshotJobs.takeMs);
    m.gauge('paxos_snapshot_chunks', 'Chunks of the last snapshot taken.', () => snapshotJobs.takeChunks);
    m.gauge('paxos_snapshot_restore_ms', 'Duration of the last restore of a snapshot from a peer (in the background).', () => snapshotJobs.restoreMs);
    m.gauge('paxos_snapshot_slot', 'Slot of the stored snapshot.', () => status.snapshotSlot);
    m.gauge('paxos_compacted_to', 'Every slot at or below it is garbage-collected here.', () => status.compactedTo);
    m.counter('consensus_fsyncs_total', 'Durable (fsync) storage batches.', () => disk.fsyncs);
    m.counter('consensus_storage_writes_total', 'Storage batches written (with or without fsync).', () => disk.writes);
    m.counter('consensus_entries_persisted_total', 'Commands in accepted pvalues written to storage.', () => disk.entriesPersisted);
    m.counter('consensus_bytes_persisted_total', 'Bytes written to storage.', () => disk.bytesPersisted);
    m.gauge('consensus_entries_per_fsync', 'Mean commands carried by one fsync (group commit and batching).', () =>
      disk.fsyncs === 0 ? 0 : disk.entriesPersisted / disk.fsyncs,
    );
    m.gauge('paxos_ballot_round', 'Round of the current ballot.', () => status.ballot.round);
    m.gauge('paxos_is_leader', '1 when this replica leads.', () => (status.role === 'leader' ? 1 : 0));
    m.gauge('paxos_inflight_slots', 'Slots with a commander in flight (pipelining).', () => status.inflight);
    m.gauge('consensus_commit_index', 'Highest slot below which every slot is decided.', () => commitIndex);
    m.gauge('consensus_applied_index', 'Highest slot applied.', () => appliedIndex);
    m.gauge('paxos_slot_in', 'Next slot this leader proposes in.', () => status.slotIn);
    m.counter('consensus_peer_messages_sent_total', 'Messages sent to each peer.', () =>
      peers.map(([peer, s]) => ({ labels: { peer }, value: s.messagesSent })),
    );
    m.counter('consensus_peer_bytes_sent_total', 'Bytes sent to each peer.', () =>
      peers.map(([peer, s]) => ({ labels: { peer }, value: s.bytesSent })),
    );
    m.counter('consensus_peer_messages_received_total', 'Messages received from each peer.', () =>
      peers.map(([peer, s]) => ({ labels: { peer }, value: s.messagesReceived })),
    );
    m.counter('consensus_peer_messages_dropped_total', 'Messages dropped because a peer queue was full.', () =>
      peers.map(([peer, s]) => ({ labels: { peer }, value: s.dropped })),
    );
    return m.render();
  }
}
