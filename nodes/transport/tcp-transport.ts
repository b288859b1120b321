/**
 * TCP transport between replicas (docs/design.md §3.5). Each replica dials one outbound connection per
 * peer and only sends on it, and only receives on the connections it accepts. Two one-way
 * connections per pair mean no tie-breaking between simultaneous dials and a simple rule for
 * who reconnects: always the sender.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { FRAME_HEADER_BYTES, FrameEncoder } from './frame-codec.js';
import { InboundConnection, type InboundContext } from './inbound-connection.js';
import { PeerConnection, type PeerConnectionContext } from './peer-connection.js';
import { PeerCounters } from './peer-counters.js';
import { errorSummary } from './socket-errors.js';
import { checkNodeId, checkPeerAddress, resolveTransportOptions, type ResolvedTransportOptions } from './transport-options.js';
import type { NodeId, PeerAddress, PeerStats, Transport, TransportOptions, TransportStats } from './types.js';

/** Accepted connections still in their handshake; beyond this, new ones are refused at once. */
export const MAX_PENDING_HANDSHAKES = 64;

type MessageHandler = (from: NodeId, message: unknown) => void;

interface PeerRecord {
  counters: PeerCounters;
  outbound: PeerConnection;
}

export class TcpTransport implements Transport {
  private readonly opts: ResolvedTransportOptions;
  private readonly log: Logger;
  private readonly encoder = new FrameEncoder();
  private readonly peers = new Map<NodeId, PeerRecord>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly inboundByPeer = new Map<NodeId, InboundConnection>();
  private readonly handlers: MessageHandler[] = [];
  private readonly peerContext: PeerConnectionContext;
  private readonly inboundContext: InboundContext;
  private state: 'new' | 'starting' | 'running' | 'closed' = 'new';
  private server: Server | undefined;
  private starting: Promise<void> | undefined;
  private bound: PeerAddress | undefined;
  private closing: Promise<void> | undefined;
  private rejectedConnections = 0;
  private badFrames = 0;
  /** Peers dialed at a fixed address whatever addPeer says (pinAddress: the harness's fault proxy). */
  private readonly pinned = new Map<NodeId, PeerAddress>();
  /** Debug API hook (nodes/debug/message-tap.ts), set only with --debug-api: null costs one check a message. */
  tap: ((dir: 'send' | 'recv', peer: NodeId, message: unknown) => void) | null = null;

