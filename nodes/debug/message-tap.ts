/**
 * The sampled message stream of the debug API: TcpTransport calls `hook` for every message it
 * sends or receives (only when the replica runs with --debug-api; otherwise the transport's tap is
 * null and costs one check). Every message is counted; a few per link and second are kept, with a
 * sequence number, in a ring buffer the dashboard reads with `since(seq)`, so that a browser keeps
 * up however many thousand messages a second the cluster exchanges.
 */

export type TapDirection = 'send' | 'recv';

export interface SampledMessage {
  seq: number;
  /** ms since the Unix epoch. */
  timeMs: number;
  dir: TapDirection;
  from: string;
  to: string;
  type: string;
}

export interface MessageTapOptions {
  /** Messages kept in the ring buffer. */
  capacity?: number;
  /** Sampled messages per second per direction and peer (a token bucket)... */
  samplesPerSec?: number;
  /** ...with bursts up to this many. */
  burst?: number;
  nowMs?: () => number;
}

export interface TapRead {
  /** The newest sequence number (pass it back as `since`). */
  seq: number;
  /** Messages counted but not sampled, since the tap started. */
  skipped: number;
  messages: SampledMessage[];
  /** Every message counted, by direction, peer and type. */
  counts: { sent: Record<string, Record<string, number>>; received: Record<string, Record<string, number>> };
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

export class MessageTap {
  private readonly ring: SampledMessage[] = [];
  private seq = 0;
  private skipped = 0;
  private readonly counts = { send: new Map<string, Map<string, number>>(), recv: new Map<string, Map<string, number>>() };
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly samplesPerSec: number;
  private readonly burst: number;
  private readonly nowMs: () => number;

  constructor(
    readonly selfId: string,
    options: MessageTapOptions = {},
  ) {
    this.capacity = options.capacity ?? 1024;
    this.samplesPerSec = options.samplesPerSec ?? 10;
    this.burst = options.burst ?? 5;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** For TcpTransport.tap: `peer` is the destination of a send, the sender of a receive. */
  readonly hook = (dir: TapDirection, peer: string, message: unknown): void => {
    const type = typeOf(message);
    countIn(this.counts[dir], peer, type);
    const now = this.nowMs();
    if (!this.take(`${dir} ${peer}`, now)) {
      this.skipped++;
      return;
    }
    const from = dir === 'send' ? this.selfId : peer;
    const to = dir === 'send' ? peer : this.selfId;
    this.ring.push({ seq: ++this.seq, timeMs: now, dir, from, to, type });
    if (this.ring.length > this.capacity) this.ring.shift();
  };

  /** Sampled messages after `since` (oldest first, at most `limit`: the newest ones). */
  since(since: number, limit = 256): TapRead {
    const newer = this.ring.filter((m) => m.seq > since);
    return {
      seq: this.seq,
      skipped: this.skipped,
      messages: newer.slice(Math.max(0, newer.length - limit)),
      counts: { sent: toRecord(this.counts.send), received: toRecord(this.counts.recv) },
    };
  }

  private take(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, lastMs: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.lastMs) * this.samplesPerSec) / 1000);
    b.lastMs = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

function typeOf(message: unknown): string {
  const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : 'unknown';
}

function countIn(byPeer: Map<string, Map<string, number>>, peer: string, type: string): void {
  let byType = byPeer.get(peer);
  if (byType === undefined) {
    byType = new Map();
    byPeer.set(peer, byType);
  }
  byType.set(type, (byType.get(type) ?? 0) + 1);
}

function toRecord(byPeer: Map<string, Map<string, number>>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [peer, byType] of byPeer) out[peer] = Object.fromEntries(byType);
  return out;
}
