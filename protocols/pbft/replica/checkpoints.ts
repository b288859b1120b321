/**
 * Checkpoints and garbage collection (OSDI §4.3): after executing n = k*K a replica digests its
 * state and multicasts a signed Checkpoint; 2f+1 matching ones make it stable (their proof). The
 * stable checkpoint is the low watermark h, H = h + L bounds the sequence numbers accepted, and
 * the log at and below h is discarded. This part owns h with its digest and proof, this
 * replica's own checkpoints above h, and the Checkpoints collected from the others.
 */
import { invariant } from '../../common/invariant.js';
import { NO_AUTH } from '../auth.js';
import { CheckpointCollector } from '../checkpoint-collector.js';
import type { CheckpointRecord } from '../records.js';
import type { StableCheckpoint } from '../state-transfer-server.js';
import type { Checkpoint } from '../types.js';
import type { NewViewDecision } from '../view-change.js';
import type { ReplicaContext } from './context.js';
import type { ReplicaParts } from './parts.js';

interface OwnCheckpointMessage {
  digest: string;
  message: Checkpoint;
}

export class Checkpoints {
  /** h: the last stable checkpoint, with its state digest and 2f+1 signed Checkpoints. */
  private h = 0;
  private stableDigest: string;
  private stableProof: Checkpoint[] = [];
  /** This replica's checkpoints not yet discarded (at and above h). */
  private readonly own = new Map<number, OwnCheckpointMessage>();
  private readonly collector: CheckpointCollector;
  /** Checkpoints computed by executing (a node times them; state transfer installs, not computes). */
  private takenCount = 0;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly parts: ReplicaParts,
  ) {
    this.stableDigest = ctx.genesisDigest;
    this.collector = new CheckpointCollector(2 * ctx.f + 1);
  }

  get lastStable(): number {
    return this.h;
  }

  get taken(): number {
    return this.takenCount;
  }

  /** OSDI §4.2: "the sequence number n is between a low water mark, h, and a high water mark, H". */
  inWindow(n: number): boolean {
    return n > this.lastStable && n <= this.highWatermark;
  }

  /** H = h + L (OSDI §4.3). */
  get highWatermark(): number {
    return this.lastStable + this.ctx.L;
  }

  stable(): StableCheckpoint {
    return { sequence: this.lastStable, digest: this.stableDigest, proof: this.stableProof };
  }

  /** The state digest of this replica's own checkpoint at n, if it still has it. */
  digestAt(n: number): string | null {
    if (n === this.lastStable) return this.stableDigest;
    return this.own.get(n)?.digest ?? null;
  }

  /**
   * OSDI §4.3: after executing n = k*K, digest the state and multicast a signed Checkpoint. The
   * digest is incremental (TOCS §6.2.1, state-checkpoints.ts): O(partitions changed since the
   * last checkpoint), and the checkpoint keeps copy-on-write what it needs to serve its state.
   */
  take(n: number): void {
    const { ctx } = this;
    const digest = ctx.state.checkpoints.checkpoint(n);
    const message = ctx.auth.sign<Checkpoint>({ type: 'Checkpoint', sequence: n, digest, replica: ctx.self, auth: NO_AUTH });
    this.own.set(n, { digest, message });
    this.takenCount++;
    ctx.out.checkpoints.push({ sequence: n, digest });
    ctx.out.sendSigned(ctx.others, message);
    this.collect(message);
  }

  onCheckpoint(c: Checkpoint): void {
    if (c.sequence % this.ctx.K !== 0 || c.sequence === 0) return this.ctx.invalid();
    this.collect(c);
  }

  private collect(c: Checkpoint): void {
    if (c.sequence <= this.lastStable) return;
    const proof = this.collector.add(c);
    // Behind only as far as f+1 replicas vouch (one is correct): one Checkpoint at a made-up
    // sequence number would otherwise have us Fetch, unanswered, every retransmission interval.
    this.parts.retransmission.saw(this.collector.vouchedSequence(this.ctx.f + 1));
    if (proof !== null) this.onStableCertificate(c.sequence, c.digest, proof);
  }

  /** 2f+1 matching signed Checkpoints: stable if we have that state, else fetch it (TOCS §6.2). */
  onStableCertificate(n: number, digest: string, proof: Checkpoint[]): void {
    const { ctx, parts } = this;
    if (n <= this.lastStable) return;
    if (n > parts.normal.lastExecuted) return parts.transfers.start(n, digest, proof, proof[0]?.replica ?? ctx.others[0] ?? 0);
    const own = this.own.get(n);
    if (own === undefined) return;
    // 2f+1 signers include f+1 correct replicas: a correct replica's state cannot differ.
    invariant(own.digest === digest, () => `pbft: replica ${ctx.self} state at ${n} diverges from the stable checkpoint`);
    this.makeStable(n, digest, proof);
  }

  /** TOCS §4.5.3: the NewView's checkpoint: stable if we have its state, else fetch it. */
  adopt(d: NewViewDecision): void {
    const { parts } = this;
    if (d.h <= this.lastStable) return;
    const own = this.own.get(d.h);
    const lastExecuted = parts.normal.lastExecuted;
    if (d.h <= lastExecuted && own !== undefined && own.digest === d.hDigest) this.makeStable(d.h, d.hDigest, d.hProof);
    else if (d.h > lastExecuted) parts.transfers.start(d.h, d.hDigest, d.hProof, d.hProof[0]?.replica ?? parts.views.primary);
  }

  /** TOCS §6.2: the state at n was installed by state transfer: it is our checkpoint, stable. */
  installed(n: number, digest: string, proof: Checkpoint[]): void {
    const { ctx } = this;
    const message = ctx.auth.sign<Checkpoint>({ type: 'Checkpoint', sequence: n, digest, replica: ctx.self, auth: NO_AUTH });
    this.own.set(n, { digest, message });
    ctx.out.checkpoints.push({ sequence: n, digest });
    this.makeStable(n, digest, proof);
  }

  /**
   * OSDI §4.3: the checkpoint becomes stable; h moves up and the log below it is discarded. In
   * the same atomic batch as the `cp` record go the keys changed since the previous stable
   * checkpoint, with their values at n (service-state.ts): the disk then holds the state at n.
   */
  private makeStable(n: number, digest: string, proof: Checkpoint[]): void {
    const { ctx, parts } = this;
    this.h = n;
    this.stableDigest = digest;
    this.stableProof = proof;
    const record: CheckpointRecord = { sequence: n, digest, proof };
    ctx.out.persist.push({ key: 'cp', value: record }, ...ctx.state.stabilize(n));
    ctx.log.discardUpTo(n, ctx.out.persist);
    for (const k of this.own.keys()) if (k < n) this.own.delete(k);
    this.collector.discardUpTo(n);
    parts.transfers.discardUpTo(n);
    parts.normal.stableAt(n);
  }

  /** Retransmission: our Checkpoints above h (nobody resends them once they are stable). */
  resendPending(): void {
    for (const [n, own] of this.own) {
      if (n > this.lastStable) this.ctx.out.sendSigned(this.ctx.others, own.message);
    }
  }

  /** A restart: the stable checkpoint from its `cp` record and the state records beside it (service-state.ts). */
  load(cp: CheckpointRecord, records: ReadonlyArray<[string, unknown]>): void {
    const { ctx } = this;
    // Before incremental checkpoints a `cp` record held the whole state's bytes, digested whole:
    // that format is not read any more, and starting on it would be a digest mismatch.
    invariant(!('state' in cp), () => `pbft: replica ${ctx.self}: its data directory holds a checkpoint in the old whole-state format; wipe it (npm run cluster:pbft -- --fresh) and let state transfer fill it`);
    const digest = ctx.state.load(cp.sequence, records);
    invariant(digest === cp.digest, () => `pbft: replica ${ctx.self}: the persisted state does not match its checkpoint ${cp.sequence}`);
    this.h = cp.sequence;
    this.parts.normal.restoreExecuted(cp.sequence);
    this.stableDigest = cp.digest;
    this.stableProof = cp.proof;
  }
}
