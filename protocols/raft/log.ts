/**
 * The in-memory Raft log (Raft Figure 2, `log[]`) plus the bookkeeping that tells the runtime what
 * to change on disk, so that once a Ready is persisted the disk log equals this log.
 *
 * Entries live in typed-array columns with an offset (row k holds index offset + k; entry-columns.ts),
 * so appending, truncating and reading are O(1) or O(entries touched), never O(log length), and a
 * long log costs the garbage collector nothing. Every read returns fresh LogEntry objects whose
 * data are views of the log's bytes: they stay valid after the entry is truncated or compacted.
 *
 * Log compaction (Raft §7): the log may start after a snapshot. Entries up to `snapshotIndex` are
 * gone (offset = snapshotIndex + 1); only the index and term of the last one covered by the
 * snapshot are kept, so `term(snapshotIndex)` still answers (the AppendEntries consistency check
 * at prevLogIndex = snapshotIndex, and `lastTerm` of an empty log).
 */
import { invariant } from '../common/invariant.js';
import { EntryColumns } from './entry-columns.js';
import type { LogEntry } from './types.js';

/** Bytes counted for an entry's index, term and kind when bounding an AppendEntries (batching). */
export const ENTRY_OVERHEAD_BYTES = 24;

/** The size an entry counts for against `maxAppendBytes`. */
export function entryBytes(entry: LogEntry): number {
  return ENTRY_OVERHEAD_BYTES + (entry.data === null ? 0 : entry.data.byteLength);
}

/**
 * What the runtime must change on disk: delete entries >= `truncateFrom` (if set), then append
 * `entries` (and delete entries <= `takeCompactTo()`, Raft §7).
 */
export interface UnstableLog {
  truncateFrom: number | null;
  entries: LogEntry[];
}

/** The index and term of the last entry a snapshot covers (Raft §7, lastIncludedIndex/Term). */
export interface SnapshotMeta {
  index: number;
  term: number;
}

export class RaftLog {
  private readonly entries = new EntryColumns();
  /** Raft §7: the last index and term the snapshot covers; entries up to it are gone. */
  private snapIndex: number;
  private snapTerm: number;
  /** Entries <= this index may still be on disk and must be deleted there. */
  private pendingCompactTo: number | null = null;
  /** First index not yet handed to the runtime in a Ready. */
  private unstableFrom: number;
  /** Last index the disk holds once every Ready handed out so far is persisted. */
  private diskLastIndex: number;
  /** Lowest index truncated in memory that the disk may still hold. */
  private pendingTruncateFrom: number | null = null;
  /** Highest index whose prefix is known to be on disk exactly as in memory. */
  private durable: number;
  /** lastIndex when the outstanding Ready was built. */
  private readyLastIndex: number;
  /** Lowest index truncated since the outstanding Ready was built. */
  private truncatedSinceReady = Number.POSITIVE_INFINITY;

  /**
   * `persisted`: the disk log, contiguous; `snapshot`: the stored snapshot's last index and term.
   * Entries the snapshot covers are ignored (and deleted on disk by the next Ready): a crash may
   * come between saving a snapshot and deleting them. If the log holds the snapshot's last index
   * with another term, the whole log conflicts with the snapshot and is discarded (Figure 13 rule 7,
   * as for an installed snapshot: the runtime may save an installed snapshot before the log batch).
   */
  constructor(persisted: readonly LogEntry[], snapshot: SnapshotMeta | null = null) {
    assertContiguous(persisted);
    this.snapIndex = snapshot?.index ?? 0;
    this.snapTerm = snapshot?.term ?? 0;
    invariant(this.snapIndex >= 0 && (this.snapIndex === 0) === (this.snapTerm === 0), 'restored snapshot: bad index or term');
    const first = persisted[0]?.index ?? this.snapIndex + 1;
    invariant(first <= this.snapIndex + 1, () => `restored log starts at ${first}, after the snapshot at ${this.snapIndex}`);
    let kept = persisted.filter((entry) => entry.index > this.snapIndex);
    const atSnapshot = persisted.find((entry) => entry.index === this.snapIndex);
    if (kept.length > 0 && atSnapshot !== undefined && atSnapshot.term !== this.snapTerm) {
      kept = []; // Figure 13 rule 7: the log conflicts with the snapshot
      this.pendingTruncateFrom = this.snapIndex + 1;
    }
    invariant(kept.length === 0 || (kept[0] as LogEntry).term >= this.snapTerm, 'restored log: term decreases after the snapshot');
    if (first <= this.snapIndex && persisted.length > 0) this.pendingCompactTo = this.snapIndex;
    for (const entry of kept) this.entries.push(entry);
    const last = this.lastIndex;
    this.unstableFrom = last + 1;
    this.diskLastIndex = last;
    this.durable = last;
    this.readyLastIndex = last;
  }

