/**
 * The normal case of PBFT (OSDI §4.2): the primary assigns sequence numbers to batches of
 * requests and multicasts PrePrepares (batched as the BFT library does, TOCS §5.1.4); replicas
 * prepare, commit, and execute committed batches in sequence-number order. This part owns the
 * primary's queue and the numbers assigned and executed; the votes live in each Slot (../slot.ts),
 * which casts this replica's own.
 */
import { invariant } from '../../common/invariant.js';
import type { KvResult } from '../../kv/commands.js';
import { requestSize } from '../canonical.js';
import type { Slot } from '../slot.js';
import type { Batch, ClientRequest, Commit, PrePrepare, Prepare } from '../types.js';
import type { NewViewDecision } from '../view-change.js';
import { requestKey } from './client-requests.js';
import type { ReplicaContext } from './context.js';
import type { ReplicaParts } from './parts.js';
import { BatchReplies } from './replies.js';

export class NormalCase {
  /** The last n executed here (every n' <= it executed, or installed by state transfer). */
  private executedThrough = 0;
  /** The primary's last assigned n. */
  private assignedThrough = 0;
  /** The primary's requests waiting for a batch, and those assigned and not yet executed. */
  private queue: ClientRequest[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  /**
   * Our own Commits not yet durable: made since the last ready() (`unsent`), and in the Ready
   * being persisted (`inReady`). A replica's own Commit counts toward committed-local only once
   * it is durable, i.e. once it could have reached the others (see ownCommitDurable).
   */
  private ownCommitsUnsent: Array<{ n: number; view: number }> = [];
  private ownCommitsInReady: Array<{ n: number; view: number }> = [];

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly parts: ReplicaParts,
  ) {}

  get lastExecuted(): number {
    return this.executedThrough;
  }