  constructor(opts: TransportOptions) {
    this.opts = resolveTransportOptions(opts);
    this.log = this.opts.logger.child({ component: 'transport' });
    this.peerContext = this.makePeerContext();
    this.inboundContext = this.makeInboundContext();
    for (const [id, addr] of Object.entries(this.opts.peers)) this.addPeer(id, addr);
  }

  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error(`transport ${this.opts.id}: start() called twice or after close()`));
    this.state = 'starting';
    this.starting = this.listenAndDial();
    return this.starting;
  }

  /** The address the listener is bound to (useful with `listen.port` 0). Only after start(). */
  address(): PeerAddress {
    if (this.bound === undefined) throw new Error(`transport ${this.opts.id}: not listening`);
    return { ...this.bound };
  }

  send(to: NodeId, message: unknown): boolean {
    const peer = this.peers.get(to);
    if (peer === undefined || this.state === 'closed') return false;
    this.tap?.('send', to, message);
    // Checked before encoding so a full queue costs nothing.
    if (peer.outbound.queue.isFull()) {
      peer.counters.dropped += 1;
      return false;
    }
    const frame = this.encoder.encode(message);
    const payloadBytes = frame.length - FRAME_HEADER_BYTES;
    if (payloadBytes > this.opts.maxFrameBytes) {
      peer.counters.dropped += 1;
      this.log.warn({ peer: to, payloadBytes, maxFrameBytes: this.opts.maxFrameBytes }, 'dropped a message larger than maxFrameBytes');
      return false;
    }
    return peer.outbound.enqueue(frame);
  }

  isConnected(to: NodeId): boolean {
    return this.peers.get(to)?.outbound.connected === true;
  }

  onMessage(handler: MessageHandler): void {
    this.handlers.push(handler);
  }

  addPeer(id: NodeId, addr: PeerAddress): void {
    checkNodeId(id);
    checkPeerAddress(addr);
    if (this.state === 'closed') return;
    if (id === this.opts.id) {
      this.log.debug('ignoring own id in the peer list');
      return;
    }
    const dialAt = this.pinned.get(id) ?? addr;
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      existing.outbound.setAddress(dialAt);
      return;
    }
    const counters = new PeerCounters();
    const outbound = new PeerConnection(id, { ...dialAt }, counters, this.peerContext);
    this.peers.set(id, { counters, outbound });
    if (this.state === 'running') outbound.start();
  }

  /**
   * Always dial `id` at `addr`, now and whenever addPeer later names it (a membership change
   * announces the member's own address). Used through the debug API (`--debug-api`) by the
   * harness, whose fault proxy sits on every link, for replicas added after the start.
   */
  pinAddress(id: NodeId, addr: PeerAddress): void {
    checkNodeId(id);
    checkPeerAddress(addr);
    if (id === this.opts.id) throw new Error(`transport ${this.opts.id}: cannot pin its own address`);
    this.pinned.set(id, { ...addr });
    this.peers.get(id)?.outbound.setAddress(addr);
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    peer.outbound.close();
    this.inboundByPeer.get(id)?.close('peer removed');
    this.log.info({ peer: id }, 'peer removed');
  }

  stats(): TransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, { counters, outbound }] of this.peers) {
      peers[id] = {
        messagesSent: counters.messagesSent,
        bytesSent: counters.bytesSent,
        messagesReceived: counters.messagesReceived,
        bytesReceived: counters.bytesReceived,
        dropped: counters.dropped,
        connected: outbound.connected,
        inboundConnected: this.inboundByPeer.has(id),
        reconnects: counters.reconnects,
        queuedMessages: outbound.queue.length,
        queuedBytes: outbound.queue.byteLength,
      };
    }
    return { peers, rejectedConnections: this.rejectedConnections, badFrames: this.badFrames };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closed';
    for (const peer of this.peers.values()) peer.outbound.close();
    for (const conn of [...this.inbound]) conn.close('transport closing');
    await this.starting?.catch(() => {});
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.debug('transport closed');
  }

  private async listenAndDial(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    try {
      await listen(server, this.opts.listen);
    } catch (err) {
      if (this.state === 'starting') this.state = 'closed';
      throw err;
    }
    this.server = server;
    if (this.state !== 'starting') return; // close() was called meanwhile and waits for us; it closes the server
    server.on('error', (err) => this.log.error({ reason: errorSummary(err) }, 'peer listener error'));
    const info = server.address() as AddressInfo;
    this.bound = { host: info.address, port: info.port };
    this.state = 'running';
    this.log.info({ host: info.address, port: info.port, peers: [...this.peers.keys()] }, 'transport listening');
    for (const peer of this.peers.values()) peer.outbound.start();
  }

  private accept(socket: Socket): void {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    if (this.pendingHandshakes() >= MAX_PENDING_HANDSHAKES) {
      this.rejectedConnections += 1;
      this.log.warn({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort }, 'too many pending handshakes, refusing connection');
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    const conn = new InboundConnection(socket, this.inboundContext);
    this.inbound.add(conn);
    conn.start();
  }

  private pendingHandshakes(): number {
    return this.inbound.size - this.inboundByPeer.size;
  }

  private deliver(conn: InboundConnection, message: unknown, frameBytes: number): void {
    const from = conn.peerId;
    const peer = from === undefined ? undefined : this.peers.get(from);
    if (from === undefined || peer === undefined) return;
    peer.counters.messagesReceived += 1;
    this.tap?.('recv', from, message);
    peer.counters.bytesReceived += frameBytes;
    for (const handler of this.handlers) {
      try {
        handler(from, message);
      } catch (err) {
        // A throwing handler is a replica bug; it must not take the connection or the loop down.
        this.log.error({ peer: from, err }, 'message handler threw');
      }
    }
  }

  private makePeerContext(): PeerConnectionContext {
    const o = this.opts;
    return {
      selfId: o.id,
      secret: o.secret,
      encoder: this.encoder,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      reconnectMinMs: o.reconnectMinMs,
      reconnectMaxMs: o.reconnectMaxMs,
      maxQueueMessages: o.maxQueueMessages,
      maxQueueBytes: o.maxQueueBytes,
      logger: this.log,
      onRejected: () => {
        this.rejectedConnections += 1;
      },
      onBadFrame: () => {
        this.badFrames += 1;
      },
    };
  }

  private makeInboundContext(): InboundContext {
    const o = this.opts;
    return {
      selfId: o.id,
      secret: o.secret,
      encoder: this.encoder,
      maxFrameBytes: o.maxFrameBytes,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      logger: this.log,
      isKnownPeer: (id) => id !== o.id && this.peers.has(id),
      onAuthenticated: (conn) => {
        const id = conn.peerId!;
        // A peer redials only after losing its previous connection; a leftover one is half-open.
        this.inboundByPeer.get(id)?.close('replaced by a newer connection from the same peer');
        this.inboundByPeer.set(id, conn);
      },
      onMessage: (conn, message, frameBytes) => this.deliver(conn, message, frameBytes),
      onRejected: () => {
        this.rejectedConnections += 1;
      },
      onBadFrame: () => {
        this.badFrames += 1;
      },
      onClosed: (conn) => {
        this.inbound.delete(conn);
        if (conn.peerId !== undefined && this.inboundByPeer.get(conn.peerId) === conn) this.inboundByPeer.delete(conn.peerId);
      },
    };
  }
}

function listen(server: Server, addr: PeerAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
