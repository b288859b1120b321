/**
 * Where the in-memory Raft log keeps its entries (log.ts; issue 13: a GC pause in proportion to
 * the live heap). Between two snapshots a leader with a million keys holds a few hundred thousand
 * entries. As objects, each costs a LogEntry and a Uint8Array view on the V8 heap (about 160 B),
 * and every full collection marks them all: tens of milliseconds of main-thread pause.
 *
 * Here an entry is one row of typed-array columns (term, kind, where its bytes are), and its bytes
 * are copied into append-only byte chunks. Typed arrays keep their contents outside the heap, so
 * the collector sees a handful of objects, whatever the length of the log.
 *
 * Rows are positions 0..length-1 of a deque (the log maps index → position). Bytes are never
 * overwritten or reused: a view handed out (in a Ready, a message, an applied entry) stays valid
 * after its entry is truncated or compacted. Truncation only forgets rows; dropping rows from the
 * front also drops the chunks that no remaining row points into.
 */
import { nextChunkBytes } from '../common/chunk-size.js';
import { invariant } from '../common/invariant.js';
import type { LogEntry } from './types.js';

const KINDS: readonly LogEntry['kind'][] = ['noop', 'command', 'config'];
const KIND_CODE: Record<LogEntry['kind'], number> = { noop: 0, command: 1, config: 2 };
/** lengths[row] for an entry whose data is null. */
const NO_DATA = -1;
const FIRST_ROWS = 64;

/** Bytes appended into chunks; an entry never spans two of them. */
class ByteChunks {
  private chunks: Uint8Array[] = [];
  /** The id of chunks[0]: ids only grow, so a row's chunk is chunks[id - firstId]. */
  private firstId = 0;
  private used = 0;

  /** The id of the chunk the next copy goes to (or of the last one, for a row without data). */
  get currentId(): number {
    return this.firstId + Math.max(0, this.chunks.length - 1);
  }

  /** Copies bytes into the chunk `currentId` names afterwards; returns their offset in it. */
  copy(bytes: Uint8Array): number {
    const last = this.chunks[this.chunks.length - 1];
    if (last === undefined || this.used + bytes.length > last.length) this.open(bytes.length, last);
    const offset = this.used;
    (this.chunks[this.chunks.length - 1] as Uint8Array).set(bytes, offset);
    this.used += bytes.length;
    return offset;
  }

  view(id: number, offset: number, length: number): Uint8Array {
    const chunk = this.chunks[id - this.firstId];
    invariant(chunk !== undefined, () => `entry bytes in dropped chunk ${id}`);
    return chunk.subarray(offset, offset + length);
  }

  /** Forgets every chunk before `id` (their views stay valid; the collector frees them). */
  dropBefore(id: number): void {
    const n = Math.min(id - this.firstId, this.chunks.length - 1);
    if (n <= 0) return;
    this.chunks.splice(0, n);
    this.firstId += n;
  }

  private open(need: number, last: Uint8Array | undefined): void {
    this.chunks.push(new Uint8Array(nextChunkBytes(last?.length, need)));
    this.used = 0;
  }
}

export class EntryColumns {
  private terms = new Float64Array(FIRST_ROWS);
  private kinds = new Uint8Array(FIRST_ROWS);
  private chunkIds = new Uint32Array(FIRST_ROWS);
  private offsets = new Uint32Array(FIRST_ROWS);
  private lengths = new Int32Array(FIRST_ROWS);
  private readonly bytes = new ByteChunks();
  /** Row k lives at slot head + k. */
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  term(row: number): number {
    return this.terms[this.head + row] as number;
  }

  /** The size of the entry's data, 0 when it has none. */
  dataBytes(row: number): number {
    return Math.max(0, this.lengths[this.head + row] as number);
  }

  /** A fresh LogEntry for row (the caller gives its index); data is a view into a chunk. */
  entry(row: number, index: number): LogEntry {
    invariant(row >= 0 && row < this.count, () => `row ${row} outside 0..${this.count - 1}`);
    const slot = this.head + row;
    const length = this.lengths[slot] as number;
    const data = length === NO_DATA ? null : this.bytes.view(this.chunkIds[slot] as number, this.offsets[slot] as number, length);
    return { index, term: this.terms[slot] as number, kind: KINDS[this.kinds[slot] as number] as LogEntry['kind'], data };
  }

  /** Appends a row holding a copy of the entry's term, kind and bytes. */
  push(entry: LogEntry): void {
    if (this.head + this.count === this.terms.length) this.makeRoom();
    const slot = this.head + this.count;
    this.terms[slot] = entry.term;
    this.kinds[slot] = KIND_CODE[entry.kind];
    if (entry.data === null) {
      this.chunkIds[slot] = this.bytes.currentId;
      this.offsets[slot] = 0;
      this.lengths[slot] = NO_DATA;
    } else {
      this.offsets[slot] = this.bytes.copy(entry.data);
      this.chunkIds[slot] = this.bytes.currentId;
      this.lengths[slot] = entry.data.length;
    }
    this.count++;
  }

  /** Keeps rows 0..length-1 (Raft §5.3: a conflicting suffix goes). */
  truncate(length: number): void {
    invariant(length >= 0 && length <= this.count, () => `truncate to ${length} of ${this.count} rows`);
    this.count = length;
  }

  /** Drops the first n rows (Raft §7: compaction), and the chunks only they pointed into. */
  dropFront(n: number): void {
    invariant(n >= 0 && n <= this.count, () => `drop ${n} of ${this.count} rows`);
    this.head += n;
    this.count -= n;
    this.bytes.dropBefore(this.count > 0 ? (this.chunkIds[this.head] as number) : this.bytes.currentId);
    if (this.count === 0) this.head = 0;
  }

  /**
   * Room for one more row: the rows move to the front of new columns, as large as these if half
   * their slots are free (rows dropped from the front), twice as large otherwise.
   */
  private makeRoom(): void {
    const capacity = this.terms.length;
    const size = this.count < capacity / 2 ? capacity : capacity * 2;
    const from = this.head;
    const to = this.head + this.count;
    this.terms = moved(this.terms, new Float64Array(size), from, to);
    this.kinds = moved(this.kinds, new Uint8Array(size), from, to);
    this.chunkIds = moved(this.chunkIds, new Uint32Array(size), from, to);
    this.offsets = moved(this.offsets, new Uint32Array(size), from, to);
    this.lengths = moved(this.lengths, new Int32Array(size), from, to);
    this.head = 0;
  }
}

/** Copies rows from..to-1 of `column` to the front of `into`, which is returned. */
function moved<T extends Float64Array | Uint8Array | Uint32Array | Int32Array>(column: T, into: T, from: number, to: number): T {
  into.set(column.subarray(from, to) as never);
  return into;
}
