/**
 * Incremental checkpoints of the replicated state (Castro and Liskov, TOCS 2002 §6.2.1): every
 * change updates its partition's AdHash at once (O(1)); a checkpoint recomputes only the dirty
 * paths of the partition tree and keeps, copy-on-write, what it needs to answer for its state
 * later: the first old value of each key changed after it, and the old digest of each partition
 * changed after it. The paper's "checkpoint records" are exactly this: "copies of the partitions
 * modified since", here per key rather than per page, so a checkpoint costs O(what changed)
 * whatever the state's size.
 *
 * The state of partition p at checkpoint c is the live partition with the saved old values of
 * c and of every later checkpoint laid over it (earliest wins). Checkpoints are dropped once a
 * later one is stable (`stabilize`).
 */
import { invariant } from '../common/invariant.js';
import { adhashHex, EMPTY_ADHASH } from './adhash.js';
import { checkpointDigest, FANOUT, PartitionTree } from './partition-tree.js';
import { PARTITIONS, rehash, type PartitionEntry, type PartitionValue } from './partitions.js';

type Digest = (bytes: Uint8Array) => string;

/** The live contents of the partitions, read from the state machine (service-state.ts). */
export interface LiveState {
  entries(p: number): Iterable<PartitionEntry>;
  value(p: number, key: string): PartitionValue | undefined;
}

/** A checkpoint, and the old values of what changed after it (until the next checkpoint). */
interface Interval {
  sequence: number;
  digest: string;
  /** partition -> key -> its value at `sequence` (undefined: absent), for keys changed since. */
  undo: Map<number, Map<string, PartitionValue | undefined>>;
  /** partition -> its leaf digest at `sequence`, for partitions changed since. */
  leaves: Map<number, string>;
  /** The interior digests at `sequence` (levels 1 .. top of the tree). */
  interior: string[][];
}

export class StateCheckpoints {
  private readonly sums: bigint[] = new Array<bigint>(PARTITIONS).fill(0n);
  private readonly tree: PartitionTree;
  private readonly dirtyLeaves = new Set<number>();
  /** Oldest first: the stable checkpoint, then this replica's newer ones. Changes go to the last. */
  private intervals: Interval[] = [];

  constructor(
    private readonly digest: Digest,
    private readonly live: LiveState,
  ) {
    this.tree = PartitionTree.uniform(digest, PARTITIONS, EMPTY_ADHASH);
    this.reset(0);
  }

  // ---------------------------------------------------------------- changes (every apply)

  /** `key` of partition p goes from `before` to `after` (undefined: absent). O(1). */
  changed(p: number, key: string, before: PartitionValue | undefined, after: PartitionValue | undefined): void {
    const newest = this.intervals[this.intervals.length - 1] as Interval;
    if (!newest.leaves.has(p)) newest.leaves.set(p, this.tree.leaf(p));
    let undo = newest.undo.get(p);
    if (undo === undefined) newest.undo.set(p, (undo = new Map()));
    if (!undo.has(key)) undo.set(key, before);
    this.sums[p] = rehash(this.digest, this.sums[p] as bigint, p, key, before, after);
    this.dirtyLeaves.add(p);
  }

  // ---------------------------------------------------------------- checkpoints

  /** OSDI §4.3 / TOCS §6.2.1: the checkpoint at n, O(changed partitions); returns its digest. */
  checkpoint(n: number): string {
    const digest = checkpointDigest(this.digest, n, this.refresh());
    this.intervals.push({ sequence: n, digest, undo: new Map(), leaves: new Map(), interior: this.tree.interior() });
    return digest;
  }

  has(n: number): boolean {
    return this.interval(n) !== undefined;
  }

  digestAt(n: number): string | null {
    return this.interval(n)?.digest ?? null;
  }

  /** The live root, brought up to date. */
  /** The root the live state would have with these leaf digests in place (a copy of the tree: only their paths are recomputed). */
  rootWithLeaves(leaves: ReadonlyMap<number, string>): string {
    this.refresh();
    const copy = this.tree.clone();
    for (const [p, d] of leaves) copy.setLeaf(p, d);
    return copy.root();
  }

  refresh(): string {
    for (const p of this.dirtyLeaves) this.tree.setLeaf(p, adhashHex(this.sums[p] as bigint));
    this.dirtyLeaves.clear();
    return this.tree.root();
  }

