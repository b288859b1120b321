/**
 * The follower's side of forwarding (messages.ts): client writes and reads that arrive while this
 * replica is not the leader are queued per leader and sent, all that arrived in one turn of the
 * event loop together, in one Forward message; each waits for its answer.
 *
 * What a client learns, and why it is right (README, "The HTTP API"):
 * - the leader is unknown, or the connection to it is down before the request was sent: a
 *   NotLeaderError, so the HTTP layer waits for a leader and retries, or answers NO_LEADER (the
 *   request was certainly not applied);
 * - the leader refused it (not leader any more, or OVERLOADED): certainly not proposed, so the same;
 * - no answer in time (the message or its answer was lost, the leader crashed after proposing it):
 *   TIMEOUT, the outcome is unknown.
 */
import { NotLeaderError, ServiceError } from '../http/errors.js';
import type { Transport } from '../transport/index.js';
import type { ForwardReply, ForwardRequest } from './messages.js';

interface Pending<T> {
  leader: string;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  deadlineMs: number;
}

interface Outbox {
  writes: ForwardRequest['writes'];
  reads: ForwardRequest['reads'];
}

export interface ForwardClientOptions {
  self: string;
  transport: Transport;
  timeoutMs: number;
}

export class ForwardClient<P> {
  private readonly writes = new Map<number, Pending<P>>();
  private readonly reads = new Map<number, Pending<number>>();
  private readonly outboxes = new Map<string, Outbox>();
  private seq = 0;
  private flushScheduled = false;
  /** Requests sent and answered, for /metrics. */
  readonly stats = { writesForwarded: 0, readsForwarded: 0, refused: 0, timeouts: 0 };

  constructor(private readonly opts: ForwardClientOptions) {}

  get size(): number {
    return this.writes.size + this.reads.size;
  }

  /** Forwards a command to `leader`; resolves with where the leader put it. */
  write(leader: string, data: Uint8Array): Promise<P> {
    return this.enqueue(leader, this.writes, (id, box) => box.writes.push({ id, data }));
  }

  /** Asks `leader` for a read index (dissertation §6.4); resolves with it. */
  readIndex(leader: string, lease: boolean): Promise<number> {
    return this.enqueue(leader, this.reads, (id, box) => box.reads.push({ id, lease }));
  }

  /** A ForwardReply from `from` (the transport authenticated it). */
  onReply(from: string, reply: ForwardReply<P>): void {
    for (const answer of reply.writes) {
      const p = this.take(this.writes, answer.id, from);
      if (p === undefined) continue;
      if ('at' in answer) p.resolve(answer.at);
      else p.reject(this.refusal(answer.refused, answer.leader));
    }
    for (const answer of reply.reads) {
      const p = this.take(this.reads, answer.id, from);
      if (p === undefined) continue;
      if ('index' in answer) p.resolve(answer.index);
      else p.reject(this.refusal(answer.refused, answer.leader));
    }
  }

  /** Requests whose answer did not come in time: their outcome is unknown. */
  expire(nowMs: number): void {
    for (const table of [this.writes, this.reads] as Array<Map<number, Pending<unknown>>>) {
      for (const [id, p] of table) {
        if (p.deadlineMs > nowMs) break; // insertion order is deadline order
        table.delete(id);
        this.stats.timeouts++;
        p.reject(new ServiceError('TIMEOUT', `the leader ${p.leader} did not answer in time; the outcome is unknown`));
      }
    }
  }

  rejectAll(makeError: () => Error): void {
    for (const table of [this.writes, this.reads] as Array<Map<number, Pending<unknown>>>) {
      for (const p of table.values()) p.reject(makeError());
      table.clear();
    }
    this.outboxes.clear();
  }

  private enqueue<T>(leader: string, table: Map<number, Pending<T>>, add: (id: number, box: Outbox) => void): Promise<T> {
    if (!this.opts.transport.isConnected(leader)) {
      // Not sent: certainly not applied, so the HTTP layer may wait for a leader and retry.
      return Promise.reject(new NotLeaderError(null));
    }
    const id = ++this.seq;
    let box = this.outboxes.get(leader);
    if (box === undefined) {
      box = { writes: [], reads: [] };
      this.outboxes.set(leader, box);
    }
    add(id, box);
    this.scheduleFlush();
    return new Promise<T>((resolve, reject) => {
      table.set(id, { leader, resolve, reject, deadlineMs: Date.now() + this.opts.timeoutMs });
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [leader, box] of this.outboxes) {
      const message: ForwardRequest = { type: 'Forward', from: this.opts.self, to: leader, writes: box.writes, reads: box.reads };
      if (this.opts.transport.send(leader, message)) {
        this.stats.writesForwarded += box.writes.length;
        this.stats.readsForwarded += box.reads.length;
        continue;
      }
      // Refused by the transport (queue full, frame too large): nothing left, nothing applied.
      const busy = (): Error => new ServiceError('OVERLOADED', `cannot queue more for the leader ${leader}`, {}, 1);
      for (const w of box.writes) this.take(this.writes, w.id, leader)?.reject(busy());
      for (const r of box.reads) this.take(this.reads, r.id, leader)?.reject(busy());
    }
    this.outboxes.clear();
  }

  private take<T>(table: Map<number, Pending<T>>, id: number, from: string): Pending<T> | undefined {
    const p = table.get(id);
    if (p === undefined || p.leader !== from) return undefined; // answered, expired, or not asked of `from`
    table.delete(id);
    return p;
  }

  private refusal(reason: string, leader: string | null): Error {
    this.stats.refused++;
    if (reason === 'overloaded') return new ServiceError('OVERLOADED', 'the leader is overloaded; retry shortly', {}, 1);
    return new NotLeaderError(leader === this.opts.self ? null : leader);
  }
}
