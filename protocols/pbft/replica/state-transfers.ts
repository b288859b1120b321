/**
 * State transfer at one PBFT replica (TOCS §6.2): a replica that learns of a stable checkpoint
 * beyond what it executed fetches that state (the partition-tree walk of ../state-transfer.ts,
 * served by ../state-transfer-server.ts), and a replica behind fetches the committed batches
 * after its checkpoint (Fetch / FetchReply, taken once f+1 replicas report the same one). This
 * part owns the transfer in progress (at most one), the last one's counts and the fetched batches'
 * votes; its messages are FetchMeta / Meta, FetchPartitions / PartitionChunk and FetchReply.
 */
import { invariant } from '../../common/invariant.js';
import { NO_AUTH } from '../auth.js';
import { decodeValue } from '../canonical.js';
import { checkpointDigest } from '../partition-tree.js';
import { BatchVotes, StateTransfer } from '../state-transfer.js';
import { metaReply, partitionChunks } from '../state-transfer-server.js';
import type { Batch, Checkpoint, FetchMeta, FetchPartitions, FetchReply, Meta, PartitionChunk } from '../types.js';
import { validCheckpointProof } from '../view-change.js';
import type { ReplicaContext } from './context.js';
import type { ReplicaParts } from './parts.js';

export class StateTransfers {
  private current: StateTransfer | null = null;
  private last: { sequence: number; metaNodes: number; partitions: number } | null = null;
  /** Committed batches fetched after h, by the replicas that reported them (FetchReply). */
  private readonly batchVotes: BatchVotes;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly parts: ReplicaParts,
  ) {
    this.batchVotes = new BatchVotes(ctx.f + 1);
  }

  get active(): boolean {
    return this.current !== null;
  }

  /** What the last state transfer fetched (tests): tree nodes and leaf partitions. */
  lastTransfer(): { sequence: number; metaNodes: number; partitions: number } | null {
    return this.last;
  }

  /** The batch f+1 replicas reported committed at n, or null. */
  fetchedBatch(n: number): { digest: string; batch: Batch } | null {
    return this.batchVotes.decided(n);
  }

  /** Garbage collection below a stable checkpoint (OSDI §4.3). */
  discardUpTo(h: number): void {
    this.batchVotes.discardUpTo(h);
  }

  /** Fetch the state of the stable checkpoint (n, digest), certified by `proof`, from `source`. */
  start(n: number, digest: string, proof: Checkpoint[], source: number, request = true): void {
    const { ctx } = this;
    if (n <= this.parts.normal.lastExecuted) return;
    if (this.current !== null && this.current.sequence >= n) return;
    const from = source === ctx.self ? (ctx.self + 1) % ctx.n : source;
    // Partitions verified for an older checkpoint are kept if the newer tree has the same digests.
    const carried = this.current?.verified();
    this.current = new StateTransfer(n, digest, proof, from, ctx.state.checkpoints.widths.length - 1, carried);
    if (request) this.request();
  }

  /** TOCS §6.2: asks the source for the next tree nodes (top-down) and the partitions that differ. */
  private request(): void {
    const st = this.current;
    if (st === null) return;
    if (st.done()) return this.finish(st);
    const { nodes, parts } = st.nextRequests();
    const base = { sequence: st.sequence, digest: st.digest, replica: this.ctx.self, auth: NO_AUTH };
    st.asked.add(st.source);
    if (nodes.length > 0) this.ctx.out.sendTo([st.source], { type: 'FetchMeta', ...base, nodes } satisfies FetchMeta);
    if (parts.length > 0) this.ctx.out.sendTo([st.source], { type: 'FetchPartitions', ...base, parts } satisfies FetchPartitions);
  }

  /** Serve the tree nodes of our stable checkpoint (TOCS §6.2). */
  onFetchMeta(m: FetchMeta): void {
    const { ctx, parts } = this;
    if (parts.checkpoints.lastStable === 0) return;
    const reply = metaReply(ctx.state.checkpoints, parts.checkpoints.stable(), m, ctx.self);
    if (reply !== null) ctx.out.sendTo([m.replica], reply);
  }

  /** Serve the partitions of our stable checkpoint (TOCS §6.2). */
  onFetchPartitions(m: FetchPartitions): void {
    const { ctx, parts } = this;
    if (parts.checkpoints.lastStable === 0) return;
    const chunks = partitionChunks(ctx.state.checkpoints, parts.checkpoints.stable(), m, ctx.maxTransferBytes, ctx.self);
    // Asked for an older checkpoint, which we no longer keep: our root, so that the asker moves on.
    const moved = chunks.length === 0 ? metaReply(ctx.state.checkpoints, parts.checkpoints.stable(), m, ctx.self) : null;
    for (const reply of moved === null ? chunks : [moved]) ctx.out.sendTo([m.replica], reply);
  }

  onMeta(m: Meta): void {
    const { ctx } = this;
    if (m.sequence <= this.parts.normal.lastExecuted) return;
    if (this.current === null || m.sequence > this.current.sequence) {
      if (!validCheckpointProof(m.sequence, m.digest, m.proof, ctx.rules)) return ctx.invalid();
      // A server that moved on answers with its newer root: take it as asked for.
      this.start(m.sequence, m.digest, m.proof, m.replica, false);
    }
    const st = this.current;
    // Each node verifies itself against the certified tree, so a late answer from an earlier
    // source counts too (on a lossy network the source may have changed since we asked).
    if (st === null || st.sequence !== m.sequence || st.digest !== m.digest) return;
    const live = ctx.state.checkpoints;
    live.refresh();
    const digest = (bytes: Uint8Array): string => ctx.crypto.digest(bytes);
    for (const node of m.nodes) if (!st.onNode(node, live.widths, live, digest)) return this.badSource(st, m.replica);
    this.answered(st);
  }

  onPartitionChunk(m: PartitionChunk): void {
    const st = this.current;
    // A whole partition in one chunk verifies itself (from anyone); the pieces of a larger one
    // are taken only from replicas we asked since the last progress, so that no one else can
    // spoil its assembly.
    const fromSource = st !== null && (m.replica === st.source || st.asked.has(m.replica));
    if (st === null || st.sequence !== m.sequence || st.digest !== m.digest || (!fromSource && m.offset !== 0)) return;
    let items: unknown;
    try {
      items = decodeValue(m.bytes);
    } catch {
      return this.badSource(st, m.replica);
    }
    if (!Array.isArray(items)) return this.badSource(st, m.replica);
    if (!fromSource && items.length !== m.total) return;
    if (st.onChunk(m.partition, m.offset, m.total, items, (bytes) => this.ctx.crypto.digest(bytes)) === 'invalid') return this.badSource(st, m.replica);
    this.answered(st);
  }

  /** One expected reply is in; once all are, the next requests (or the end) follow. */
  private answered(st: StateTransfer): void {
    st.outstanding = Math.max(0, st.outstanding - 1);
    if (st.outstanding === 0) this.request();
  }

  /** A replica sent what the certificate refutes: if it is our source, ask the next replica. */
  private badSource(st: StateTransfer, from: number): void {
    this.ctx.invalid();
    if (from !== st.source) return;
    st.source = this.nextSource(st.source);
    st.dropPartial();
    this.request();
  }

  /**
   * Every differing partition is in. The live state may have moved on while we fetched (we keep
   * executing): the root with the fetched partitions in place must be the certified one, else
   * walk the tree again (keeping what was fetched).
   */
  private finish(st: StateTransfer): void {
    const root = this.ctx.state.rootWith(st.fetchedLeaves());
    if (checkpointDigest((bytes) => this.ctx.crypto.digest(bytes), st.sequence, root) !== st.digest) {
      st.restartWalk();
      return this.request();
    }
    this.install(st);
  }

  private install(st: StateTransfer): void {
    const { ctx, parts } = this;
    ctx.out.persist.push(...ctx.state.install(st.sequence, st.fetched));
    invariant(ctx.state.checkpoints.digestAt(st.sequence) === st.digest, () => `pbft: replica ${ctx.self} installed a state at ${st.sequence} that is not the certified one`);
    this.last = { sequence: st.sequence, ...st.counts };
    this.current = null;
    ctx.stats.stateTransfers++;
    parts.normal.installedState(st.sequence);
    parts.requests.forgetExecuted();
    parts.requests.restartTimerOnProgress();
    parts.checkpoints.installed(st.sequence, st.digest, st.proof);
    parts.normal.executeReady();
  }

  private nextSource(current: number): number {
    let next = (current + 1) % this.ctx.n;
    if (next === this.ctx.self) next = (next + 1) % this.ctx.n;
    return next;
  }

  /** Committed batches after our h from a replica ahead, and its stable proof if ours is older. */
  onFetchReply(m: FetchReply): void {
    const { ctx, parts } = this;
    const st = m.stable;
    if (st !== null && st.sequence > parts.checkpoints.lastStable && validCheckpointProof(st.sequence, st.digest, st.proof, ctx.rules)) {
      // Beyond what we executed: fetch the state; otherwise our own checkpoint becomes stable.
      if (st.sequence > parts.normal.lastExecuted) this.start(st.sequence, st.digest, st.proof, m.replica);
      else parts.checkpoints.onStableCertificate(st.sequence, st.digest, st.proof);
    }
    for (const e of m.entries) {
      const lastExecuted = parts.normal.lastExecuted;
      if (e.sequence <= lastExecuted || e.sequence > lastExecuted + 2 * ctx.L) continue;
      if (ctx.digestOf(e.batch) !== e.digest) return ctx.invalid();
      this.batchVotes.add(e.sequence, e.digest, e.batch, m.replica);
    }
    parts.normal.executeReady();
  }

  /**
   * Retransmission: a transfer overtaken by executing is dropped; one without progress since the
   * last interval tries the next source (slow, lossy or lying). Partial partitions continue
   * there: correct replicas page a partition alike (sorted).
   */
  retransmit(): void {
    const st = this.current;
    if (st !== null && st.sequence <= this.parts.normal.lastExecuted) this.current = null;
    else if (st !== null) {
      if (st.progress === st.progressAtLastRetransmit) st.source = this.nextSource(st.source);
      else st.asked.clear();
      st.progressAtLastRetransmit = st.progress;
      this.request();
    }
  }
}
