import type { RaftStatus } from '../../protocols/raft/types.js';
import { Metrics } from '../metrics.js';
import type { RaftLogStore } from '../storage/raft-log-store.js';
import type { StorageStats } from '../storage/leveldb-raft-log-store.js';
import type { Transport } from '../transport/index.js';

/** Counters of one Raft replica, exposed on GET /metrics (Prometheus text format). */
export class RaftReplicaStats {
  proposals = 0;
  applied = 0;
  reads = 0;
  timeouts = 0;
  overloaded = 0;
  leaderChanges = 0;
  badMessages = 0;

  render(id: string, status: RaftStatus, appliedIndex: number, store: RaftLogStore, transport: Transport): string {
    const m = new Metrics({ replica: id, protocol: 'raft' });
    const disk: StorageStats = (store as { stats?: StorageStats }).stats ?? { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
    const peers = Object.entries(transport.stats().peers);
    m.counter('consensus_proposals_total', 'Commands proposed by this replica as leader.', () => this.proposals);
    m.counter('consensus_applied_entries_total', 'Log entries applied to the state machine.', () => this.applied);
    m.counter('consensus_linearizable_reads_total', 'Linearizable reads served (ReadIndex).', () => this.reads);
    m.counter('consensus_request_timeouts_total', 'Client requests answered TIMEOUT.', () => this.timeouts);
    m.counter('consensus_overloaded_total', 'Client requests refused OVERLOADED.', () => this.overloaded);
    m.counter('consensus_leader_changes_total', 'Times this replica saw the leader change.', () => this.leaderChanges);
    m.counter('consensus_bad_peer_messages_total', 'Peer messages dropped as malformed.', () => this.badMessages);
    m.counter('consensus_fsyncs_total', 'Durable (fsync) storage batches.', () => disk.fsyncs);
    m.counter('consensus_storage_writes_total', 'Storage batches written (with or without fsync).', () => disk.writes);
    m.counter('consensus_entries_persisted_total', 'Log entries written to storage.', () => disk.entriesPersisted);
    m.counter('consensus_bytes_persisted_total', 'Log bytes written to storage.', () => disk.bytesPersisted);
    m.gauge('consensus_entries_per_fsync', 'Mean log entries carried by one fsync (group commit).', () =>
      disk.fsyncs === 0 ? 0 : disk.entriesPersisted / disk.fsyncs,
    );
    m.gauge('raft_term', 'Current term.', () => status.term);
    m.gauge('raft_is_leader', '1 when this replica leads.', () => (status.role === 'leader' ? 1 : 0));
    m.gauge('consensus_commit_index', 'Highest index known committed.', () => status.commitIndex);
    m.gauge('consensus_applied_index', 'Highest index applied.', () => appliedIndex);
    m.gauge('consensus_last_log_index', 'Last index in the log.', () => status.lastLogIndex);
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
