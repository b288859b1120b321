import type { PbftStatus } from '../../protocols/pbft/types.js';
import type { ReplicaMetrics } from '../metrics.js';
import { addPeerMetrics, addStorageMetrics, snapshotTimer, type SnapshotTimer } from '../replica-metrics.js';
import type { PbftStore } from '../storage/leveldb-pbft-store.js';
import type { Transport } from '../transport/index.js';

/**
 * Counters of one PBFT replica, read by GET /metrics through the process's registry
 * (nodes/metrics.ts). The consensus_* names are the other protocols' (nodes/replica-metrics.ts),
 * so the bench and dashboards compare them directly; an "entry" is one executed client request.
 */
export class PbftNodeStats {
  badMessages = 0;
  cycles = 0;
  /** Replies that arrived after their request had its quorum (dropped unverified). */
  lateReplies = 0;
  /** Checkpoints (OSDI §4.3), timed (consensus_snapshot_seconds{phase="encode"}); a no-op until registered. */
  checkpointSeconds: SnapshotTimer = () => undefined;

  register(m: ReplicaMetrics, status: () => PbftStatus, store: PbftStore, transport: Transport): void {
    const s = m.perScrape(status);
    addStorageMetrics(m, store.stats);
    addPeerMetrics(m, transport);
    m.counter('consensus_applied_entries_total', 'Client requests executed by this replica.', () => s().executedRequests);
    m.counter('consensus_bad_peer_messages_total', 'Peer messages dropped as malformed.', () => this.badMessages);
    m.counter('consensus_leader_changes_total', 'View changes this replica completed.', () => s().viewChanges);
    m.gauge('consensus_commit_index', 'Last executed sequence number.', () => s().lastExecuted);
    m.gauge('consensus_applied_index', 'Last executed sequence number.', () => s().lastExecuted);
    m.gauge('pbft_view', 'Current view.', () => s().view);
    m.gauge('pbft_is_primary', '1 when this replica is the primary of its view.', () => (s().isPrimary ? 1 : 0));
    m.gauge('pbft_view_changing', '1 while a view change is in progress here.', () => (s().viewChanging ? 1 : 0));
    m.gauge('pbft_last_stable_checkpoint', 'Sequence number of the last stable checkpoint (h).', () => s().lastStableCheckpoint);
    m.gauge('pbft_high_watermark', 'H = h + L.', () => s().highWatermark);
    m.gauge('pbft_in_flight', 'Sequence numbers assigned and not yet executed.', () => s().inFlight);
    m.gauge('pbft_state_transfer', '1 while fetching state from peers.', () => (s().stateTransfer ? 1 : 0));
    m.counter('pbft_rejected_auth_total', 'Messages dropped because their MAC or signature failed.', () => s().rejectedAuth);
    m.counter('pbft_rejected_invalid_total', 'Messages dropped for breaking a protocol rule.', () => s().rejectedInvalid);
    m.counter('pbft_late_replies_total', 'Replies dropped unverified: their request already had its quorum.', () => this.lateReplies);
    m.counter('pbft_ready_cycles_total', 'Ready cycles (one synced batch each at most).', () => this.cycles);
    this.checkpointSeconds = snapshotTimer(m);
  }
}
