/**
 * The Replies of one executed batch. OSDI §4.1 sends one REPLY per request; we send one per
 * (origin replica, batch), carrying every result for that origin, authenticated once (README
 * Deviations: batched replies), split at maxTransferBytes: a batch of gets may return many large
 * values (message-bounds.ts). A replica does not send itself Replies: its own results are the
 * Ready's `executed`.
 */
import type { KvResult } from '../../kv/commands.js';
import { NO_AUTH } from '../auth.js';
import { resultWireBytesMax } from '../canonical.js';
import type { ClientRequest, ReplyEntry } from '../types.js';
import type { ReplicaContext } from './context.js';

export class BatchReplies {
  private readonly entries: Array<ReplyEntry[] | undefined> = [];
  private readonly bytes: number[] = [];

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly view: number,
  ) {}

  /** The result of one request of the batch, for its origin (sent now if the message is full). */
  add(request: ClientRequest, result: KvResult): void {
    const origin = request.origin;
    if (origin < 0 || origin >= this.ctx.n || origin === this.ctx.self) return;
    const size = 64 + 3 * request.clientId.length + resultWireBytesMax(result);
    const entries = this.entries[origin];
    if (entries !== undefined && (this.bytes[origin] ?? 0) + size > this.ctx.maxTransferBytes) {
      this.send(origin, entries);
      this.entries[origin] = undefined;
      this.bytes[origin] = 0;
    }
    this.bytes[origin] = (this.bytes[origin] ?? 0) + size;
    (this.entries[origin] ??= []).push({ clientId: request.clientId, seq: request.seq, result });
  }

  /** The rest, one Reply per origin in index order. */
  finish(): void {
    for (let origin = 0; origin < this.entries.length; origin++) {
      const entries = this.entries[origin];
      if (entries !== undefined) this.send(origin, entries);
    }
  }

  private send(origin: number, replies: ReplyEntry[]): void {
    this.ctx.out.sendTo([origin], { type: 'Reply', view: this.view, replies, replica: this.ctx.self, auth: NO_AUTH });
  }
}
