/**
 * A consistent cut of the key-value state machine: the state exactly as it was when the cut was
 * opened, read in parts while commands keep being applied (copy-on-write). Raft and Multi-Paxos
 * snapshots (Raft §7) are written from a cut in bounded slices, so taking one never stops the
 * replica, whatever the size of the state.
 *
 * How it stays exact: the sessions' order (least recently used first) is recorded when the cut
 * opens (at most maxSessions ids); a session about to change or expire before the cut has read it
 * is copied first. The data is read bucket by bucket (bucketed-map.ts); a bucket about to change
 * before the cut has read it is copied first. Everything the cut has read can change freely, and
 * what it has not read yet is either untouched or copied.
 *
 * Parts come out in order: the sessions first (in recency order, which restoring keeps: expiry is
 * part of the replicated state), then the data. `KvStateMachine.restorePart` takes them back.
 */
import type { BucketedMap } from './bucketed-map.js';
import { BUCKETS } from './bucketed-map.js';
import type { SessionEntry, SessionTable } from './sessions.js';

export type KvPart = { sessions: SessionEntry[] } | { data: Array<[string, string]> };

export class KvCut {
  private readonly sessionIds: string[];
  /** Sessions of the cut not read yet: only those are copied before they change. */
  private readonly unreadSessions: Set<string>;
  private sessionsRead = 0;
  private readonly frozenSessions = new Map<string, SessionEntry | null>();
  private nextBucket = 0;
  private readonly frozenBuckets = new Map<number, Map<string, string>>();
  private open = true;

  constructor(
    private readonly data: BucketedMap,
    private readonly sessions: SessionTable,
    /** Entries in the state when the cut opened (keys and sessions), for progress and sizing. */
    readonly keys = data.size,
  ) {
    this.sessionIds = sessions.ids();
    this.unreadSessions = new Set(this.sessionIds);
    sessions.beforeChange = (id) => this.freezeSession(id);
    data.beforeWrite = (b) => this.freezeBucket(b);
  }

  get done(): boolean {
    return !this.open;
  }

  /**
   * The next part: up to about `maxEntries` sessions or key-value pairs (a bucket is never split),
   * or null once everything was read (the cut is then closed).
   */
  next(maxEntries: number): KvPart | null {
    if (!this.open) return null;
    if (this.sessionsRead < this.sessionIds.length) return { sessions: this.nextSessions(maxEntries) };
    const data: Array<[string, string]> = [];
    while (this.nextBucket < BUCKETS && data.length < maxEntries) {
      const b = this.nextBucket++;
      const bucket = this.frozenBuckets.get(b) ?? this.data.bucket(b);
      this.frozenBuckets.delete(b);
      if (bucket !== undefined) for (const entry of bucket) data.push(entry);
    }
    if (data.length === 0 && this.nextBucket >= BUCKETS) {
      this.close();
      return null;
    }
    return { data };
  }

  /** Stops copying; what was not read is lost (an abandoned snapshot). Idempotent. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.data.beforeWrite !== null) this.data.beforeWrite = null;
    if (this.sessions.beforeChange !== null) this.sessions.beforeChange = null;
    this.frozenBuckets.clear();
    this.frozenSessions.clear();
    this.unreadSessions.clear();
  }

  /** Sessions, each counted with its results (up to windowSize of them) against maxEntries. */
  private nextSessions(maxEntries: number): SessionEntry[] {
    const out: SessionEntry[] = [];
    let entries = 0;
    while (this.sessionsRead < this.sessionIds.length && (out.length === 0 || entries < maxEntries)) {
      const id = this.sessionIds[this.sessionsRead++] as string;
      this.unreadSessions.delete(id);
      const entry = this.frozenSessions.has(id) ? this.frozenSessions.get(id) : this.sessions.entry(id);
      this.frozenSessions.delete(id);
      if (entry == null) continue;
      out.push(entry);
      entries += 1 + entry[2].length;
    }
    if (this.sessionsRead >= this.sessionIds.length) this.sessions.beforeChange = null; // all read
    return out;
  }

  private freezeSession(id: string): void {
    if (this.unreadSessions.has(id) && !this.frozenSessions.has(id)) this.frozenSessions.set(id, this.sessions.entry(id));
  }

  private freezeBucket(b: number): void {
    if (b < this.nextBucket || this.frozenBuckets.has(b)) return;
    this.frozenBuckets.set(b, new Map(this.data.bucket(b)));
  }
}
