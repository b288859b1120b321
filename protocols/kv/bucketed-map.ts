/**
 * The key-value data of the state machine, split into a fixed number of buckets by a hash of the
 * key, so that a snapshot can be read bucket by bucket while commands keep changing the state
 * (kv-cut.ts): before the first write to a bucket the snapshot has not read yet, the bucket is
 * copied for it. A write then costs at most one copy of one bucket per snapshot, a few hundred
 * entries even at a million keys, and a snapshot never stops the replica (the stall that issue
 * "Fast off the happy path" measured at 272 ms with 100,000 keys came from copying and encoding
 * the whole map at once).
 *
 * 4,096 buckets: about 250 keys each at 1,000,000 keys (a copy of one is a few tens of
 * microseconds), and empty buckets cost nothing (they are created on first use).
 */

export const BUCKETS = 4096;

/** FNV-1a over the key's UTF-16 code units: cheap, deterministic, well spread for short keys. */
export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

export class BucketedMap {
  private readonly buckets: Array<Map<string, string> | undefined> = new Array(BUCKETS);
  private count = 0;
  /** Called with a bucket's number before it changes (set by an open snapshot cut). */
  beforeWrite: ((bucket: number) => void) | null = null;

  get size(): number {
    return this.count;
  }

  get(key: string): string | undefined {
    return this.buckets[bucketOf(key)]?.get(key);
  }

  set(key: string, value: string): void {
    const b = bucketOf(key);
    this.beforeWrite?.(b);
    let bucket = this.buckets[b];
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets[b] = bucket;
    }
    const before = bucket.size;
    bucket.set(key, value);
    this.count += bucket.size - before;
  }

  delete(key: string): boolean {
    const b = bucketOf(key);
    const bucket = this.buckets[b];
    if (bucket === undefined || !bucket.has(key)) return false;
    this.beforeWrite?.(b);
    bucket.delete(key);
    this.count--;
    return true;
  }

  /** The live bucket `b` (undefined when empty and never used); callers must not change it. */
  bucket(b: number): ReadonlyMap<string, string> | undefined {
    return this.buckets[b];
  }

  /** Replaces bucket `b`'s entries wholesale (a PBFT state transfer installs a fetched partition). */
  replaceBucket(b: number, entries: ReadonlyArray<readonly [string, string]>): void {
    this.beforeWrite?.(b);
    this.count -= this.buckets[b]?.size ?? 0;
    this.buckets[b] = entries.length === 0 ? undefined : new Map(entries);
    this.count += this.buckets[b]?.size ?? 0;
  }

  clear(): void {
    this.buckets.fill(undefined);
    this.count = 0;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const bucket of this.buckets) if (bucket !== undefined) yield* bucket;
  }
}
