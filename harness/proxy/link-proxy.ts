/**
 * One directed link of the fault proxy: replica `from` dials this listener to reach replica
 * `to`, and the proxy connects on to `to`'s real peer port. Each replica's outbound connection
 * carries only its own messages to that peer (nodes/transport/peer-connection.ts), so a fault on
 * the link from→to cuts exactly "from can no longer talk to to".
 *
 * Modes:
 * - `pass`: bytes are forwarded, after the link's delay/jitter and bandwidth limit;
 * - `blackhole`: connections stay open but go silent in both directions (bytes are read and
 *   discarded), like a real partition where packets vanish. A connection that lost bytes is
 *   closed when the link heals: its framed stream is no longer intact, and a real TCP
 *   connection would have timed out or been reset by then anyway;
 * - `refuse`: existing connections are reset and new ones are reset as soon as they arrive.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type LinkMode = 'pass' | 'blackhole' | 'refuse';

export interface LinkShaping {
  /** Added one-way latency of every chunk, in each direction. */
  delayMs: number;
  /** Uniform random extra latency in [0, jitterMs]; order is kept, as TCP does. */
  jitterMs: number;
  /** Bytes per second in each direction; null for unlimited. */
  bandwidthBytesPerSec: number | null;
}

export const noShaping: LinkShaping = { delayMs: 0, jitterMs: 0, bandwidthBytesPerSec: null };

export interface HostPort {
  host: string;
  port: number;
}

/** Queued bytes per direction above which the sending socket is paused (backpressure). */
const QUEUE_HIGH_BYTES = 1024 * 1024;

export class LinkProxy {
  private server: Server | null = null;
  private readonly pipes = new Set<Pipe>();
  private modeValue: LinkMode = 'pass';
  private shapingValue: LinkShaping = { ...noShaping };
  private listenPort = 0;
  /** Bytes forwarded and discarded, for tests and the report. */
  readonly counters = { connections: 0, refused: 0, forwardedBytes: 0, discardedBytes: 0 };

  constructor(
    readonly from: string,
    readonly to: string,
    /** Where `to` really listens; undefined while unknown (connections are then closed). */
    private readonly target: () => HostPort | undefined,
    readonly random: () => number = Math.random,
    private readonly host = '127.0.0.1',
  ) {}

  async listen(port = 0): Promise<void> {
    const server = createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.listenPort = typeof address === 'object' && address !== null ? address.port : 0;
    this.server = server;
  }

  /** host:port to give replica `from` as its dial address for `to`. */
  get address(): string {
    return `${this.host}:${this.listenPort}`;
  }

  get mode(): LinkMode {
    return this.modeValue;
  }

  get shaping(): LinkShaping {
    return this.shapingValue;
  }

  get openConnections(): number {
    return this.pipes.size;
  }

  setMode(mode: LinkMode): void {
    const before = this.modeValue;
    this.modeValue = mode;
    if (mode === before) return;
    for (const pipe of [...this.pipes]) {
      if (mode === 'refuse') pipe.destroy(true);
      else if (mode === 'blackhole') pipe.silence();
      else if (pipe.tainted) pipe.destroy(true);
    }
  }

  setShaping(shaping: Partial<LinkShaping>): void {
    this.shapingValue = { ...this.shapingValue, ...shaping };
  }

  async close(): Promise<void> {
    for (const pipe of [...this.pipes]) pipe.destroy(false);
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.modeValue === 'refuse' || this.server === null) {
      this.counters.refused++;
      client.resetAndDestroy();
      return;
    }
    this.counters.connections++;
    const pipe = new Pipe(this, client);
    this.pipes.add(pipe);
    pipe.onClose = () => this.pipes.delete(pipe);
    if (this.modeValue === 'blackhole') {
      // Accepted during a partition: nothing reaches the peer, so do not even dial it.
      pipe.silence();
      return;
    }
    const target = this.target();
    if (target === undefined) {
      pipe.destroy(true);
      return;
    }
    pipe.connectUpstream(target);
  }

  /** Called by pipes for every chunk they carry. */
  countForwarded(bytes: number): void {
    this.counters.forwardedBytes += bytes;
  }

  countDiscarded(bytes: number): void {
    this.counters.discardedBytes += bytes;
  }
}

