/**
 * The outbound side of one peer: dials it, runs the dialer half of the handshake, writes queued
 * frames, and redials with backoff whenever the connection is lost. This connection only carries
 * messages to the peer; the peer's messages arrive on its own outbound connection to us.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameDecoder, FrameTooLargeError, PayloadDecoder, type FrameEncoder } from './frame-codec.js';
import {
  HANDSHAKE_MAX_FRAME_BYTES,
  hello,
  macMatches,
  newNonce,
  parseChallenge,
  parseWelcome,
  serverMac,
} from './handshake.js';
import { OutboundQueue } from './outbound-queue.js';
import type { PeerCounters } from './peer-counters.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { errorSummary, isRoutineSocketError } from './socket-errors.js';
import type { NodeId, PeerAddress } from './types.js';

export interface PeerConnectionContext {
  selfId: NodeId;
  secret: string;
  encoder: FrameEncoder;
  handshakeTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  maxQueueMessages: number;
  maxQueueBytes: number;
  logger: Logger;
  /** The server failed to authenticate itself. */
  onRejected(): void;
  onBadFrame(): void;
}

/** One dial: its socket and how far its handshake got. */
interface Attempt {
  socket: Socket;
  phase: 'challenge' | 'welcome' | 'open';
  decoder: FrameDecoder;
  payloads: PayloadDecoder;
  serverNonce?: Uint8Array;
  clientNonce?: Uint8Array;
}

type LogLevel = 'debug' | 'info' | 'warn';

export class PeerConnection {
  readonly queue: OutboundQueue;
  private state: 'idle' | 'dialing' | 'open' | 'backoff' | 'closed' = 'idle';
  private attempt: Attempt | undefined;
  /** Handshake deadline while dialing, reconnect delay while in backoff. */
  private timer: NodeJS.Timeout | undefined;
  private flushHandle: NodeJS.Immediate | undefined;
  private everOpened = false;
  /** Consecutive failed dials; only the first of a streak is logged above debug level. */
  private failureStreak = 0;
  private readonly backoff: ReconnectBackoff;
  private readonly log: Logger;

  constructor(
    readonly peerId: NodeId,
    private address: PeerAddress,
    readonly counters: PeerCounters,
    private readonly ctx: PeerConnectionContext,
  ) {
    this.queue = new OutboundQueue(ctx.maxQueueMessages, ctx.maxQueueBytes);
    this.backoff = new ReconnectBackoff(ctx.reconnectMinMs, ctx.reconnectMaxMs);
    this.log = ctx.logger.child({ peer: peerId });
  }

  get connected(): boolean {
    return this.state === 'open';
  }

  start(): void {
    if (this.state === 'idle') this.dial();
  }

  /** Queues a complete frame; it goes out in the next flush. False (and counted) when the queue is full. */
  enqueue(frame: Buffer): boolean {
    if (this.state === 'closed' || !this.queue.push(frame)) {
      this.counters.dropped += 1;
      return false;
    }
    this.scheduleFlush();
    return true;
  }

