import type { KvStateMachine } from '../protocols/kv/state-machine.js';
import { NotLeaderError, ServiceError } from './http/errors.js';
import { WaiterTable, type Waiter } from './waiter-table.js';

interface PendingRead extends Waiter<string | null> {
  key: string;
  /** Set once the leadership-confirmation round answered; then the read waits for the apply. */
  readIndex: number | null;
}

/**
 * Linearizable reads waiting inside a replica, for every protocol with a read-index scheme
 * (Raft dissertation §6.4; Multi-Paxos's quorum round): a read is registered with a context
 * number, the core answers the context with an index (or fails it), and the read is served
 * from the state machine once the replica has applied that index.
 */
export class ReadWaiters {
  private readonly table = new WaiterTable<number, string | null, PendingRead>();
  private seq = 0;
  /** Reads served so far (for /metrics). */
  served = 0;

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.table.size;
  }

  /** Register a read of `key`; `ask` hands its context number to the core. */
  add(key: string, ask: (ctx: number) => void): Promise<string | null> {
    const ctx = ++this.seq;
    return new Promise((resolve, reject) => {
      this.table.add(ctx, { key, readIndex: null, resolve, reject, deadlineMs: Date.now() + this.timeoutMs });
      ask(ctx);
    });
  }

  /** The core's answers: read indexes, and contexts it cannot serve (not the leader). */
  answered(states: ReadonlyArray<{ ctx: number; index: number }>, failed: readonly number[], leader: string | null): void {
    for (const { ctx, index } of states) {
      const read = this.table.get(ctx);
      if (read !== undefined) read.readIndex = index;
    }
    for (const ctx of failed) this.table.take(ctx)?.reject(new NotLeaderError(leader));
  }

  /** The read with context `ctx` cannot be served (its read index was refused or lost). */
  fail(ctx: number, err: Error): void {
    this.table.take(ctx)?.reject(err);
  }

  /** Serve every read whose index the state machine has reached. */
  release(appliedIndex: number, sm: KvStateMachine): void {
    for (const [ctx, read] of this.table.entries()) {
      if (read.readIndex === null || read.readIndex > appliedIndex) continue;
      this.table.take(ctx);
      this.served++;
      read.resolve(sm.get(read.key));
    }
  }

  expire(nowMs: number): number {
    return this.table.expire(nowMs, () => new ServiceError('TIMEOUT', 'the read could not be confirmed in time'));
  }

  rejectAll(makeError: () => Error): void {
    this.table.rejectAll(makeError);
  }
}
