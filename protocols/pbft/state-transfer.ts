/**
 * State transfer (Castro and Liskov, TOCS 2002 §6.2): a replica that is behind fetches (1) the
 * state of a stable checkpoint, and (2) the committed batches after it, accepting a batch for n
 * only once f+1 distinct replicas reported the same digest (one of them is correct, and correct
 * replicas executed the same batch at n).
 *
 * (1) is the paper's partition-tree walk. The checkpoint digest, certified by 2f+1 signed
 * Checkpoints, is digest(n, root) (partition-tree.ts). The fetcher asks for the root's children
 * (FetchMeta), checks them against the certified digest, and descends only into the children
 * whose digests differ from its own live tree; at the leaves it fetches only the partitions that
 * differ (FetchPartitions), in chunks, and keeps one only if its AdHash is the certified leaf
 * digest. Everything used is thus checked against the certificate; a Byzantine source can only
 * waste a round trip before the fetcher moves to the next source.
 */
import { adhashHex } from './adhash.js';
import { checkpointDigest, FANOUT, nodeDigest } from './partition-tree.js';
import { fromWireItems, partitionHash, type PartitionEntry } from './partitions.js';
import type { VerifiedPartition } from './service-state.js';
import type { Batch, Checkpoint, TreeNodeRef } from './types.js';

/** Tree nodes asked for per FetchMeta (a Meta then carries at most this many × FANOUT digests). */
export const META_NODES_MAX = 64;
/** Partitions asked for per FetchPartitions (one PartitionChunk of maxTransferBytes comes back for each). */
export const PARTS_MAX = 16;
/** A partition claiming more items than this is a lie (4 billion keys would not fit in memory). */
const ITEMS_MAX = 50_000_000;

type Digest = (bytes: Uint8Array) => string;

/** What the fetcher compares against: its own live tree (state-checkpoints.ts). */
export interface LiveTree {
  readonly widths: readonly number[];
  liveNode(level: number, index: number): string;
}

export type Fetched = VerifiedPartition & { digest: string };

const nodeKey = (level: number, index: number): string => `${level}/${index}`;

export class StateTransfer {
  /** Nodes whose children we still need, with their certified digest (the root: null, see onMeta). */
  readonly wantMeta = new Map<string, { level: number; index: number; digest: string | null }>();
  /** Leaves that differ from ours, with their certified digests. */
  readonly wantLeaves = new Map<number, string>();
  /** Leaves being fetched: their items so far. */
  private readonly partial = new Map<number, { items: unknown[]; total: number }>();
  /** Complete leaves, verified against this checkpoint's tree. */
  readonly fetched = new Map<number, Fetched>();
  /** Leaves verified for an earlier checkpoint (or walk): used again if this tree has the same digest. */
  private carried: Map<number, Fetched>;
  /** Replies expected for the last requests; the next ones go out when they are all in. */
  outstanding = 0;
  progress = 0;
  progressAtLastRetransmit = -1;
  /**
   * Replicas asked since the last progress. A piece of a partition from any of them continues its
   * assembly (correct replicas page a partition alike), so an answer slower than the
   * retransmission interval still counts after the source moved on. Seed 342892138: a replica
   * whose disk took up to 20 ticks per Ready answered after the fetcher had already asked the
   * next one; every piece came from the previous source and was dropped, forever.
   */
  readonly asked = new Set<number>();
  /** For tests and status: tree nodes and partitions received. */
  readonly counts = { metaNodes: 0, partitions: 0 };

  constructor(
    readonly sequence: number,
    readonly digest: string,
    readonly proof: Checkpoint[],
    public source: number,
    private readonly top: number,
    carried: ReadonlyMap<number, Fetched> = new Map(),
  ) {
    this.carried = new Map(carried);
    this.restartWalk();
  }

  /** Walks the tree again from the root (the live state changed under a subtree we skipped). */
  restartWalk(): void {
    for (const [p, f] of this.fetched) this.carried.set(p, f);
    this.fetched.clear();
    this.wantLeaves.clear();
    this.partial.clear();
    this.wantMeta.clear();
    this.wantMeta.set(nodeKey(this.top, 0), { level: this.top, index: 0, digest: null });
  }

  /** Everything verified for this transfer, to carry into a transfer of a newer checkpoint. */
  verified(): Map<number, Fetched> {
    return new Map([...this.carried, ...this.fetched]);
  }

  done(): boolean {
    return this.wantMeta.size === 0 && this.wantLeaves.size === 0;
  }

  /** The next requests: tree nodes first, then partitions (continuing partial ones). */
  nextRequests(): { nodes: TreeNodeRef[]; parts: Array<{ partition: number; offset: number }> } {
    const nodes = [...this.wantMeta.values()].slice(0, META_NODES_MAX).map(({ level, index }) => ({ level, index }));
    const parts = [...this.wantLeaves.keys()].slice(0, PARTS_MAX).map((partition) => ({ partition, offset: this.partial.get(partition)?.items.length ?? 0 }));
    this.outstanding = (nodes.length > 0 ? 1 : 0) + parts.length;
    return { nodes, parts };
  }

