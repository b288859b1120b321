import type { KvCommand, KvOperation, KvResult } from './commands.js';
import { defaultSessionLimits, SessionTable, type SessionLimits } from './sessions.js';

/** A point-in-time copy of the state machine, for snapshots and state transfer. */
export interface KvSnapshot {
  data: Array<[string, string]>;
  sessions: ReturnType<SessionTable['entries']>;
}

/**
 * The replicated key-value state machine. `apply` must be deterministic: every replica applies
 * the same commands in the same order and must end in the same state (Raft §5, State Machine
 * Safety; PMMC "replica"; PBFT "service state").
 */
export class KvStateMachine {
  private readonly data = new Map<string, string>();
  private readonly sessions: SessionTable;

  constructor(limits: SessionLimits = defaultSessionLimits) {
    this.sessions = new SessionTable(limits);
  }

  apply(command: KvCommand): KvResult {
    const { session } = command;
    if (session === null) return this.execute(command.operation);
    const seen = this.sessions.lookup(session);
    if (seen.kind === 'duplicate') return seen.result;
    if (seen.kind === 'expired') return { kind: 'session-expired' };
    const result = this.execute(command.operation);
    this.sessions.record(session, result);
    return result;
  }

  /** Local read, no ordering: `?consistency=stale`, and reads after a ReadIndex round. */
  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  get size(): number {
    return this.data.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  snapshot(): KvSnapshot {
    return { data: [...this.data], sessions: this.sessions.entries() };
  }

  restore(snapshot: KvSnapshot): void {
    this.data.clear();
    for (const [k, v] of snapshot.data) this.data.set(k, v);
    this.sessions.restore(snapshot.sessions);
  }

  private execute(op: KvOperation): KvResult {
    switch (op.op) {
      case 'put':
        this.data.set(op.key, op.value);
        return { kind: 'put' };
      case 'delete':
        return { kind: 'delete', existed: this.data.delete(op.key) };
      case 'cas': {
        const current = this.data.get(op.key) ?? null;
        if (current !== op.expected) return { kind: 'cas', ok: false, current };
        this.data.set(op.key, op.value);
        return { kind: 'cas', ok: true };
      }
      case 'get':
        return { kind: 'get', value: this.data.get(op.key) ?? null };
    }
  }
}
