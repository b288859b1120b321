/**
 * What one PBFT replica has to hand out in its next Ready (docs/design.md §2.2, `PbftReady` in
 * ../types.ts): the records to persist, the messages to send, the executed requests and the
 * replies gathered for this replica's clients, and what it executed and checkpointed (for
 * checkers). Every part of the replica writes here; the façade (../pbft-replica.ts) takes it all
 * in ready().
 */
import type { Authenticator } from '../auth.js';
import type {
  ExecutedBatch,
  ExecutedRequest,
  OwnCheckpoint,
  PbftMessage,
  PersistRecord,
  ReceivedReadReply,
  ReceivedReply,
} from '../types.js';

export type Outgoing = { to: number; message: PbftMessage };

export class Outbox {
  persist: PersistRecord[] = [];
  messages: Outgoing[] = [];
  executed: ExecutedRequest[] = [];
  replies: ReceivedReply[] = [];
  readReplies: ReceivedReadReply[] = [];
  executedBatches: ExecutedBatch[] = [];
  checkpoints: OwnCheckpoint[] = [];

  constructor(private readonly auth: Authenticator) {}

  /** m with a MAC per receiver (an authenticator, OSDI §4) or its signature (auth.ts). */
  sendTo(receivers: readonly number[], m: PbftMessage): void {
    for (const out of this.auth.seal(m, receivers)) this.messages.push(out);
  }

  /** An already signed message (Checkpoint, ViewChange, NewView): the same bytes to everyone. */
  sendSigned(receivers: readonly number[], message: PbftMessage): void {
    for (const to of receivers) this.messages.push({ to, message });
  }

  /** Anything buffered (the façade adds the view record and the log's changed slots itself). */
  hasOutput(): boolean {
    return (
      this.messages.length > 0 ||
      this.persist.length > 0 ||
      this.executed.length > 0 ||
      this.replies.length > 0 ||
      this.readReplies.length > 0 ||
      this.executedBatches.length > 0 ||
      this.checkpoints.length > 0
    );
  }

  takePersist(): PersistRecord[] {
    const out = this.persist;
    this.persist = [];
    return out;
  }

  /** The Ready's outputs besides `persist`; the buffers start empty again. */
  takeOutputs(): Pick<Outbox, 'messages' | 'executed' | 'replies' | 'readReplies' | 'executedBatches' | 'checkpoints'> {
    const taken = {
      messages: this.messages,
      executed: this.executed,
      replies: this.replies,
      readReplies: this.readReplies,
      executedBatches: this.executedBatches,
      checkpoints: this.checkpoints,
    };
    this.messages = [];
    this.executed = [];
    this.replies = [];
    this.readReplies = [];
    this.executedBatches = [];
    this.checkpoints = [];
    return taken;
  }
}
