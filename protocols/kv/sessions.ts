import type { KvResult, SessionTag } from './commands.js';

/**
 * Client sessions for exactly-once semantics (Raft dissertation §6.3, "Implementing
 * linearizable semantics"). Each session remembers the results of its last `windowSize`
 * requests; a retry of one of them gets the stored result back without being re-applied.
 *
 * Sessions are part of the replicated state: they change only when a committed command is
 * applied, so every replica expires the same sessions at the same log position (the
 * dissertation's deterministic expiry). Expiry here is least-recently-used by count.
 */
export interface SessionLimits {
  maxSessions: number;
  windowSize: number;
}

export const defaultSessionLimits: SessionLimits = { maxSessions: 10_000, windowSize: 64 };

interface Session {
  /** Highest sequence number applied. */
  maxSeq: number;
  /** seq -> result for the last windowSize applied sequence numbers. */
  results: Map<number, KvResult>;
  /**
   * True while every seq was recorded above the previous maxSeq (a client with one request
   * outstanding): `results` is then in ascending seq order and trimming stops at the first seq
   * inside the window. Only speed depends on it, never a result.
   */
  ascending: boolean;
}

export type SessionLookup =
  | { kind: 'new' }
  | { kind: 'duplicate'; result: KvResult }
  | { kind: 'expired' };

/** One session as a snapshot stores it: client id, highest seq, and its window of results. */
export type SessionEntry = [clientId: string, maxSeq: number, results: Array<[number, KvResult]>];

export class SessionTable {
  /** Insertion order is recency order: a session is re-inserted whenever it is used. */
  private readonly sessions = new Map<string, Session>();
  /** Called with a client id before its session changes or goes (set by an open snapshot cut). */
  beforeChange: ((clientId: string) => void) | null = null;

  constructor(private readonly limits: SessionLimits = defaultSessionLimits) {}

  lookup(tag: SessionTag): SessionLookup {
    const session = this.sessions.get(tag.clientId);
    if (session === undefined) return { kind: 'new' };
    const result = session.results.get(tag.seq);
    if (result !== undefined) return { kind: 'duplicate', result };
    // Older than the window: its result is gone, and it may have been applied. Refuse it.
    if (tag.seq <= session.maxSeq - this.limits.windowSize) return { kind: 'expired' };
    return { kind: 'new' };
  }

  record(tag: SessionTag, result: KvResult): void {
    this.beforeChange?.(tag.clientId);
    let session = this.sessions.get(tag.clientId);
    if (session === undefined) {
      session = { maxSeq: 0, results: new Map(), ascending: true };
    } else {
      this.sessions.delete(tag.clientId);
    }
    this.sessions.set(tag.clientId, session);
    if (tag.seq <= session.maxSeq) session.ascending = false;
    session.results.set(tag.seq, result);
    session.maxSeq = Math.max(session.maxSeq, tag.seq);
    this.trimWindow(session);
    this.expireOldest();
  }

  get size(): number {
    return this.sessions.size;
  }

  entries(): SessionEntry[] {
    return [...this.sessions.keys()].map((id) => this.entry(id) as SessionEntry);
  }

  /** The sessions' client ids, least recently used first (the order a snapshot keeps). */
  ids(): string[] {
    return [...this.sessions.keys()];
  }

  /** One session as a snapshot stores it, or null if there is none for `clientId`. */
  entry(clientId: string): SessionEntry | null {
    const s = this.sessions.get(clientId);
    return s === undefined ? null : [clientId, s.maxSeq, [...s.results]];
  }

  restore(entries: readonly SessionEntry[]): void {
    this.sessions.clear();
    this.append(entries);
  }

  /** Adds sessions after the ones held, as the most recently used (restoring a snapshot in parts). */
  append(entries: readonly SessionEntry[]): void {
    for (const [id, maxSeq, results] of entries) {
      const ascending = results.every(([seq], k) => k === 0 || seq > results[k - 1]![0]);
      this.sessions.delete(id);
      this.sessions.set(id, { maxSeq, results: new Map(results), ascending });
    }
  }

  private trimWindow(session: Session): void {
    const floor = session.maxSeq - this.limits.windowSize;
    if (session.results.size <= this.limits.windowSize) return;
    for (const seq of session.results.keys()) {
      if (seq <= floor) session.results.delete(seq);
      else if (session.ascending) break; // every later seq is higher: all inside the window
    }
  }

  private expireOldest(): void {
    while (this.sessions.size > this.limits.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done === true) return;
      this.beforeChange?.(oldest.value);
      this.sessions.delete(oldest.value);
    }
  }
}
