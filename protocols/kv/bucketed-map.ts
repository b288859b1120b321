/**
 * The key-value data of the state machine, split into a fixed number of buckets by a hash of the
 * key, so that a snapshot can be read bucket by bucket while commands keep changing the state
 * (kv-cut.ts): before the first write to a bucket the snapshot has not read yet, the bucket is
 * pinned for it (its handles copied; the records they name stay as they are until it is read). A
 * write then costs at most one copy of one bucket's handles per snapshot, a few hundred even at a
 * million keys, and a snapshot never stops the replica (the stall that issue
 * "Fast off the happy path" measured at 272 ms with 100,000 keys came from copying and encoding
 * the whole map at once).
 *
 * 4,096 buckets: about 250 keys each at 1,000,000 keys (a copy of one is a few tens of
 * microseconds), and empty buckets cost nothing (they are created on first use).
 *
 * The pairs themselves are records outside the JavaScript heap (record-arena.ts: why, and what it
 * saves the garbage collector); a bucket is a small hash table of record handles (bucket-table.ts).
 * Each bucket iterates in insertion order, as a JavaScript Map does, so a state restored from its
 * snapshot's parts lists its entries in the same order as the original.
 */
import { BucketTable, pairsOf } from './bucket-table.js';
import { RecordArena } from './record-arena.js';

export const BUCKETS = 4096;

/** FNV-1a over the key's UTF-16 code units: cheap, deterministic, well spread for short keys. */
export function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function bucketOf(key: string): number {
  return hashOf(key) % BUCKETS;
}

export class BucketedMap {
  private readonly arena = new RecordArena();
  private readonly buckets: Array<BucketTable | undefined> = new Array(BUCKETS);
  private count = 0;
  /** Called with a bucket's number before it changes (set by an open snapshot cut). */
  beforeWrite: ((bucket: number) => void) | null = null;
  /**
   * Pinned buckets (see pin), each with the records its changes have let go since: they are freed
   * once the pinned copy has been read.
   */
  private readonly retired = new Map<number, number[]>();

  get size(): number {
    return this.count;
  }

  /** Bytes held outside the JavaScript heap for the records. */
  get recordBytes(): number {
    return this.arena.heldBytes;
  }

  get(key: string): string | undefined {
    const h = hashOf(key);
    return this.buckets[h % BUCKETS]?.get(key, h);
  }

  set(key: string, value: string): void {
    const h = hashOf(key);
    const b = h % BUCKETS;
    this.beforeWrite?.(b);
    let bucket = this.buckets[b];
    if (bucket === undefined) {
      bucket = new BucketTable(this.arena);
      this.buckets[b] = bucket;
    }
    if (bucket.set(key, h, value, this.retired.get(b) ?? null)) this.count++;
  }

  delete(key: string): boolean {
    const h = hashOf(key);
    const b = h % BUCKETS;
    const bucket = this.buckets[b];
    if (bucket === undefined || !bucket.has(key, h)) return false;
    this.beforeWrite?.(b);
    bucket.delete(key, h, this.retired.get(b) ?? null);
    this.count--;
    return true;
  }

  /** Bucket `b`'s entries, in insertion order, copied out of the records (empty if none). */
  bucketEntries(b: number): Array<[string, string]> {
    return this.buckets[b]?.entries() ?? [];
  }

  /** Replaces bucket `b`'s entries wholesale (a PBFT state transfer installs a fetched partition). */
  replaceBucket(b: number, entries: ReadonlyArray<readonly [string, string]>): void {
    this.beforeWrite?.(b);
    const old = this.buckets[b];
    this.count -= old?.size ?? 0;
    old?.freeAll(this.retired.get(b) ?? null);
    this.buckets[b] = undefined;
    if (entries.length === 0) return;
    const bucket = new BucketTable(this.arena);
    for (const [key, value] of entries) if (bucket.set(key, hashOf(key), value)) this.count++;
    this.buckets[b] = bucket;
  }

  /**
   * Pins bucket `b` as it is now, for a snapshot cut (kv-cut.ts): returns its records' handles in
   * order, and until readPinned or releaseAll no record among them is changed or reused. This
   * copies 4 bytes a pair; copying the pairs out as strings here would put every pair of a
   * 1,000,000-key state on the heap during a snapshot, since commands touch almost every bucket
   * before the cut reads it.
   */
  pin(b: number): Int32Array {
    this.retired.set(b, []);
    return this.buckets[b]?.liveHandles() ?? new Int32Array(0);
  }

  /** The pairs of a pinned copy as strings; then the bucket is released (its retired records freed). */
  readPinned(b: number, handles: Int32Array): Array<[string, string]> {
    const pairs = pairsOf(this.arena, handles);
    this.release(b);
    return pairs;
  }

  /** Releases every pinned bucket (a cut closed before reading them). */
  releaseAll(): void {
    for (const b of [...this.retired.keys()]) this.release(b);
  }

  private release(b: number): void {
    for (const handle of this.retired.get(b) ?? []) this.arena.free(handle);
    this.retired.delete(b);
  }

  clear(): void {
    this.retired.clear();
    this.buckets.fill(undefined);
    this.arena.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const bucket of this.buckets) if (bucket !== undefined) yield* bucket.entries();
  }
}