  /** Points the connection at a new address (membership change or a moved proxy); the queue is kept. */
  setAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = { ...address };
    if (this.state === 'idle' || this.state === 'closed') return;
    this.log.info({ host: address.host, port: address.port }, 'peer address changed, redialing');
    this.abandonAttempt();
    this.backoff.reset();
    this.dial();
  }

  /** Destroys the socket, clears timers and discards queued frames. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.abandonAttempt();
    this.queue.clear();
  }

  private dial(): void {
    const socket = connect({ host: this.address.host, port: this.address.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    const attempt: Attempt = {
      socket,
      phase: 'challenge',
      decoder: new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES),
      payloads: new PayloadDecoder(),
    };
    this.attempt = attempt;
    this.state = 'dialing';
    this.timer = setTimeout(() => this.fail(attempt, 'connect and handshake timed out', 'warn'), this.ctx.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(attempt, chunk));
    socket.on('drain', () => {
      if (this.attempt === attempt && this.flushHandle === undefined) this.flush();
    });
    socket.on('error', (err) => this.fail(attempt, errorSummary(err), isRoutineSocketError(err) ? 'debug' : 'warn'));
    socket.on('close', () => {
      // A server that refuses our Hello just closes: tell the operator once per failure streak.
      if (attempt.phase === 'welcome') this.fail(attempt, 'peer closed the connection during the handshake (secret or membership mismatch?)', 'warn');
      else this.fail(attempt, 'connection closed', 'debug');
    });
  }

  private onData(attempt: Attempt, chunk: Buffer): void {
    if (this.attempt !== attempt) return;
    try {
      attempt.decoder.push(chunk, (payload) => this.onFrame(attempt, payload));
    } catch (err) {
      if (err instanceof FrameTooLargeError) {
        this.ctx.onBadFrame();
        this.rejectServer(attempt, `oversized frame during handshake (${err.payloadBytes} bytes)`);
      } else {
        this.log.error({ err }, 'unexpected error on outbound connection');
        this.fail(attempt, errorSummary(err), 'warn');
      }
    }
  }

  /** Returns whether to keep reading frames from this chunk. */
  private onFrame(attempt: Attempt, payload: Buffer): boolean {
    let message: unknown;
    try {
      message = attempt.payloads.decode(payload);
    } catch (err) {
      this.ctx.onBadFrame();
      this.rejectServer(attempt, `undecodable frame: ${errorSummary(err)}`);
      return false;
    }
    switch (attempt.phase) {
      case 'challenge':
        return this.onChallenge(attempt, message);
      case 'welcome':
        return this.onWelcome(attempt, message);
      case 'open':
        // Inbound traffic uses the peer's own connection; anything here breaks the protocol.
        this.fail(attempt, 'unexpected frame from peer on an outbound connection', 'warn');
        return false;
    }
  }

  private onChallenge(attempt: Attempt, message: unknown): boolean {
    const challenge = parseChallenge(message);
    if (challenge === undefined) {
      this.rejectServer(attempt, 'expected a handshake challenge');
      return false;
    }
    attempt.serverNonce = challenge.nonce;
    attempt.clientNonce = newNonce();
    attempt.phase = 'welcome';
    attempt.socket.write(this.ctx.encoder.encode(hello(this.ctx.secret, challenge.nonce, attempt.clientNonce, this.ctx.selfId)));
    return true;
  }

  private onWelcome(attempt: Attempt, message: unknown): boolean {
    const welcome = parseWelcome(message);
    if (welcome === undefined || attempt.serverNonce === undefined || attempt.clientNonce === undefined) {
      this.rejectServer(attempt, 'expected a handshake welcome');
      return false;
    }
    const expected = serverMac(this.ctx.secret, attempt.serverNonce, attempt.clientNonce, this.peerId);
    if (!macMatches(expected, welcome.mac)) {
      this.rejectServer(attempt, `server did not prove the cluster secret as ${this.peerId}`);
      return false;
    }
    this.open(attempt);
    return true;
  }

  private open(attempt: Attempt): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    attempt.phase = 'open';
    this.state = 'open';
    this.backoff.reset();
    this.failureStreak = 0;
    if (this.everOpened) this.counters.reconnects += 1;
    this.everOpened = true;
    this.log.info({ host: this.address.host, port: this.address.port }, 'connected to peer');
    this.flush();
  }

  private rejectServer(attempt: Attempt, reason: string): void {
    if (this.attempt !== attempt) return;
    if (attempt.phase !== 'open') this.ctx.onRejected();
    this.fail(attempt, reason, 'warn');
  }

  /** Ends this attempt (first report wins) and schedules a redial. */
  private fail(attempt: Attempt, reason: string, level: LogLevel): void {
    if (this.attempt !== attempt) return;
    const wasOpen = attempt.phase === 'open';
    this.abandonAttempt();
    if (this.state === 'closed') return;
    const fields = { host: this.address.host, port: this.address.port, reason };
    if (wasOpen) this.log.info(fields, 'lost connection to peer');
    else this.log[this.failureStreak === 0 ? level : 'debug'](fields, 'could not connect to peer');
    this.failureStreak = wasOpen ? 0 : this.failureStreak + 1;
    this.scheduleReconnect();
  }

  private abandonAttempt(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    clearImmediate(this.flushHandle);
    this.flushHandle = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    // The listeners stay: they ignore a stale attempt, and an 'error' listener must remain.
    attempt?.socket.destroy();
  }

  private scheduleReconnect(): void {
    this.state = 'backoff';
    const delayMs = this.backoff.nextDelayMs();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dial();
    }, delayMs);
  }

  /** Coalesces every frame queued in this event-loop turn into one write. */
  private scheduleFlush(): void {
    if (this.state === 'open' && this.flushHandle === undefined) {
      this.flushHandle = setImmediate(() => {
        this.flushHandle = undefined;
        this.flush();
      });
    }
  }

  private flush(): void {
    const attempt = this.attempt;
    if (this.state !== 'open' || attempt === undefined || this.queue.length === 0) return;
    // While the kernel buffer is full, frames wait in the bounded queue (and overflow is dropped
    // there) instead of piling up unboundedly inside the socket; 'drain' resumes flushing.
    if (attempt.socket.writableNeedDrain) return;
    const { frames, bytes } = this.queue.takeAll();
    attempt.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames, bytes));
    this.counters.messagesSent += frames.length;
    this.counters.bytesSent += bytes;
  }
}