/** A client connection and its upstream connection to the real peer. */
class Pipe {
  upstream: Socket | null = null;
  tainted = false;
  closed = false;
  onClose: () => void = () => undefined;
  private readonly down: Channel;
  private up: Channel | null = null;

  constructor(
    private readonly link: LinkProxy,
    private readonly client: Socket,
  ) {
    // client → upstream
    this.down = new Channel(link, client, () => this.upstream);
    client.on('data', (chunk: Buffer) => this.down.push(chunk));
    client.on('close', () => this.destroy(false));
    client.on('end', () => this.destroy(false));
  }

  connectUpstream(target: HostPort): void {
    const upstream = connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    this.client.setNoDelay(true);
    this.upstream = upstream;
    upstream.on('error', () => this.destroy(true));
    upstream.on('close', () => this.destroy(true));
    upstream.on('end', () => this.destroy(false));
    this.up = new Channel(this.link, upstream, () => this.client);
    upstream.on('data', (chunk: Buffer) => this.up?.push(chunk));
    upstream.on('connect', () => this.down.flush());
  }

  /** Blackhole: drop whatever is queued, and everything that arrives from now on. */
  silence(): void {
    this.tainted = true;
    this.down.drop();
    this.up?.drop();
  }

  destroy(reset: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.down.stop();
    this.up?.stop();
    if (reset && !this.client.destroyed) this.client.resetAndDestroy();
    else this.client.destroy();
    if (this.upstream !== null) {
      if (reset && !this.upstream.destroyed && !this.upstream.connecting) this.upstream.resetAndDestroy();
      else this.upstream.destroy();
    }
    this.onClose();
  }
}

/** One direction of a pipe: delays, rate-limits or discards chunks, keeping their order. */
class Channel {
  private readonly queue: Array<{ chunk: Buffer; atMs: number }> = [];
  private queuedBytes = 0;
  private lastDepartMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly link: LinkProxy,
    private readonly source: Socket,
    private readonly sink: () => Socket | null,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.link.mode !== 'pass') {
      this.link.countDiscarded(chunk.length);
      return;
    }
    const { delayMs, jitterMs, bandwidthBytesPerSec } = this.link.shaping;
    const now = performance.now();
    const readyMs = now + delayMs + (jitterMs > 0 ? this.link.random() * jitterMs : 0);
    const transmitMs = bandwidthBytesPerSec === null ? 0 : (chunk.length * 1000) / bandwidthBytesPerSec;
    const departMs = Math.max(readyMs, this.lastDepartMs) + transmitMs;
    this.lastDepartMs = departMs;
    this.queue.push({ chunk, atMs: departMs });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > QUEUE_HIGH_BYTES) this.source.pause();
    this.flush();
  }

  /** Write every chunk whose time has come; re-arm the timer for the next one. */
  flush(): void {
    if (this.stopped) return;
    const sink = this.sink();
    if (sink === null || sink.connecting) return;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.atMs <= now + 0.5) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.link.countForwarded(chunk.length);
      sink.write(chunk);
    }
    if (this.queuedBytes <= QUEUE_HIGH_BYTES / 2 && this.source.isPaused()) this.source.resume();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = this.queue[0];
    if (next !== undefined) this.timer = setTimeout(() => this.flush(), Math.max(0, next.atMs - now));
  }

  drop(): void {
    for (const { chunk } of this.queue) this.link.countDiscarded(chunk.length);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.lastDepartMs = 0;
    if (this.source.isPaused()) this.source.resume();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}
