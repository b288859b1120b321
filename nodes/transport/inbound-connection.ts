/**
 * One accepted connection: runs the server half of the handshake, then delivers the frames of
 * the authenticated peer. Every failure closes only this socket; nothing escapes the handlers.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, PayloadDecoder, type FrameEncoder } from './frame-codec.js';
import {
  HANDSHAKE_MAX_FRAME_BYTES,
  challenge,
  clientMac,
  macMatches,
  newNonce,
  parseHello,
  welcome,
} from './handshake.js';
import { errorSummary, isRoutineSocketError } from './socket-errors.js';
import type { NodeId } from './types.js';

export interface InboundContext {
  selfId: NodeId;
  secret: string;
  encoder: FrameEncoder;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  logger: Logger;
  isKnownPeer(id: NodeId): boolean;
  onAuthenticated(conn: InboundConnection): void;
  /** `frameBytes` includes the header. */
  onMessage(conn: InboundConnection, message: unknown, frameBytes: number): void;
  /** The connection failed the handshake and was closed (already logged). */
  onRejected(conn: InboundConnection): void;
  onBadFrame(): void;
  onClosed(conn: InboundConnection): void;
}

export class InboundConnection {
  /** The authenticated peer; undefined until the handshake succeeds. */
  peerId: NodeId | undefined;
  private phase: 'hello' | 'open' | 'closed' = 'hello';
  private readonly serverNonce = newNonce();
  private readonly decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES);
  private readonly payloads = new PayloadDecoder();
  private timer: NodeJS.Timeout | undefined;
  private readonly remote: { remoteAddress: string; remotePort: number };

  constructor(
    private readonly socket: Socket,
    private readonly ctx: InboundContext,
  ) {
    this.remote = { remoteAddress: socket.remoteAddress ?? 'unknown', remotePort: socket.remotePort ?? 0 };
  }

  get authenticated(): boolean {
    return this.phase === 'open';
  }

  start(): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.onError(err));
    socket.on('close', () => this.onClose());
    this.timer = setTimeout(() => this.reject('handshake timed out'), this.ctx.handshakeTimeoutMs);
    socket.write(this.ctx.encoder.encode(challenge(this.serverNonce)));
  }

  /** Closes the socket without counting a rejection (shutdown, peer removed, replaced). */
  close(reason: string): void {
    if (this.phase === 'closed') return;
    this.ctx.logger.debug({ ...this.remote, peer: this.peerId, reason }, 'closing inbound connection');
    this.terminate();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    try {
      this.decoder.push(chunk, (payload) => this.onFrame(payload));
    } catch (err) {
      if (err instanceof FrameTooLargeError) {
        this.ctx.onBadFrame();
        this.failFrame(`oversized frame: ${err.payloadBytes} bytes, limit ${err.maxFrameBytes}`);
      } else {
        this.ctx.logger.error({ ...this.remote, peer: this.peerId, err }, 'unexpected error on inbound connection');
        this.terminate();
      }
    }
  }

  /** Returns whether to keep reading frames from this chunk. */
  private onFrame(payload: Buffer): boolean {
    let message: unknown;
    try {
      message = this.payloads.decode(payload);
    } catch (err) {
      this.ctx.onBadFrame();
      this.failFrame(`undecodable frame: ${errorSummary(err)}`);
      return false;
    }
    if (this.phase === 'hello') return this.onHello(message);
    this.ctx.onMessage(this, message, payload.length + FRAME_HEADER_BYTES);
    return this.phase === 'open';
  }

  private onHello(message: unknown): boolean {
    const hello = parseHello(message);
    if (hello === undefined) {
      this.reject('expected a handshake hello');
      return false;
    }
    const expected = clientMac(this.ctx.secret, this.serverNonce, hello.nonce, hello.id);
    if (!macMatches(expected, hello.mac)) {
      this.reject('bad handshake mac (wrong cluster secret?)', hello.id);
      return false;
    }
    if (!this.ctx.isKnownPeer(hello.id)) {
      this.reject('authenticated, but not a peer of this replica', hello.id);
      return false;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.socket.write(this.ctx.encoder.encode(welcome(this.ctx.secret, this.serverNonce, hello.nonce, this.ctx.selfId)));
    this.peerId = hello.id;
    this.phase = 'open';
    this.decoder.maxFrameBytes = this.ctx.maxFrameBytes;
    this.ctx.logger.info({ ...this.remote, peer: hello.id }, 'accepted peer connection');
    this.ctx.onAuthenticated(this);
    return this.phase === 'open';
  }

  /** A bad frame before the handshake is a rejection; after it, the peer's connection is dropped. */
  private failFrame(reason: string): void {
    if (this.phase === 'hello') {
      this.reject(reason);
      return;
    }
    this.ctx.logger.warn({ ...this.remote, peer: this.peerId, reason }, 'closing peer connection after a bad frame');
    this.terminate(true);
  }

  private reject(reason: string, claimedId?: NodeId): void {
    if (this.phase !== 'hello') return;
    this.ctx.logger.warn({ ...this.remote, claimedId, reason }, 'rejected inbound connection');
    this.terminate(true);
    this.ctx.onRejected(this);
  }

  private onError(err: Error): void {
    const level = isRoutineSocketError(err) ? 'debug' : 'warn';
    this.ctx.logger[level]({ ...this.remote, peer: this.peerId, reason: errorSummary(err) }, 'inbound connection error');
    this.terminate();
  }

  private onClose(): void {
    if (this.phase === 'open') this.ctx.logger.info({ ...this.remote, peer: this.peerId }, 'peer connection closed');
    else if (this.phase === 'hello') this.ctx.logger.debug(this.remote, 'inbound connection closed before the handshake');
    this.terminate();
  }

  /**
   * `reset` sends a TCP RST instead of a FIN: a client that is not reading (a port scanner, a
   * confused HTTP client) still learns at once that it was refused, and we keep no TIME_WAIT.
   */
  private terminate(reset = false): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.timer);
    this.timer = undefined;
    if (reset && !this.socket.destroyed) this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.ctx.onClosed(this);
  }
}