  /** Row k of the columns holds index offset + k. */
  private get offset(): number {
    return this.snapIndex + 1;
  }

  get lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  get lastTerm(): number {
    const rows = this.entries.length;
    return rows > 0 ? this.entries.term(rows - 1) : this.snapTerm;
  }

  /** Raft §7: the last index covered by the snapshot (0: none); entries up to it are gone. */
  get snapshotIndex(): number {
    return this.snapIndex;
  }

  get snapshotTerm(): number {
    return this.snapTerm;
  }

  /** Highest index the leader may count for itself in matchIndex (dissertation §10.2.1). */
  get durableIndex(): number {
    return this.durable;
  }

  /**
   * Term of the entry at `index`; 0 for index 0 (the empty prefix), the snapshot's term at
   * snapshotIndex; undefined when absent or compacted away.
   */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.offset || index > this.lastIndex) return undefined;
    return this.entries.term(index - this.offset);
  }

  entry(index: number): LogEntry | undefined {
    if (index < this.offset || index > this.lastIndex) return undefined;
    return this.entries.entry(index - this.offset, index);
  }

  /** Raft §5.3, AppendEntries receiver rule 2: does the log hold an entry at index with term? */
  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /**
   * Raft §5.4.1: a candidate's log is at least as up to date as ours if its last term is higher,
   * or the last terms are equal and its log is at least as long.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm;
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex);
  }

  /**
   * Smallest index whose term is >= `term` (lastIndex + 1 if none). Terms never decrease along a
   * log, so this is a binary search; with `term` taken from the log it is the first entry of it.
   */
  firstIndexOfTerm(term: number): number {
    let lo = this.offset;
    let hi = this.lastIndex + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.term(mid) ?? 0) >= term) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Largest index holding an entry of exactly `term`, or 0 if the log has none. */
  lastIndexOfTerm(term: number): number {
    const after = this.firstIndexOfTerm(term + 1);
    const candidate = after - 1;
    return candidate >= 1 && this.term(candidate) === term ? candidate : 0;
  }

  /** Entries lo..hi inclusive (clamped to the log). */
  slice(lo: number, hi: number): LogEntry[] {
    const out: LogEntry[] = [];
    for (let index = Math.max(lo, this.offset); index <= Math.min(hi, this.lastIndex); index++) {
      out.push(this.entries.entry(index - this.offset, index));
    }
    return out;
  }

  /** The summed entryBytes of the entries lo..hi held in memory (flow control, uncommitted.ts). */
  bytesIn(lo: number, hi: number): number {
    let bytes = 0;
    for (let index = Math.max(lo, this.offset); index <= Math.min(hi, this.lastIndex); index++) {
      bytes += this.sizeAt(index);
    }
    return bytes;
  }

  /** Entries from lo whose sizes sum to at most maxBytes, but always one if lo exists (batching). */
  sliceBytes(lo: number, maxBytes: number): LogEntry[] {
    invariant(lo >= this.offset || lo > this.lastIndex, () => `sliceBytes from ${lo}: compacted up to ${this.snapIndex}`);
    let hi = lo - 1;
    let bytes = 0;
    for (let index = lo; index <= this.lastIndex; index++) {
      const size = this.sizeAt(index);
      if (index > lo && bytes + size > maxBytes) break;
      hi = index;
      bytes += size;
    }
    return this.slice(lo, hi);
  }

  /** entryBytes of the entry at index, without building it. */
  private sizeAt(index: number): number {
    return ENTRY_OVERHEAD_BYTES + this.entries.dataBytes(index - this.offset);
  }

  /** Appends one entry at lastIndex + 1; terms never decrease along a log. */
  append(entry: LogEntry): void {
    invariant(entry.index === this.lastIndex + 1, () => `append at ${entry.index}, last is ${this.lastIndex}`);
    invariant(entry.term >= this.lastTerm, () => `append of term ${entry.term} after term ${this.lastTerm}`);
    this.entries.push(entry);
  }

  /** Raft §5.3, AppendEntries receiver rule 3: delete the entry at `index` and all that follow. */
  truncateFrom(index: number): void {
    invariant(index >= this.offset && index <= this.lastIndex, () => `truncate at ${index} outside log`);
    this.entries.truncate(index - this.offset);
    if (index < this.unstableFrom) this.unstableFrom = index;
    if (index <= this.diskLastIndex) {
      this.pendingTruncateFrom = Math.min(this.pendingTruncateFrom ?? index, index);
    }
    this.durable = Math.min(this.durable, index - 1);
    this.truncatedSinceReady = Math.min(this.truncatedSinceReady, index);
  }

  /**
   * Raft §7: a snapshot covering `index` is durable (the runtime saved it): drop the entries up to
   * it. Only entries already handed to the disk may be compacted (the caller bounds `index` by
   * the applied index, and an entry is applied only after the Ready holding it was persisted).
   */
  compact(index: number): void {
    invariant(index > this.snapIndex && index <= this.lastIndex, () => `compact(${index}) outside log ${this.snapIndex}..${this.lastIndex}`);
    invariant(index < this.unstableFrom, () => `compact(${index}): entries from ${this.unstableFrom} are not on disk yet`);
    const term = this.term(index) as number;
    this.entries.dropFront(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
    this.pendingCompactTo = index;
  }

  /**
   * Raft §7, Figure 13 receiver rules 6 and 7, for a snapshot received from the leader: if the log
   * holds the snapshot's last entry (same index and term), keep the entries after it; otherwise
   * discard the whole log. Entries not yet on disk and now covered are never written.
   */
  installSnapshot(index: number, term: number): void {
    invariant(index > this.snapIndex, () => `install snapshot ${index} at or before snapshot ${this.snapIndex}`);
    if (index <= this.lastIndex && this.term(index) === term) {
      this.entries.dropFront(index - this.snapIndex); // rule 6: retain what follows
      this.unstableFrom = Math.max(this.unstableFrom, index + 1);
    } else {
      this.entries.dropFront(this.entries.length); // rule 7: discard the entire log
      const from = index + 1;
      if (from <= this.diskLastIndex) this.pendingTruncateFrom = Math.min(this.pendingTruncateFrom ?? from, from);
      this.diskLastIndex = Math.min(this.diskLastIndex, index);
      this.durable = Math.min(this.durable, index);
      this.truncatedSinceReady = Math.min(this.truncatedSinceReady, from);
      // Whatever is appended after the snapshot is new to the disk (entries of the discarded log
      // at those indexes are deleted by pendingTruncateFrom).
      this.unstableFrom = from;
    }
    this.snapIndex = index;
    this.snapTerm = term;
    this.pendingCompactTo = index;
  }

  /** Is there anything the disk does not have yet? */
  hasUnstable(): boolean {
    return this.pendingTruncateFrom !== null || this.pendingCompactTo !== null || this.unstableFrom <= this.lastIndex;
  }

  /**
   * Raft §7: the disk entries to delete as covered by the snapshot (<= the returned index), for
   * the same Ready as `takeUnstable()`; null if none.
   */
  takeCompactTo(): number | null {
    const compactTo = this.pendingCompactTo;
    this.pendingCompactTo = null;
    return compactTo;
  }

  /**
   * Hands out the disk changes for one Ready (with `takeCompactTo()`); afterwards the disk-to-be
   * equals memory.
   */
  takeUnstable(): UnstableLog {
    const truncateFrom = this.pendingTruncateFrom;
    const entries = this.slice(this.unstableFrom, this.lastIndex);
    this.pendingTruncateFrom = null;
    this.unstableFrom = this.lastIndex + 1;
    this.diskLastIndex = this.lastIndex;
    this.readyLastIndex = this.lastIndex;
    this.truncatedSinceReady = Number.POSITIVE_INFINITY;
    return { truncateFrom, entries };
  }

  /**
   * The Ready last handed out is durable: the disk equals memory as it was then, so memory and
   * disk agree up to the first index truncated since.
   */
  markPersisted(): void {
    this.durable = Math.min(this.readyLastIndex, this.truncatedSinceReady - 1);
  }
}

function assertContiguous(entries: readonly LogEntry[]): void {
  let previousTerm = 0;
  const first = entries[0]?.index ?? 1;
  entries.forEach((entry, k) => {
    invariant(entry.index === first + k, () => `restored log: entry ${k} has index ${entry.index}`);
    invariant(entry.term >= previousTerm, () => `restored log: term decreases at ${entry.index}`);
    previousTerm = entry.term;
  });
}
