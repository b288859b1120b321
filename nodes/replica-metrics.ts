import type { Metrics } from './metrics.js';
import type { Transport } from './transport/index.js';

/** What every protocol's store counts (nodes/storage). */
export interface DiskStats {
  fsyncs: number;
  writes: number;
  entriesPersisted: number;
  bytesPersisted: number;
}

/** Storage counters with the same names for every protocol, so the bench can compare them. */
export function addStorageMetrics(m: Metrics, disk: DiskStats): void {
  m.counter('consensus_fsyncs_total', 'Durable (fsync) storage batches.', () => disk.fsyncs);
  m.counter('consensus_storage_writes_total', 'Storage batches written (with or without fsync).', () => disk.writes);
  m.counter('consensus_entries_persisted_total', 'Log entries (commands) written to storage.', () => disk.entriesPersisted);
  m.counter('consensus_bytes_persisted_total', 'Bytes written to storage.', () => disk.bytesPersisted);
  m.gauge('consensus_entries_per_fsync', 'Mean entries carried by one fsync (group commit).', () =>
    disk.fsyncs === 0 ? 0 : disk.entriesPersisted / disk.fsyncs,
  );
}

/** Per-peer transport counters. */
export function addPeerMetrics(m: Metrics, transport: Transport): void {
  const peers = Object.entries(transport.stats().peers);
  const perPeer = (pick: (s: (typeof peers)[number][1]) => number) => () =>
    peers.map(([peer, s]) => ({ labels: { peer }, value: pick(s) }));
  m.counter('consensus_peer_messages_sent_total', 'Messages sent to each peer.', perPeer((s) => s.messagesSent));
  m.counter('consensus_peer_bytes_sent_total', 'Bytes sent to each peer.', perPeer((s) => s.bytesSent));
  m.counter('consensus_peer_messages_received_total', 'Messages received from each peer.', perPeer((s) => s.messagesReceived));
  m.counter('consensus_peer_messages_dropped_total', 'Messages dropped because a peer queue was full.', perPeer((s) => s.dropped));
}
