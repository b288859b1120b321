import type { Logger } from 'pino';

/** A replica's name inside the cluster (`n1`, `n2`, ...). */
export type NodeId = string;

export interface PeerAddress {
  host: string;
  port: number;
}

export interface TransportOptions {
  id: NodeId;
  /** Where this replica accepts peers. Port 0 picks a free port; see `TcpTransport.address()`. */
  listen: PeerAddress;
  /** Where to dial each other replica (may be a fault proxy's address). An entry for `id` itself is ignored. */
  peers: Record<NodeId, PeerAddress>;
  /** Cluster secret; every handshake proves knowledge of it (docs/design.md §3.5). */
  secret: string;
  logger: Logger;
  /** Largest frame accepted or sent (payload bytes). A larger inbound frame closes the connection. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Per-peer outbound queue bound in frame bytes. Default 64 MiB. */
  maxQueueBytes?: number;
  /** Per-peer outbound queue bound in messages. Default 10 000. */
  maxQueueMessages?: number;
  /** Reconnect backoff: exponential from min to max, with jitter. Defaults 50 / 2000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Time allowed for connect + handshake, on both sides. Default 2000. */
  handshakeTimeoutMs?: number;
}

export interface PeerStats {
  /** Messages handed to the socket (they may still be lost if the connection then breaks). */
  messagesSent: number;
  /** Bytes handed to the socket, including the 4-byte frame headers. */
  bytesSent: number;
  messagesReceived: number;
  /** Bytes received in message frames, including the 4-byte frame headers. */
  bytesReceived: number;
  /** Messages refused by `send` (queue full or frame too large). */
  dropped: number;
  /** The outbound connection is authenticated and ready to carry messages. */
  connected: boolean;
  /** An authenticated inbound connection from this peer is open. */
  inboundConnected: boolean;
  /** Times the outbound connection was re-established after having been up before. */
  reconnects: number;
  queuedMessages: number;
  queuedBytes: number;
}

export interface TransportStats {
  peers: Record<NodeId, PeerStats>;
  /**
   * Connections refused during the handshake: inbound ones that failed to authenticate (garbage,
   * wrong secret, unknown id, oversized frame, timeout) and outbound ones whose server failed to
   * prove knowledge of the secret.
   */
  rejectedConnections: number;
  /** Frames that were oversized or could not be decoded, before or after the handshake. */
  badFrames: number;
}

/** Replica-to-replica messaging (docs/design.md §3.5). Delivery is best effort, FIFO per peer while a connection lasts. */
export interface Transport {
  /** Listens and dials every peer. Rejects if the listen address cannot be bound. */
  start(): Promise<void>;
  /** Queues `message` for `to`. False when `to` is unknown or the message was dropped (queue full, too large). */
  send(to: NodeId, message: unknown): boolean;
  /** Is the outbound connection to `to` authenticated and ready to carry messages? */
  isConnected(to: NodeId): boolean;
  /** Registers a handler; `from` is the authenticated id of the connection, never a field of the message. */
  onMessage(handler: (from: NodeId, message: unknown) => void): void;
  /** Adds a peer, or moves it to a new address (its queue is kept). */
  addPeer(id: NodeId, addr: PeerAddress): void;
  /** Forgets a peer: drops its queue and closes its connections in both directions. */
  removePeer(id: NodeId): void;
  stats(): TransportStats;
  /** Closes the server and every socket and clears every timer; unsent messages are discarded. Idempotent. */
  close(): Promise<void>;
}
