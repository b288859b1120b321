import { BucketedMap } from './bucketed-map.js';
import type { KvCommand, KvOperation, KvResult } from './commands.js';
import { KvCut, type KvPart } from './kv-cut.js';
import { defaultSessionLimits, SessionTable, type SessionEntry, type SessionLimits } from './sessions.js';

/** A point-in-time copy of the whole state machine in one value (small states, PBFT checkpoints). */
export interface KvSnapshot {
  data: Array<[string, string]>;
  sessions: SessionEntry[];
}

/**
 * The replicated key-value state machine. `apply` must be deterministic: every replica applies
 * the same commands in the same order and must end in the same state (Raft §5, State Machine
 * Safety; PMMC "replica"; PBFT "service state").
 */
export class KvStateMachine {
  private readonly data = new BucketedMap();
  private readonly sessions: SessionTable;
  private cut: KvCut | null = null;

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

  /**
   * Opens a consistent cut of the state as it is now (kv-cut.ts), O(1): the caller reads it in
   * parts, between applies, until `next` returns null. One cut at a time; opening one closes the
   * previous one.
   */
  openCut(): KvCut {
    this.cut?.close();
    this.cut = new KvCut(this.data, this.sessions);
    return this.cut;
  }

  /** The whole state in one value, O(state) at once: for small states (PBFT checkpoints, tests). */
  snapshot(): KvSnapshot {
    return { data: [...this.data.entries()], sessions: this.sessions.entries() };
  }

  restore(snapshot: KvSnapshot): void {
    this.clear();
    this.restorePart({ sessions: snapshot.sessions });
    this.restorePart({ data: snapshot.data });
  }

  /** Bucket `b`'s pairs in insertion order (bucketed-map.ts), a copy: O(bucket), not O(state). */
  bucketEntries(b: number): Array<[string, string]> {
    return this.data.bucketEntries(b);
  }

  /** Bytes of the key-value records, held outside the JavaScript heap (record-arena.ts). */
  get recordBytes(): number {
    return this.data.recordBytes;
  }

  /** Replaces bucket `b`'s data wholesale (PBFT state transfer: a fetched leaf partition). */
  replaceBucket(b: number, entries: ReadonlyArray<readonly [string, string]>): void {
    this.data.replaceBucket(b, entries);
  }

  /** Empties the state machine (before restoring a snapshot part by part). */
  clear(): void {
    this.cut?.close();
    this.cut = null;
    this.data.clear();
    this.sessions.restore([]);
  }

  /** Adds one part of a cut (kv-cut.ts), in the order the cut produced them. */
  restorePart(part: KvPart): void {
    if ('sessions' in part) this.sessions.append(part.sessions);
    else for (const [k, v] of part.data) this.data.set(k, v);
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