  /**
   * A node's children: checked against its certified digest (the root's against the checkpoint
   * digest); then each child that differs from ours is wanted. False: the node is a lie.
   */
  onNode(node: TreeNodeRef & { children: string[] }, widths: readonly number[], live: LiveTree, digest: Digest): boolean {
    const want = this.wantMeta.get(nodeKey(node.level, node.index));
    if (want === undefined) return true; // not asked for (late, or a duplicate)
    const below = widths[node.level - 1] ?? 0;
    const count = Math.min(below, (node.index + 1) * FANOUT) - node.index * FANOUT;
    if (node.children.length !== count) return false;
    const d = nodeDigest(digest, node.level, node.index, node.children);
    if (want.digest === null ? checkpointDigest(digest, this.sequence, d) !== this.digest : d !== want.digest) return false;
    this.wantMeta.delete(nodeKey(node.level, node.index));
    this.counts.metaNodes++;
    this.progress++;
    node.children.forEach((child, k) => this.onChild(node.level - 1, node.index * FANOUT + k, child, live));
    return true;
  }

  private onChild(level: number, index: number, certified: string, live: LiveTree): void {
    if (level > 0) {
      if (live.liveNode(level, index) !== certified) this.wantMeta.set(nodeKey(level, index), { level, index, digest: certified });
      return;
    }
    const carried = this.carried.get(index);
    this.carried.delete(index);
    if (carried !== undefined && carried.digest === certified) this.fetched.set(index, carried);
    else if (live.liveNode(0, index) !== certified) this.wantLeaves.set(index, certified);
  }

  /**
   * Items `offset` .. of a wanted partition. 'invalid': the chunk contradicts itself or the
   * certified digest (the partition is dropped and asked again, elsewhere).
   */
  onChunk(partition: number, offset: number, total: number, items: unknown[], digest: Digest): 'ok' | 'invalid' {
    const certified = this.wantLeaves.get(partition);
    if (certified === undefined) return 'ok';
    const part = this.partial.get(partition) ?? { items: [], total };
    if (offset !== part.items.length) return 'ok'; // late or repeated
    if (total !== part.total || total > ITEMS_MAX || part.items.length + items.length > total || (items.length === 0 && total > offset)) {
      this.partial.delete(partition);
      return 'invalid';
    }
    part.items.push(...items);
    this.partial.set(partition, part);
    this.progress++;
    if (part.items.length < total) return 'ok';
    this.partial.delete(partition);
    const entries = fromWireItems(partition, part.items);
    const sum = entries === null ? null : partitionHash(digest, partition, entries);
    if (entries === null || sum === null || adhashHex(sum) !== certified) return 'invalid'; // someone lied: start it over
    this.wantLeaves.delete(partition);
    this.fetched.set(partition, { entries: entries as PartitionEntry[], sum, digest: certified });
    this.counts.partitions++;
    return 'ok';
  }

  /** Leaf digests of the fetched partitions, for the final check of the whole root. */
  fetchedLeaves(): Map<number, string> {
    return new Map([...this.fetched].map(([p, f]) => [p, f.digest]));
  }

  /** Drops partial partitions (after a lie: which source's pieces were wrong is unknown). */
  dropPartial(): void {
    this.partial.clear();
  }
}

/** f+1 matching reports of the batch committed at n (TOCS §6.2: "f+1 ... same digest"). */
export class BatchVotes {
  private readonly votes = new Map<number, Map<string, { voters: Set<number>; batch: Batch }>>();

  constructor(private readonly needed: number) {}

  add(sequence: number, digest: string, batch: Batch, from: number): void {
    let byDigest = this.votes.get(sequence);
    if (byDigest === undefined) {
      byDigest = new Map();
      this.votes.set(sequence, byDigest);
    }
    for (const [d, v] of byDigest) if (d !== digest && v.voters.has(from)) return; // one vote per replica
    const entry = byDigest.get(digest) ?? { voters: new Set<number>(), batch };
    entry.voters.add(from);
    byDigest.set(digest, entry);
  }

  decided(sequence: number): { digest: string; batch: Batch } | null {
    const byDigest = this.votes.get(sequence);
    if (byDigest === undefined) return null;
    for (const [digest, v] of byDigest) if (v.voters.size >= this.needed) return { digest, batch: v.batch };
    return null;
  }

  discardUpTo(sequence: number): void {
    for (const n of this.votes.keys()) if (n <= sequence) this.votes.delete(n);
  }

  get size(): number {
    return this.votes.size;
  }
}
