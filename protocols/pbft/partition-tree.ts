/**
 * The partition tree of Castro and Liskov (TOCS 2002 §6.2): the leaves are the partitions'
 * digests (partitions.ts), each interior node is the digest of its children's digests, and the
 * checkpoint digest at n is the digest of (n, root). Changing a leaf makes its path to the root
 * dirty; `root()` recomputes only the dirty nodes, so a checkpoint costs O(changed partitions ×
 * depth), not O(state). A replica fetching state walks the tree top-down and descends only into
 * subtrees whose digests differ from its own (state-transfer.ts).
 *
 * Level 0 holds the leaves; level l has ceil(width(l-1) / FANOUT) nodes; the top level has one,
 * the root. Node (l, i) has the children (l-1, i*FANOUT) .. (l-1, (i+1)*FANOUT - 1) that exist.
 */
import { encodeValue } from './canonical.js';

export const FANOUT = 16;

type Digest = (bytes: Uint8Array) => string;

/** The number of nodes on each level, leaves first, root last. */
export function levelWidths(leaves: number): number[] {
  const widths = [leaves];
  while ((widths[widths.length - 1] as number) > 1) widths.push(Math.ceil((widths[widths.length - 1] as number) / FANOUT));
  return widths;
}

/** The digest of interior node (level, index) with these children's digests. */
export function nodeDigest(digest: Digest, level: number, index: number, children: readonly string[]): string {
  return digest(encodeValue(['pbft-node', level, index, children]));
}

/** The checkpoint digest at n: what 2f+1 signed Checkpoints certify (OSDI §4.3). */
export function checkpointDigest(digest: Digest, n: number, root: string): string {
  return digest(encodeValue(['pbft-checkpoint', n, root]));
}

/**
 * Trees whose leaves are all the same digest (the empty state every replica starts from), by the
 * digest function (known by its output for a fixed input) and the leaf: every replica, and every
 * restart in a simulation, would otherwise digest the same few hundred interior nodes again.
 */
const uniformTrees = new Map<string, string[][]>();
const PROBE = new TextEncoder().encode('pbft-partition-tree-probe');

export class PartitionTree {
  readonly widths: number[];
  /** levels[l][i]: the digest of node (l, i); levels[0] are the leaves. */
  private readonly levels: string[][];
  /** Per level ≥ 1, the nodes to recompute. */
  private readonly dirty: Array<Set<number>>;

  constructor(
    private readonly digest: Digest,
    leaves: readonly string[],
    /** Already computed levels (uniform()); absent: every interior node is computed on the first root(). */
    computed?: readonly (readonly string[])[],
  ) {
    this.widths = levelWidths(leaves.length);
    this.levels = computed?.map((level) => [...level]) ?? this.widths.map((w, l) => (l === 0 ? [...leaves] : new Array<string>(w).fill('')));
    this.dirty = this.widths.map((w) => new Set(computed === undefined ? Array.from({ length: w }, (_, i) => i) : []));
    this.dirty[0]?.clear();
  }

  /** A tree of `count` leaves that all have digest `leaf`, its interior computed once per process. */
  static uniform(digest: Digest, count: number, leaf: string): PartitionTree {
    const key = `${digest(PROBE)}|${count}|${leaf}`;
    const leaves = new Array<string>(count).fill(leaf);
    let levels = uniformTrees.get(key);
    if (levels === undefined) {
      const tree = new PartitionTree(digest, leaves);
      tree.root();
      levels = tree.levels.map((level) => [...level]);
      uniformTrees.set(key, levels);
    }
    return new PartitionTree(digest, leaves, levels);
  }

  get top(): number {
    return this.widths.length - 1;
  }

  leaf(p: number): string {
    return this.levels[0]?.[p] as string;
  }

  setLeaf(p: number, digest: string): void {
    const leaves = this.levels[0] as string[];
    if (leaves[p] === digest) return;
    leaves[p] = digest;
    if (this.top > 0) this.dirty[1]?.add(Math.floor(p / FANOUT));
  }

  /** Recomputes the dirty nodes bottom-up and returns the root. */
  root(): string {
    for (let l = 1; l <= this.top; l++) {
      const dirty = this.dirty[l] as Set<number>;
      for (const i of dirty) {
        const d = nodeDigest(this.digest, l, i, this.children(l, i));
        if (this.levels[l]?.[i] === d) continue;
        (this.levels[l] as string[])[i] = d;
        if (l < this.top) this.dirty[l + 1]?.add(Math.floor(i / FANOUT));
      }
      dirty.clear();
    }
    return this.levels[this.top]?.[0] as string;
  }

  /** An up-to-date copy: changing its leaves recomputes only their paths, and leaves this one alone. */
  clone(): PartitionTree {
    this.root();
    return new PartitionTree(this.digest, this.levels[0] as string[], this.levels);
  }

  /** Node (level, index)'s digest; call root() first so that it is up to date. */
  node(level: number, index: number): string {
    return this.levels[level]?.[index] as string;
  }

  /** The digests of node (level ≥ 1, index)'s children. */
  children(level: number, index: number): string[] {
    const below = this.levels[level - 1] as string[];
    return below.slice(index * FANOUT, Math.min(below.length, (index + 1) * FANOUT));
  }

  /** A copy of the interior levels (1 .. top), O(leaves / FANOUT): kept with each checkpoint. */
  interior(): string[][] {
    this.root();
    return this.levels.slice(1).map((level) => [...level]);
  }
}
