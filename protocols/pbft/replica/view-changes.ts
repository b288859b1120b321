/**
 * View changes at one PBFT replica (OSDI §4.4, §4.5.2; TOCS §4.5): the view it is in, whether it
 * is changing views, the view-change timer (../view-timer.ts), the latest ViewChange of every
 * replica, and the NewView it installed. A replica whose timer expires moves to v+1 and
 * multicasts a signed ViewChange (h and its proof, P, Q); the new primary decides once its
 * ViewChanges allow it (../view-change.ts, conditions A1, A2, A3 and B) and multicasts a signed
 * NewView; backups recompute the decision before they enter the view. Batches not carried are
 * fetched by view-change-batches.ts.
 */
import { NO_AUTH } from '../auth.js';
import { batchWireBytesMax } from '../canonical.js';
import type { ViewRecord } from '../records.js';
import type { Slot } from '../slot.js';
import type { Batch, BatchEntry, Batches, FetchBatches, NewView, PersistRecord, ViewChange } from '../types.js';
import { decideNewView, validViewChange, verifyNewView, type NewViewDecision } from '../view-change.js';
import { ViewTimer } from '../view-timer.js';
import { RESEND_CAP } from './client-requests.js';
import type { ReplicaContext } from './context.js';
import type { ReplicaParts } from './parts.js';
import { ViewChangeBatches } from './view-change-batches.js';

/** The view-change timeout doubles per consecutive view change up to T * 2^5 (README Deviations). */
const MAX_BACKOFF_DOUBLINGS = 5;

