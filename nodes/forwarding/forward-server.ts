/**
 * The leader's side of forwarding (messages.ts): the writes of a Forward message are proposed to
 * the core at once, in their order, and answered with where they went; its reads become one read
 * of the core (dissertation §6.4: they share a leadership confirmation) whose index is sent back
 * once the core releases it. Called inside the replica loop, like any other input.
 *
 * The core's read contexts of forwarded reads are negative numbers, so they never collide with the
 * positive contexts of the replica's own reads (nodes/read-waiters.ts).
 */
import type { Transport } from '../transport/index.js';
import type { ForwardReply, ForwardRequest, Refusal, WriteAnswer } from './messages.js';

/** What the core said to one proposal: its position, or why it refused. */
export type ProposeOutcome<P> = { ok: true; at: P } | { ok: false; refused: Refusal; leader: string | null };

export interface ForwardServerHooks<P> {
  self: string;
  transport: Transport;
  /** Propose one command to the core (Raft propose, Multi-Paxos propose). */
  propose(data: Uint8Array): ProposeOutcome<P>;
  /** Start a read of the core with this context (readIndex, or leaseRead when `lease`). */
  read(ctx: number, lease: boolean): void;
  /** This replica's view of the leader, for refusals. */
  leader(): string | null;
}

interface RemoteRead {
  from: string;
  ids: number[];
}

export class ForwardServer<P> {
  private readonly reads = new Map<number, RemoteRead>();
  private ctx = 0;
  readonly stats = { writesProposed: 0, writesRefused: 0, readsServed: 0 };

  constructor(private readonly hooks: ForwardServerHooks<P>) {}

  /** Is `ctx` a forwarded read's context? */
  static owns(ctx: number): boolean {
    return ctx < 0;
  }

  /** A Forward message from the follower `from`. */
  handle(from: string, request: ForwardRequest): void {
    const writes: Array<WriteAnswer<P>> = [];
    for (const w of request.writes) {
      const r = this.hooks.propose(w.data);
      if (r.ok) {
        writes.push({ id: w.id, at: r.at });
        this.stats.writesProposed++;
      } else {
        writes.push({ id: w.id, refused: r.refused, leader: r.leader });
        this.stats.writesRefused++;
      }
    }
    // The answer leaves before the AppendEntries (or P2a) carrying these entries, on the same
    // FIFO connection: the follower knows where to wait before it can apply them.
    if (writes.length > 0) this.send(from, writes, []);
    if (request.reads.length === 0) return;
    const ctx = --this.ctx;
    this.reads.set(ctx, { from, ids: request.reads.map((r) => r.id) });
    // One core read for the batch; a lease read only if every read of the batch asked for one.
    this.hooks.read(ctx, request.reads.every((r) => r.lease));
  }

  /** The core released (or failed) read contexts; answer the forwarded ones. */
  readsAnswered(states: ReadonlyArray<{ ctx: number; index: number }>, failed: readonly number[]): void {
    for (const { ctx, index } of states) {
      const read = this.take(ctx);
      if (read === undefined) continue;
      this.stats.readsServed += read.ids.length;
      this.send(read.from, [], read.ids.map((id) => ({ id, index })));
    }
    for (const ctx of failed) {
      const read = this.take(ctx);
      if (read !== undefined) this.send(read.from, [], read.ids.map((id) => ({ id, refused: 'not-leader' as const, leader: this.hooks.leader() })));
    }
  }

  private take(ctx: number): RemoteRead | undefined {
    if (!ForwardServer.owns(ctx)) return undefined;
    const read = this.reads.get(ctx);
    this.reads.delete(ctx);
    return read;
  }

  private send(to: string, writes: ForwardReply<P>['writes'], reads: ForwardReply<P>['reads']): void {
    const reply: ForwardReply<P> = { type: 'ForwardReply', from: this.hooks.self, to, writes, reads };
    this.hooks.transport.send(to, reply);
  }
}
