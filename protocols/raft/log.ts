/**
 * The in-memory Raft log (Raft Figure 2, `log[]`) plus the bookkeeping that tells the runtime what
 * to change on disk, so that once a Ready is persisted the disk log equals this log.
 *
 * Entries live in one array with an offset (entries[k] holds index offset + k), so appending,
 * truncating and reading are O(1) or O(entries touched), never O(log length). There is no
 * compaction yet, so the offset is always 1; it is kept so that snapshots can be added later.
 */
import { invariant } from '../common/invariant.js';
import type { LogEntry } from './types.js';

/** Bytes counted for an entry's index, term and kind when bounding an AppendEntries (batching). */
export const ENTRY_OVERHEAD_BYTES = 24;

/** The size an entry counts for against `maxAppendBytes`. */
export function entryBytes(entry: LogEntry): number {
  return ENTRY_OVERHEAD_BYTES + (entry.data === null ? 0 : entry.data.byteLength);
}

/** What the runtime must change on disk: delete from `truncateFrom` (if set), then append. */
export interface UnstableLog {
  truncateFrom: number | null;
  entries: LogEntry[];
}

export class RaftLog {
  private readonly entries: LogEntry[];
  private readonly offset = 1;
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

  constructor(persisted: readonly LogEntry[]) {
    assertContiguous(persisted);
    this.entries = persisted.slice();
    const last = this.lastIndex;
    this.unstableFrom = last + 1;
    this.diskLastIndex = last;
    this.durable = last;
    this.readyLastIndex = last;
  }

  get lastIndex(): number {
    return this.offset + this.entries.length - 1;
  }

  get lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? 0;
  }

  /** Highest index the leader may count for itself in matchIndex (dissertation §10.2.1). */
  get durableIndex(): number {
    return this.durable;
  }

  /** Term of the entry at `index`; 0 for index 0 (the empty prefix); undefined when absent. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index < this.offset) return undefined;
    return this.entries[index - this.offset]?.term;
  }

  entry(index: number): LogEntry | undefined {
    if (index < this.offset) return undefined;
    return this.entries[index - this.offset];
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
    return candidate >= this.offset && this.term(candidate) === term ? candidate : 0;
  }

  /** Entries lo..hi inclusive (clamped to the log). */
  slice(lo: number, hi: number): LogEntry[] {
    const from = Math.max(lo, this.offset) - this.offset;
    const to = Math.min(hi, this.lastIndex) - this.offset + 1;
    return from < to ? this.entries.slice(from, to) : [];
  }

  /** Entries from lo whose sizes sum to at most maxBytes, but always one if lo exists (batching). */
  sliceBytes(lo: number, maxBytes: number): LogEntry[] {
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let index = lo; index <= this.lastIndex; index++) {
      const entry = this.entries[index - this.offset];
      invariant(entry !== undefined, () => `log hole at ${index}`);
      const size = entryBytes(entry);
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(entry);
      bytes += size;
    }
    return out;
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
    this.entries.length = index - this.offset;
    if (index < this.unstableFrom) this.unstableFrom = index;
    if (index <= this.diskLastIndex) {
      this.pendingTruncateFrom = Math.min(this.pendingTruncateFrom ?? index, index);
    }
    this.durable = Math.min(this.durable, index - 1);
    this.truncatedSinceReady = Math.min(this.truncatedSinceReady, index);
  }

  /** Is there anything the disk does not have yet? */
  hasUnstable(): boolean {
    return this.pendingTruncateFrom !== null || this.unstableFrom <= this.lastIndex;
  }

  /** Hands out the disk changes for one Ready; afterwards the disk-to-be equals memory. */
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
  entries.forEach((entry, k) => {
    invariant(entry.index === k + 1, () => `restored log: entry ${k} has index ${entry.index}`);
    invariant(entry.term >= previousTerm, () => `restored log: term decreases at ${entry.index}`);
    previousTerm = entry.term;
  });
}