  get lastAssigned(): number {
    return this.assignedThrough;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The primary queues a request for its next batch (once: not queued, in flight or executed). */
  enqueue(request: ClientRequest): void {
    const key = requestKey(request);
    if (this.queued.has(key) || this.inFlight.has(key) || this.parts.requests.cachedResult(request) !== null) return;
    if (this.queue.length >= this.ctx.maxPending) return;
    this.queued.add(key);
    this.queue.push(request);
  }

  /**
   * OSDI §4.2: n within the watermarks; TOCS §5.1.4: batches wait while `maxBatchesInFlight` are
   * in progress (unless a full one is ready), so a loaded primary sends fewer, larger batches.
   */
  canPropose(): boolean {
    const { views, checkpoints } = this.parts;
    if (this.queue.length === 0 || !views.isPrimary || views.changing || this.lastAssigned >= checkpoints.highWatermark) return false;
    return this.lastAssigned - this.lastExecuted < this.ctx.maxBatchesInFlight || this.queue.length >= this.ctx.config.maxBatchRequests;
  }

  /** The primary batches pending requests into PrePrepares, many n in flight within H (TOCS §5.1.4). */
  proposeBatches(): void {
    const { ctx, parts } = this;
    while (this.canPropose()) {
      const batch = this.cutBatch();
      const n = ++this.assignedThrough;
      const digest = ctx.digestOf(batch);
      for (const r of batch) this.inFlight.add(requestKey(r));
      parts.retransmission.saw(n);
      const s = ctx.log.slot(n);
      const prePrepare = s.castPrePrepare(parts.views.view, digest, batch, ctx.self);
      s.touched = ctx.ticks;
      ctx.log.changed(n);
      ctx.out.sendTo(ctx.others, prePrepare);
      this.advanceSlot(s);
    }
  }

  private cutBatch(): Batch {
    let bytes = 0;
    let count = 0;
    for (const r of this.queue) {
      const size = requestSize(r);
      if (count > 0 && (count >= this.ctx.config.maxBatchRequests || bytes + size > this.ctx.config.maxBatchBytes)) break;
      bytes += size;
      count++;
    }
    // One splice per batch: the queue holds at most maxPendingRequests requests.
    const batch = this.queue.splice(0, count);
    for (const r of batch) this.queued.delete(requestKey(r));
    return batch;
  }

  /**
   * OSDI §4.2: a backup accepts a pre-prepare if it is in view v, the signature/MAC is right, the
   * digest matches the batch, it has not accepted a pre-prepare for (v, n) with a different
   * digest, and h < n <= H. It then multicasts a Prepare.
   */
  onPrePrepare(m: PrePrepare): void {
    const { ctx, parts } = this;
    parts.retransmission.sawSequence(m.sequence);
    if (parts.views.changing || m.view !== parts.views.view || m.replica !== ctx.primaryOf(m.view)) return ctx.invalid();
    if (!parts.checkpoints.inWindow(m.sequence)) return ctx.invalid();
    if (ctx.digestOf(m.batch) !== m.digest) return ctx.invalid();
    const s = ctx.log.slot(m.sequence);
    if (s.view === m.view && s.digest !== null) {
      if (s.digest !== m.digest) return ctx.invalid(); // never two digests for one (v, n)
      if (s.sentPrepare) ctx.out.sendTo([m.replica], s.ownPrepare(ctx.self)); // a retransmission
      return;
    }
    s.acceptPrePrepare(m.view, m.digest, m.batch);
    s.touched = ctx.ticks;
    this.prepare(s);
    this.advanceSlot(s);
  }

  /** This replica's Prepare for the pre-prepare the slot accepted, to everyone (OSDI §4.2). */
  prepare(s: Slot): void {
    const prepare = s.castPrepare(this.ctx.self);
    this.ctx.log.changed(s.sequence);
    this.ctx.out.sendTo(this.ctx.others, prepare);
  }

  /** OSDI §4.2: accept a Prepare from a backup in view v within the watermarks. */
  onPrepare(m: Prepare): void {
    const { ctx, parts } = this;
    parts.retransmission.sawSequence(m.sequence);
    if (parts.views.changing || m.view !== parts.views.view) return parts.retransmission.helpOtherView(m);
    if (m.replica === ctx.primaryOf(m.view) || !parts.checkpoints.inWindow(m.sequence)) return ctx.invalid();
    const s = ctx.log.slot(m.sequence);
    s.enterView(m.view);
    if (s.prepares.has(m.replica)) return parts.retransmission.helpLagging(s, m.replica);
    s.prepares.set(m.replica, m.digest);
    this.advanceSlot(s);
  }

  /** OSDI §4.2: accept a Commit in view v within the watermarks. */
  onCommit(m: Commit): void {
    const { ctx, parts } = this;
    parts.retransmission.sawSequence(m.sequence);
    if (parts.views.changing || m.view !== parts.views.view) return parts.retransmission.helpOtherView(m);
    if (!parts.checkpoints.inWindow(m.sequence)) return ctx.invalid();
    const s = ctx.log.slot(m.sequence);
    s.enterView(m.view);
    if (s.commits.has(m.replica)) return parts.retransmission.helpLagging(s, m.replica);
    s.commits.set(m.replica, m.digest);
    this.advanceSlot(s);
  }

  /** prepared -> multicast Commit (OSDI §4.2); committed-local -> execute in order. */
  advanceSlot(s: Slot): void {
    const { ctx } = this;
    if (!s.sentCommit && s.prepared(ctx.f, ctx.primaryOf(s.view))) {
      const commit = s.castCommit(ctx.self);
      this.ownCommitsUnsent.push({ n: s.sequence, view: s.view });
      ctx.log.changed(s.sequence);
      ctx.out.sendTo(ctx.others, commit);
    }
    if (s.sequence === this.lastExecuted + 1) this.executeReady();
  }

  /** ready(): the Commits made so far are in the Ready being persisted. */
  commitsHandedOut(): void {
    this.ownCommitsInReady = this.ownCommitsUnsent;
    this.ownCommitsUnsent = [];
  }

  /** advance(): the Ready is durable (and sent): our own Commits in it now count. */
  commitsDurable(): void {
    const durable = this.ownCommitsInReady;
    this.ownCommitsInReady = [];
    for (const { n, view } of durable) this.ownCommitDurable(n, view);
  }

  /**
   * committed-local (OSDI §4.2) counts 2f+1 Commits "possibly including its own". Ours counts
   * once it is durable, as everyone else's does (a Commit reaches us only after its sender
   * persisted it). Counted earlier, a replica could execute on the strength of a Commit it then
   * loses in a crash, together with the prepared certificate behind it: its ViewChange would
   * report nothing prepared at n, a new view could assign n another batch, and the same replica
   * would have executed two batches at n (seed 3001169; README, Durability).
   */
  private ownCommitDurable(n: number, view: number): void {
    const s = this.ctx.log.get(n);
    if (s === undefined || s.view !== view || !s.sentCommit || s.digest === null) return;
    s.commits.set(this.ctx.self, s.digest);
    this.advanceSlot(s);
  }

  /**
   * OSDI §4.2: execute the batch at n once committed-local and every n' < n has executed; or
   * once f+1 replicas reported it committed (a Fetch answer, state-transfers.ts).
   */
  executeReady(): void {
    const { ctx, parts } = this;
    for (;;) {
      const n = this.lastExecuted + 1;
      const s = ctx.log.get(n);
      if (s !== undefined && s.digest !== null && s.batch !== null && s.committedLocal(ctx.f, ctx.primaryOf(s.view))) {
        this.execute(n, s.digest, s.batch);
        continue;
      }
      const fetched = parts.transfers.fetchedBatch(n);
      if (fetched !== null && parts.checkpoints.inWindow(n)) {
        this.execute(n, fetched.digest, fetched.batch);
        continue;
      }
      return;
    }
  }

  private execute(n: number, digest: string, batch: Batch): void {
    const { ctx, parts } = this;
    invariant(n === this.lastExecuted + 1, () => `pbft: executing ${n} after ${this.lastExecuted}`);
    const replies = new BatchReplies(ctx, parts.views.view);
    for (const request of batch) {
      const result = this.applyRequest(request);
      ctx.out.executed.push({ request, result, sequence: n });
      ctx.stats.executedRequests++;
      if (parts.requests.size > 0 || this.inFlight.size > 0) {
        const key = requestKey(request);
        parts.requests.executed(key);
        this.inFlight.delete(key);
      }
      replies.add(request, result);
    }
    replies.finish();
    ctx.log.slot(n).markExecuted(digest, batch);
    ctx.log.changed(n);
    this.executedThrough = n;
    ctx.out.executedBatches.push({ sequence: n, digest });
    parts.requests.restartTimerOnProgress();
    if (n % ctx.K === 0) parts.checkpoints.take(n);
  }

  /** Applies one request through its session (exactly-once); its partitions' digests follow. */
  private applyRequest(request: ClientRequest): KvResult {
    return this.ctx.state.apply(request.operation, { clientId: request.clientId, seq: request.seq });
  }

  /** A restart re-executes the batches executed after the stable checkpoint, silently (replies were sent). */
  replayExecuted(): void {
    for (;;) {
      const n = this.lastExecuted + 1;
      const executed = this.ctx.log.executedBatch(n);
      if (executed === undefined) break;
      for (const request of executed.batch) this.applyRequest(request);
      this.executedThrough = n;
      if (n % this.ctx.K === 0) this.parts.checkpoints.take(n);
    }
  }

  /** A view change starts (OSDI §4.4): nothing is being ordered any more. */
  forgetProposals(): void {
    this.inFlight.clear();
    this.queue = [];
    this.queued.clear();
  }

  /**
   * The new primary continues after the highest n its NewView chose (TOCS §4.5.3); the chosen
   * batches' requests are in flight, and it queues everything else it waits for.
   */
  becomePrimary(decision: NewViewDecision, maxN: number): void {
    const { ctx, parts } = this;
    this.assignedThrough = Math.max(maxN, parts.checkpoints.lastStable);
    this.inFlight.clear();
    for (const c of decision.chosen) {
      const s = ctx.log.get(c.sequence);
      if (s === undefined || s.executed !== null || s.batch === null) continue;
      for (const r of s.batch) this.inFlight.add(requestKey(r));
    }
    for (const request of parts.requests.requests()) this.enqueue(request);
  }

  /** A checkpoint became stable at h: a primary's new n start above h (OSDI §4.3). */
  stableAt(h: number): void {
    if (this.parts.views.isPrimary && this.assignedThrough < h) this.assignedThrough = h;
  }

  /** State transfer installed the state at n (TOCS §6.2): everything up to n counts as executed. */
  installedState(n: number): void {
    this.executedThrough = n;
    this.inFlight.clear();
  }

  /** A restart: the stable checkpoint's state is loaded (everything up to h executed). */
  restoreExecuted(h: number): void {
    this.executedThrough = h;
  }

  /** A restart: n was assigned by this replica as primary of the current view (or n = h). */
  restoreAssigned(n: number): void {
    this.assignedThrough = Math.max(this.assignedThrough, n);
  }
}
