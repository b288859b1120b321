/**
 * One bucket of the key-value data (bucketed-map.ts): a hash table of record handles
 * (record-arena.ts) that keeps insertion order, laid out like CPython's compact dict and V8's own
 * OrderedHashMap. Positions 0, 1, 2, ... hold the handles in the order their keys were first set
 * (a deleted one becomes a hole, HOLE); an index of twice as many slots, probed linearly, points
 * at positions. A full table is rebuilt without its holes, twice as large if more than half of it
 * is live.
 *
 * Everything is in typed arrays: three objects per bucket, however many keys it holds.
 */
import type { RecordArena } from './record-arena.js';

const HOLE = -1;
const FIRST_CAPACITY = 8;

/** Spreads the key's hash over the index (the low bits already chose the bucket). */
function probeStart(hash: number, mask: number): number {
  return (Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) >>> 0) & mask;
}

export class BucketTable {
  /** The record handle at each position, HOLE where its key was deleted. */
  private handles = new Int32Array(FIRST_CAPACITY);
  /** Each position's key hash (as a signed 32-bit integer), to skip most key comparisons. */
  private hashes = new Int32Array(FIRST_CAPACITY);
  /** Position + 1 in each slot; 0 is an empty slot. */
  private index = new Int32Array(2 * FIRST_CAPACITY);
  /** Positions used so far, holes included. */
  private used = 0;
  size = 0;

  constructor(private readonly arena: RecordArena) {}

  get(key: string, hash: number): string | undefined {
    const at = this.find(key, hash);
    return at < 0 ? undefined : this.arena.value(this.handles[at] as number);
  }

  has(key: string, hash: number): boolean {
    return this.find(key, hash) >= 0;
  }

  /**
   * Sets key to value; true if the key is new. With `retired`, the old record of an overwritten
   * key is left intact and its handle pushed there (an open cut still reads it), not reused.
   */
  set(key: string, hash: number, value: string, retired: number[] | null = null): boolean {
    const at = this.find(key, hash);
    if (at >= 0) {
      const old = this.handles[at] as number;
      if (retired === null) this.handles[at] = this.arena.replaceValue(old, key, value);
      else {
        retired.push(old);
        this.handles[at] = this.arena.add(key, value);
      }
      return false;
    }
    if (this.used === this.handles.length) this.rebuild(this.size * 2 > this.handles.length ? 2 * this.handles.length : this.handles.length);
    const position = this.used++;
    this.handles[position] = this.arena.add(key, value);
    this.hashes[position] = hash | 0;
    this.link(position, hash);
    this.size++;
    return true;
  }

  /** Deletes the key; true if it was there. `retired` as for set. */
  delete(key: string, hash: number, retired: number[] | null = null): boolean {
    const at = this.find(key, hash);
    if (at < 0) return false;
    if (retired === null) this.arena.free(this.handles[at] as number);
    else retired.push(this.handles[at] as number);
    this.handles[at] = HOLE;
    this.size--;
    return true;
  }

  /** The pairs in insertion order, as strings. */
  entries(): Array<[string, string]> {
    return pairsOf(this.arena, this.liveHandles());
  }

  /** The records' handles in insertion order. */
  liveHandles(): Int32Array {
    const out = new Int32Array(this.size);
    let n = 0;
    for (let i = 0; i < this.used; i++) {
      const handle = this.handles[i] as number;
      if (handle !== HOLE) out[n++] = handle;
    }
    return out;
  }

  /** Frees every record (the table is being replaced), or retires them (see set). */
  freeAll(retired: number[] | null = null): void {
    for (let i = 0; i < this.used; i++) {
      const handle = this.handles[i] as number;
      if (handle === HOLE) continue;
      if (retired === null) this.arena.free(handle);
      else retired.push(handle);
    }
    this.used = 0;
    this.size = 0;
  }

  /** The position holding key, or -1. */
  private find(key: string, hash: number): number {
    const mask = this.index.length - 1;
    const signed = hash | 0;
    for (let slot = probeStart(hash, mask); ; slot = (slot + 1) & mask) {
      const entry = this.index[slot] as number;
      if (entry === 0) return -1;
      const at = entry - 1;
      const handle = this.handles[at] as number;
      if (handle !== HOLE && this.hashes[at] === signed && this.arena.keyEquals(handle, key)) return at;
    }
  }

  /** Points the first empty slot of hash's probe sequence at position. */
  private link(position: number, hash: number): void {
    const mask = this.index.length - 1;
    let slot = probeStart(hash, mask);
    while (this.index[slot] !== 0) slot = (slot + 1) & mask;
    this.index[slot] = position + 1;
  }

  /** Drops the holes, keeping the order, into tables of `capacity` positions. */
  private rebuild(capacity: number): void {
    const handles = new Int32Array(capacity);
    const hashes = new Int32Array(capacity);
    let n = 0;
    for (let i = 0; i < this.used; i++) {
      if (this.handles[i] === HOLE) continue;
      handles[n] = this.handles[i] as number;
      hashes[n] = this.hashes[i] as number;
      n++;
    }
    this.handles = handles;
    this.hashes = hashes;
    this.index = new Int32Array(2 * capacity);
    this.used = n;
    for (let i = 0; i < n; i++) this.link(i, (hashes[i] as number) >>> 0);
  }
}

/** The pairs of these records, as strings. */
export function pairsOf(arena: RecordArena, handles: Int32Array): Array<[string, string]> {
  const out: Array<[string, string]> = new Array(handles.length);
  for (let i = 0; i < handles.length; i++) {
    const handle = handles[i] as number;
    out[i] = [arena.key(handle), arena.value(handle)];
  }
  return out;
}