export class ViewChanges {
  private current = 0;
  /** In a view change to `view`: normal-case messages are not accepted (OSDI §4.4). */
  private inViewChange = false;
  readonly timer: ViewTimer;
  /** The view record changed: persist it with the next Ready. */
  private dirty = false;
  /** Each replica's latest valid ViewChange (bounded: one per replica). */
  private readonly viewChanges = new Map<number, ViewChange>();
  private myViewChange: ViewChange | null = null;
  private lastNewView: NewView | null = null;
  private readonly newViewSentAt = new Map<number, number>();
  private readonly batches: ViewChangeBatches;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly parts: ReplicaParts,
  ) {
    this.timer = new ViewTimer(ctx.config.requestTimeoutTicks, MAX_BACKOFF_DOUBLINGS);
    this.batches = new ViewChangeBatches(ctx);
  }

  /** v: the view this replica is in (or changing to). */
  get view(): number {
    return this.current;
  }

  get changing(): boolean {
    return this.inViewChange;
  }

  /** primary(v) of the current view. */
  get primary(): number {
    return this.ctx.primaryOf(this.view);
  }

  get isPrimary(): boolean {
    return this.primary === this.ctx.self;
  }

  /** OSDI §4.4: the request timer expired while waiting: move to the next view. */
  onTimerExpired(): void {
    if (this.changing || this.parts.requests.size > 0) this.startViewChange(this.view + 1);
  }

  /** OSDI §4.4: move to view v, stop accepting normal-case messages, multicast a ViewChange. */
  private startViewChange(v: number): void {
    const { ctx, parts } = this;
    if (v <= this.view && !(v === this.view && !this.changing)) return;
    this.current = v;
    this.inViewChange = true;
    this.dirty = true;
    ctx.stats.viewChanges++;
    this.timer.viewChangeStarted();
    this.timer.stop(); // OSDI §4.5.2: the timer for v starts once 2f+1 ViewChanges for v arrived
    parts.normal.forgetProposals();
    this.batches.forget();
    const vc = ctx.auth.sign(this.buildViewChange(v));
    this.myViewChange = vc;
    ctx.out.persist.push({ key: 'vc', value: vc });
    ctx.out.sendSigned(ctx.others, vc);
    this.viewChanges.set(ctx.self, vc);
    this.maybeStartViewChangeTimer();
    if (ctx.primaryOf(v) === ctx.self) this.tryNewView();
  }

  /**
   * OSDI §4.5.2 liveness rule 1: a replica that sent a ViewChange for v starts its timer only once
   * 2f+1 replicas are in view change for v, so replicas do not drift through views one after the
   * other. We count ViewChanges for v or later (we keep only each replica's latest one): a
   * replica already beyond v will not come back, and waiting for it would wait forever.
   */
  private maybeStartViewChangeTimer(): void {
    if (!this.changing || this.timer.running) return;
    let count = 0;
    for (const vc of this.viewChanges.values()) if (vc.view >= this.view) count++;
    if (count >= 2 * this.ctx.f + 1) this.timer.start();
  }

  /** TOCS §4.5: h and its proof, P (prepared) and Q (pre-prepared) for h < n <= h + L. */
  private buildViewChange(v: number): ViewChange {
    const { ctx, parts } = this;
    const prepared: ViewChange['prepared'] = [];
    const prePrepared: ViewChange['prePrepared'] = [];
    const batches: BatchEntry[] = [];
    let budget = ctx.maxCarriedBytes;
    const ns = [...ctx.log.sequences()].filter((k) => parts.checkpoints.inWindow(k)).sort((a, b) => a - b);
    for (const n of ns) {
      const s = ctx.log.get(n) as Slot;
      if (s.pView >= 0) {
        prepared.push({ sequence: n, digest: s.pDigest, view: s.pView });
        // Batches up to the carried bound; the new primary fetches the others (FetchBatches).
        const batch = s.batches.get(s.pDigest);
        const bytes = batch === undefined ? 0 : batchWireBytesMax(batch);
        if (batch !== undefined && bytes <= budget) {
          budget -= bytes;
          batches.push({ sequence: n, digest: s.pDigest, batch });
        }
      }
      for (const [digest, view] of s.q) prePrepared.push({ sequence: n, digest, view });
    }
    const stable = parts.checkpoints.stable();
    return {
      type: 'ViewChange',
      view: v,
      h: stable.sequence,
      checkpointDigest: stable.digest,
      checkpointProof: stable.proof,
      prepared,
      prePrepared,
      batches,
      replica: ctx.self,
      auth: NO_AUTH,
    };
  }

  onViewChange(vc: ViewChange): void {
    const { ctx } = this;
    if (!validViewChange(vc, ctx.rules)) return ctx.invalid();
    const stripped = { ...vc, batches: vc.batches.filter((b) => ctx.digestOf(b.batch) === b.digest) };
    if (vc.view < this.view || (vc.view === this.view && !this.changing)) return this.forwardNewView(vc.replica, vc.view);
    const prev = this.viewChanges.get(vc.replica);
    if (prev !== undefined && prev.view >= vc.view) return;
    this.viewChanges.set(vc.replica, stripped);
    this.maybeJoinViewChange();
    this.maybeStartViewChangeTimer();
    if (this.changing && vc.view === this.view && this.isPrimary) this.tryNewView();
  }

  /** OSDI §4.5.2: f+1 ViewChanges for views above ours: join the smallest of them. */
  private maybeJoinViewChange(): void {
    const f = this.ctx.f;
    const higher: number[] = [];
    for (const [replica, vc] of this.viewChanges) if (replica !== this.ctx.self && vc.view > this.view) higher.push(vc.view);
    if (higher.length < f + 1) return;
    higher.sort((a, b) => a - b);
    // The smallest view among the f+1 highest claims (so at least one correct replica is there).
    const target = higher[higher.length - (f + 1)] as number;
    if (target > this.view) this.startViewChange(target);
  }

  /** A replica behind us asked for a view we already installed: forward the signed NewView. */
  private forwardNewView(to: number, view: number): void {
    const nv = this.lastNewView;
    if (nv === null || nv.view < view) return;
    const last = this.newViewSentAt.get(to) ?? -Infinity;
    if (this.ctx.ticks - last < this.ctx.retransmitTicks) return;
    this.newViewSentAt.set(to, this.ctx.ticks);
    this.ctx.out.sendSigned([to], nv);
  }

  /** TOCS §4.5.2: the new primary decides once its ViewChanges allow it, then multicasts NewView. */
  private tryNewView(): void {
    const { ctx } = this;
    const S = [...this.viewChanges.values()].filter((vc) => vc.view === this.view);
    if (S.length < 2 * ctx.f + 1) return;
    S.sort((a, b) => a.replica - b.replica);
    const carriedInS = new Map<string, Batch>();
    for (const vc of S) for (const b of vc.batches) carriedInS.set(b.digest, b.batch);
    const find = (d: string, n: number): Batch | undefined => carriedInS.get(d) ?? this.batches.known(d, n);
    const decision = decideNewView(S, ctx.f, ctx.nullDigest, (d, n) => find(d, n) !== undefined);
    if (decision === null) {
      // Perhaps only A3 is missing: fetch the prepared batches the ViewChanges did not carry.
      const wanted: Array<{ sequence: number; digest: string }> = [];
      for (const vc of S) for (const e of vc.prepared) if (e.digest !== ctx.nullDigest && find(e.digest, e.sequence) === undefined) wanted.push(e);
      return this.batches.fetch(wanted, ctx.others);
    }
    const resolved = new Map<string, Batch>();
    const carried: BatchEntry[] = [];
    let budget = ctx.maxCarriedBytes;
    for (const c of decision.chosen) {
      if (c.digest === ctx.nullDigest || resolved.has(c.digest)) continue;
      const batch = find(c.digest, c.sequence) as Batch;
      resolved.set(c.digest, batch);
      // Up to the carried bound; backups fetch the others from us (FetchBatches) before installing.
      const bytes = batchWireBytesMax(batch);
      if (bytes > budget) continue;
      budget -= bytes;
      carried.push({ sequence: c.sequence, digest: c.digest, batch });
    }
    const nv = ctx.auth.sign<NewView>({
      type: 'NewView',
      view: this.view,
      viewChanges: S.map((vc) => ({ ...vc, batches: [] })),
      h: decision.h,
      chosen: decision.chosen,
      batches: carried,
      replica: ctx.self,
      auth: NO_AUTH,
    });
    ctx.out.sendSigned(ctx.others, nv);
    this.installNewView(nv, decision, resolved);
  }

  /** TOCS §4.5.3: a backup accepts a NewView after recomputing its decision from its ViewChanges. */
  onNewView(nv: NewView): void {
    const { ctx, parts } = this;
    if (nv.replica !== ctx.primaryOf(nv.view)) return ctx.invalid();
    if (nv.view < this.view || (nv.view === this.view && !this.changing)) return;
    const carried = new Map<string, Batch>();
    for (const b of nv.batches) if (ctx.digestOf(b.batch) === b.digest) carried.set(b.digest, b.batch);
    const chosenAt = new Map(nv.chosen.map((c) => [c.sequence, c.digest]));
    const decision = verifyNewView(nv, ctx.rules, ctx.nullDigest, (d, n) => chosenAt.get(n) === d);
    if (decision === null) return ctx.invalid();
    const resolved = new Map<string, Batch>();
    const missing: Array<{ sequence: number; digest: string }> = [];
    for (const c of decision.chosen) {
      if (c.digest === ctx.nullDigest || c.sequence <= parts.checkpoints.lastStable) continue;
      const batch = carried.get(c.digest) ?? this.batches.known(c.digest, c.sequence);
      if (batch === undefined) missing.push(c);
      else resolved.set(c.digest, batch);
    }
    if (missing.length > 0) {
      // Not carried (the NewView is bounded): fetch them (the primary has them all), then install.
      this.batches.waitFor(nv, missing);
      return this.batches.fetch(missing, [nv.replica, ...ctx.others.filter((k) => k !== nv.replica)]);
    }
    this.installNewView(nv, decision, resolved);
  }

  onFetchBatches(m: FetchBatches): void {
    this.batches.onFetchBatches(m);
  }

  /** Fetched batches arrived: retry the NewView waiting for them, or, as new primary, the decision. */
  onBatches(m: Batches): void {
    if (!this.batches.onBatches(m)) return;
    const pending = this.batches.takePending();
    if (pending !== null) this.onNewView(pending);
    else if (this.changing && this.isPrimary) this.tryNewView();
  }

  /** Enter view v: adopt the checkpoint, pre-prepare every chosen n in v, send Prepares (TOCS §4.5.3). */
  private installNewView(nv: NewView, decision: NewViewDecision, batches: Map<string, Batch>): void {
    const { ctx, parts } = this;
    this.current = nv.view;
    this.inViewChange = false;
    this.dirty = true;
    this.lastNewView = nv;
    ctx.out.persist.push({ key: 'nv', value: nv });
    this.batches.forget();
    for (const [replica, vc] of this.viewChanges) if (vc.view <= nv.view) this.viewChanges.delete(replica);
    this.timer.stop();
    parts.requests.startRequestTimer();
    parts.checkpoints.adopt(decision);
    let maxN = decision.h;
    for (const c of decision.chosen) {
      maxN = Math.max(maxN, c.sequence);
      if (c.sequence <= parts.checkpoints.lastStable) continue;
      const batch = c.digest === ctx.nullDigest ? [] : (batches.get(c.digest) as Batch);
      const s = ctx.log.slot(c.sequence);
      s.acceptPrePrepare(nv.view, c.digest, batch);
      s.touched = ctx.ticks;
      ctx.log.changed(c.sequence);
      if (!this.isPrimary) parts.normal.prepare(s);
    }
    parts.retransmission.saw(maxN);
    if (this.isPrimary) parts.normal.becomePrimary(decision, maxN);
    else parts.requests.relayWaiting(RESEND_CAP);
    for (const c of decision.chosen) {
      const s = ctx.log.get(c.sequence);
      if (s !== undefined) parts.normal.advanceSlot(s);
    }
  }

  /** Retransmission in a view change: our ViewChange again; the decision or the NewView retried. */
  retransmit(): void {
    const { ctx } = this;
    if (this.myViewChange !== null && this.myViewChange.view === this.view) ctx.out.sendSigned(ctx.others, this.myViewChange);
    if (this.isPrimary) this.tryNewView();
    const pending = this.batches.takePending();
    if (pending !== null) this.onNewView(pending); // asks again for the batches still missing
  }

  /** The `view` record, if it changed since the last Ready. */
  collectPersist(out: PersistRecord[]): void {
    if (!this.dirty) return;
    const record: ViewRecord = { view: this.view, viewChanging: this.changing, consecutive: this.timer.consecutive };
    out.push({ key: 'view', value: record });
    this.dirty = false;
  }

  get hasChanges(): boolean {
    return this.dirty;
  }

  /** A restart: the `view`, `vc` and `nv` records (../records.ts). */
  loadView(v: ViewRecord): void {
    this.current = v.view;
    this.inViewChange = v.viewChanging;
    this.timer.consecutive = v.consecutive;
  }

  loadViewChange(vc: ViewChange): void {
    this.myViewChange = vc;
  }

  loadNewView(nv: NewView): void {
    this.lastNewView = nv;
  }

  /** After the records are loaded: our own ViewChange counts among those for our view. */
  loaded(): void {
    if (this.myViewChange !== null && this.myViewChange.view === this.view) this.viewChanges.set(this.ctx.self, this.myViewChange);
  }
}
