/**
 * Read-only requests (OSDI §5.1.3): a replica answers a get from its current (executed) state
 * without ordering it; the origin gathers 2f+1 matching answers (reply-quorum.ts) or falls back to
 * the ordered path. The origin asks the others with a ReadRequest; each answers it alone.
 */
import type { KvResult } from '../../kv/commands.js';
import { NO_AUTH } from '../auth.js';
import type { ClientRequest, ReadReply, ReadRequest } from '../types.js';
import type { ReplicaContext } from './context.js';

export class ReadOnlyRequests {
  constructor(private readonly ctx: ReplicaContext) {}

  /** Answer from the current state; the origin's own answer goes into the Ready, the others' are sent. */
  readOnly(request: ClientRequest): void {
    const { ctx } = this;
    const result = this.readResult(request);
    if (result === null) return;
    if (request.origin === ctx.self || request.origin < 0) {
      ctx.out.readReplies.push({ from: ctx.self, clientId: request.clientId, seq: request.seq, result });
    }
    if (request.origin === ctx.self) {
      ctx.out.sendTo(ctx.others, { type: 'ReadRequest', request, replica: ctx.self, auth: NO_AUTH });
    } else if (request.origin >= 0 && request.origin < ctx.n) {
      ctx.out.sendTo([request.origin], { type: 'ReadReply', clientId: request.clientId, seq: request.seq, result, replica: ctx.self, auth: NO_AUTH });
    }
  }

  private readResult(request: ClientRequest): KvResult | null {
    const op = request.operation;
    if (op.op !== 'get') return null;
    return { kind: 'get', value: this.ctx.state.get(op.key) };
  }

  onReadRequest(m: ReadRequest): void {
    // Answer only the origin that asked, so a read cannot be reflected at a third replica.
    if (m.request.origin !== m.replica) return this.ctx.invalid();
    this.readOnly(m.request);
  }

  onReadReply(m: ReadReply): void {
    this.ctx.out.readReplies.push({ from: m.replica, clientId: m.clientId, seq: m.seq, result: m.result });
  }
}
