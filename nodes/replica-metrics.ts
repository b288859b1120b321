import type { ReplicaMetrics } from './metrics.js';
import type { Transport } from './transport/index.js';

/** What every protocol's store counts (nodes/storage). */
export interface DiskStats {
  fsyncs: number;
  writes: number;
  entriesPersisted: number;
  bytesPersisted: number;
}

/** Told how long each storage batch took to write, and whether it was fsync'd (the stores call it). */
export type WriteTimer = (seconds: number, fsync: boolean) => void;

/**
 * How a snapshot (or a PBFT checkpoint) is timed. A snapshot taken at once has two steps:
 * `encode` turns the state machine into bytes synchronously, so it is the part that blocks the
 * event loop; `persist` writes them durably and compacts the log (PBFT has no such step of its
 * own: a checkpoint's state is stored with the batch that makes it stable, counted in
 * consensus_storage_write_seconds). A snapshot taken in the background (Raft, nodes/snapshots)
 * is timed whole, from its cut to durable (`take`), never blocking for longer than a slice, and so
 * is the restore of one received from the leader (`restore`).
 */
export type SnapshotPhase = 'encode' | 'persist' | 'take' | 'restore';
export type SnapshotTimer = (phase: SnapshotPhase, seconds: number) => void;

/** Storage counters with the same names for every protocol, so the bench can compare them. */
export function addStorageMetrics(m: ReplicaMetrics, disk: DiskStats, entries = 'Log entries (commands) written to storage.'): void {
  m.counter('consensus_fsyncs_total', 'Durable (fsync) storage batches.', () => disk.fsyncs);
  m.counter('consensus_storage_writes_total', 'Storage batches written (with or without fsync).', () => disk.writes);
  m.counter('consensus_entries_persisted_total', entries, () => disk.entriesPersisted);
  m.counter('consensus_bytes_persisted_total', 'Bytes written to storage.', () => disk.bytesPersisted);
  m.gauge('consensus_entries_per_fsync', 'Mean entries carried by one fsync (group commit).', () =>
    disk.fsyncs === 0 ? 0 : disk.entriesPersisted / disk.fsyncs,
  );
}

/**
 * Buckets of one LevelDB batch write, in seconds. An fsync on an SSD takes 0.1-2 ms and on a
 * busy shared disk 5-50 ms; a batch without fsync is a memtable insert (tens of microseconds), so
 * the bounds start at 50 µs. Above 100 ms the disk, not the protocol, sets the latency.
 */
const STORAGE_WRITE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * consensus_storage_write_seconds{fsync}: one sample per storage batch, so its count with
 * fsync="true" equals consensus_fsyncs_total. The stores call the returned timer.
 */
export function storageWriteTimer(m: ReplicaMetrics): WriteTimer {
  const h = m.histogram('consensus_storage_write_seconds', 'Time to write one storage batch (LevelDB write; fsync="true": with fsync).', ['fsync'], STORAGE_WRITE_BUCKETS);
  const synced = h.labels({ fsync: 'true' });
  const unsynced = h.labels({ fsync: 'false' });
  return (seconds, fsync) => (fsync ? synced : unsynced).observe(seconds);
}

/**
 * Buckets of a snapshot step, in seconds: a few thousand keys encode in about a millisecond,
 * 100,000 keys took a few hundred (the stalls of the issue); bounds up to 10 s leave room for
 * millions of keys.
 */
const SNAPSHOT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** consensus_snapshot_seconds{phase}: Raft snapshots, Multi-Paxos compaction snapshots, PBFT checkpoints. */
export function snapshotTimer(m: ReplicaMetrics): SnapshotTimer {
  const h = m.histogram('consensus_snapshot_seconds', 'Time to take a snapshot or checkpoint, by phase (encode blocks the event loop; persist writes it; take and restore run in the background).', ['phase'], SNAPSHOT_BUCKETS);
  return (phase, seconds) => h.observe({ phase }, seconds);
}

/** Per-peer transport counters, read from the transport at every scrape (members come and go). */
export function addPeerMetrics(m: ReplicaMetrics, transport: Transport): void {
  const peers = m.perScrape(() => Object.entries(transport.stats().peers));
  const perPeer = (pick: (s: ReturnType<typeof peers>[number][1]) => number) => () =>
    peers().map(([peer, s]) => ({ labels: { peer }, value: pick(s) }));
  const labels = ['peer'];
  m.counter('consensus_peer_messages_sent_total', 'Messages sent to each peer.', perPeer((s) => s.messagesSent), labels);
  m.counter('consensus_peer_bytes_sent_total', 'Bytes sent to each peer.', perPeer((s) => s.bytesSent), labels);
  m.counter('consensus_peer_messages_received_total', 'Messages received from each peer.', perPeer((s) => s.messagesReceived), labels);
  m.counter('consensus_peer_messages_dropped_total', 'Messages dropped because a peer queue was full.', perPeer((s) => s.dropped), labels);
}

/** What forwarding (nodes/forwarding) counts: a follower's client side and the leader's side. */
export interface ForwardingStats {
  client: { writesForwarded: number; readsForwarded: number; refused: number; timeouts: number };
  server: { writesProposed: number; writesRefused: number; readsServed: number };
}

/** Forwarding over the replica transport, with the same names for Raft and Multi-Paxos. */
export function addForwardingMetrics(m: ReplicaMetrics, f: ForwardingStats): void {
  m.counter('consensus_forwarded_writes_total', 'Client writes this replica forwarded to the leader over the transport.', () => f.client.writesForwarded);
  m.counter('consensus_forwarded_reads_total', 'Follower reads: read indexes this replica asked the leader for.', () => f.client.readsForwarded);
  m.counter('consensus_forward_refusals_total', 'Forwarded requests the leader refused (not leader, overloaded).', () => f.client.refused);
  m.counter('consensus_forward_timeouts_total', 'Forwarded requests the leader did not answer in time.', () => f.client.timeouts);
  m.counter('consensus_forwarded_proposals_total', 'As leader: commands proposed for followers.', () => f.server.writesProposed);
  m.counter('consensus_forwarded_read_indexes_total', 'As leader: read indexes served to followers.', () => f.server.readsServed);
}