  /** The live tree's node (level, index) digest (leaves at level 0); call refresh() first. */
  liveNode(level: number, index: number): string {
    return this.tree.node(level, index);
  }

  get widths(): readonly number[] {
    return this.tree.widths;
  }

  liveSum(p: number): bigint {
    return this.sums[p] as bigint;
  }

  /** Leaf p's digest at checkpoint n: the digest saved by the first change after n, else live. */
  leafAt(n: number, p: number): string {
    for (const iv of this.from(n)) {
      const saved = iv.leaves.get(p);
      if (saved !== undefined) return saved;
    }
    this.refresh();
    return this.tree.leaf(p);
  }

  /** The children's digests of node (level ≥ 1, index) at checkpoint n (a Meta reply). */
  childrenAt(n: number, level: number, index: number): string[] {
    const width = this.widths[level - 1] as number;
    const out: string[] = [];
    for (let c = index * FANOUT; c < Math.min(width, (index + 1) * FANOUT); c++) {
      out.push(level === 1 ? this.leafAt(n, c) : ((this.interval(n) as Interval).interior[level - 2]?.[c] as string));
    }
    return out;
  }

  /** Partition p as it was at checkpoint n, sorted by key (so every correct replica pages it alike). */
  partitionAt(n: number, p: number): PartitionEntry[] {
    const entries = new Map<string, PartitionValue>(this.live.entries(p));
    for (const iv of [...this.from(n)].reverse()) {
      for (const [key, value] of iv.undo.get(p) ?? []) {
        if (value === undefined) entries.delete(key);
        else entries.set(key, value);
      }
    }
    return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Checkpoint n is stable: returns, for every key changed between the previous stable
   * checkpoint and n, its value at n (what must be persisted), and drops the older checkpoints.
   */
  stabilize(n: number): Array<{ p: number; key: string; value: PartitionValue | undefined }> {
    const at = this.intervals.findIndex((iv) => iv.sequence === n);
    invariant(at >= 0, () => `pbft: no checkpoint at ${n} to make stable`);
    const changed = new Map<number, Set<string>>();
    for (const iv of this.intervals.slice(0, at)) {
      for (const [p, undo] of iv.undo) {
        let keys = changed.get(p);
        if (keys === undefined) changed.set(p, (keys = new Set()));
        for (const key of undo.keys()) keys.add(key);
      }
    }
    const out: Array<{ p: number; key: string; value: PartitionValue | undefined }> = [];
    for (const [p, keys] of changed) for (const key of keys) out.push({ p, key, value: this.valueAt(n, p, key) });
    this.intervals = this.intervals.slice(at);
    return out;
  }

  /** Keys changed since the oldest checkpoint kept (the stable one), per partition. */
  changedSinceStable(): Map<number, Set<string>> {
    const out = new Map<number, Set<string>>();
    for (const iv of this.intervals) {
      for (const [p, undo] of iv.undo) {
        let keys = out.get(p);
        if (keys === undefined) out.set(p, (keys = new Set()));
        for (const key of undo.keys()) keys.add(key);
      }
    }
    return out;
  }

  /**
   * Starts over with the live state as the only checkpoint, at n (genesis, a restart, a state
   * transfer). `sums`: partitions whose contents were replaced wholesale, with their AdHash.
   */
  reset(n: number, sums: ReadonlyMap<number, bigint> = new Map()): string {
    for (const [p, sum] of sums) {
      if (this.sums[p] === sum) continue; // unchanged (most partitions of a small state: empty)
      this.sums[p] = sum;
      this.dirtyLeaves.add(p);
    }
    this.intervals = [];
    return this.checkpoint(n);
  }

  private valueAt(n: number, p: number, key: string): PartitionValue | undefined {
    for (const iv of this.from(n)) {
      const undo = iv.undo.get(p);
      if (undo?.has(key) === true) return undo.get(key);
    }
    return this.live.value(p, key);
  }

  private interval(n: number): Interval | undefined {
    return this.intervals.find((iv) => iv.sequence === n);
  }

  /** The checkpoint at n and every later one, oldest first. */
  private *from(n: number): Iterable<Interval> {
    for (const iv of this.intervals) if (iv.sequence >= n) yield iv;
  }
}
