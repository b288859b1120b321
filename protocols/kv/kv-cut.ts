/**
 * A consistent cut of the key-value state machine: the state exactly as it was when the cut was
 * opened, read in parts while commands keep being applied (copy-on-write). Raft and Multi-Paxos
 * snapshots (Raft §7) are written from a cut in bounded slices, so taking one never stops the
 * replica, whatever the size of the state.
 *
 * How it stays exact: the sessions' order (least recently used first) is recorded when the cut
 * opens (at most maxSessions ids); a session about to change or expire before the cut has read it
 * is copied first. The data is read bucket by bucket (bucketed-map.ts); a bucket about to change
 * before the cut has read it is pinned first (its records' handles copied, and its records kept
 * unchanged until the cut reads them: BucketedMap.pin). Everything the cut has read can change
 * freely, and what it has not read yet is either untouched, copied or pinned.
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
  /** The bucket being read (a copy of its entries) and how far. */
  private rest: Array<[string, string]> = [];
  private restAt = 0;
  /** Buckets changed before the cut read them: pinned as they were (BucketedMap.pin). */
  private readonly frozenBuckets = new Map<number, Int32Array>();
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
   * The next part: up to `maxEntries` sessions or key-value pairs and about `maxBytes` of keys,
   * values and results (a part passes maxBytes by at most one entry, so a huge value makes a part
   * of its own), or null once everything was read (the cut is then closed).
   */
  next(maxEntries: number, maxBytes = Infinity): KvPart | null {
    if (!this.open) return null;
    if (this.sessionsRead < this.sessionIds.length) return { sessions: this.nextSessions(maxEntries, maxBytes) };
    const data: Array<[string, string]> = [];
    let bytes = 0;
    while (data.length < maxEntries && bytes < maxBytes) {
      if (this.restAt >= this.rest.length && !this.startBucket()) break;
      const entry = this.rest[this.restAt++] as [string, string];
      data.push(entry);
      bytes += entry[0].length + entry[1].length;
    }
    if (data.length === 0) {
      this.close();
      return null;
    }
    return { data };
  }

  /**
   * Moves to the next bucket that has entries, copied out whole: a part may end inside it, and
   * the rest must not change before the next part reads it. False once every bucket was read.
   */
  private startBucket(): boolean {
    this.rest = [];
    this.restAt = 0;
    while (this.rest.length === 0 && this.nextBucket < BUCKETS) {
      const b = this.nextBucket++;
      const pinned = this.frozenBuckets.get(b);
      this.frozenBuckets.delete(b);
      this.rest = pinned === undefined ? this.data.bucketEntries(b) : this.data.readPinned(b, pinned);
    }
    return this.rest.length > 0;
  }

  /** Stops copying; what was not read is lost (an abandoned snapshot). Idempotent. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.data.beforeWrite !== null) this.data.beforeWrite = null;
    this.data.releaseAll();
    if (this.sessions.beforeChange !== null) this.sessions.beforeChange = null;
    this.frozenBuckets.clear();
    this.rest = [];
    this.frozenSessions.clear();
    this.unreadSessions.clear();
  }

  /** Sessions, each counted with its results (up to windowSize of them) against the bounds. */
  private nextSessions(maxEntries: number, maxBytes: number): SessionEntry[] {
    const out: SessionEntry[] = [];
    let entries = 0;
    let bytes = 0;
    while (this.sessionsRead < this.sessionIds.length && (out.length === 0 || (entries < maxEntries && bytes < maxBytes))) {
      const id = this.sessionIds[this.sessionsRead++] as string;
      this.unreadSessions.delete(id);
      const entry = this.frozenSessions.has(id) ? this.frozenSessions.get(id) : this.sessions.entry(id);
      this.frozenSessions.delete(id);
      if (entry == null) continue;
      out.push(entry);
      entries += 1 + entry[2].length;
      bytes += sessionBytes(entry);
    }
    if (this.sessionsRead >= this.sessionIds.length) this.sessions.beforeChange = null; // all read
    return out;
  }

  private freezeSession(id: string): void {
    if (this.unreadSessions.has(id) && !this.frozenSessions.has(id)) this.frozenSessions.set(id, this.sessions.entry(id));
  }

  private freezeBucket(b: number): void {
    if (b < this.nextBucket || this.frozenBuckets.has(b)) return;
    this.frozenBuckets.set(b, this.data.pin(b));
  }
}

/** About the bytes a session takes in a snapshot: its id and the values its results carry. */
function sessionBytes([id, , results]: SessionEntry): number {
  let bytes = id.length + 16;
  for (const [, r] of results) {
    bytes += 16;
    if (r.kind === 'get' && r.value !== null) bytes += r.value.length;
    if (r.kind === 'cas' && !r.ok && r.current !== null) bytes += r.current.length;
  }
  return bytes;
}
