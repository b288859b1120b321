/**
 * Retransmission and catching up (not in the OSDI text; the BFT library has it; README
 * Deviations "Retransmission" and "Catching up"): every `retransmitTicks` a replica resends what
 * it sent and may have been lost (its unfinished votes, ViewChange, pending Checkpoints, waiting
 * requests); it resends its votes to a replica that shows it lacks them (helpLagging,
 * helpOtherView); it answers Fetch with the committed batches it has; and a replica that saw
 * evidence of progress beyond its own (highestSeen) fetches what it missed (TOCS §6.2).
 */
import { NO_AUTH } from '../auth.js';
import { requestSize } from '../canonical.js';
import type { Slot } from '../slot.js';
import type { BatchEntry, Commit, Fetch, FetchReply, Prepare } from '../types.js';
import { FETCH_ENTRIES_MAX, type ReplicaContext } from './context.js';
import type { ReplicaParts } from './parts.js';

/** An idle replica probes for missed progress once every this many retransmission intervals. */
const PROBE_EVERY_RETRANSMITS = 8;

export class Retransmission {
  private sinceRetransmit = 0;
  private executedAtLastRetransmit = 0;
  private idleRetransmits = 0;
  /** The highest n this replica has evidence the cluster reached (see saw). */
  private highestSeen = 0;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly parts: ReplicaParts,
  ) {}

  /** One tick: every retransmitTicks, resend. */
  onTick(): void {
    if (++this.sinceRetransmit >= this.ctx.retransmitTicks) {
      this.sinceRetransmit = 0;
      this.retransmit();
    }
  }

  /**
   * Evidence that the cluster reached n: a pre-prepare this replica accepted or assigned, a NewView
   * it installed, a restored slot, a checkpoint f+1 replicas vouch for, or (with `limit` h + 2L)
   * a message of any view from a single replica (sawSequence). The one place highestSeen moves.
   */
  saw(n: number, limit = Infinity): void {
    if (n > this.highestSeen && n <= limit) this.highestSeen = n;
  }

  /**
   * An authenticated pre-prepare, prepare or commit for n, in any view: evidence that the others
   * are at n. A replica still in an older view (or view-changing, or with its window stuck below
   * n) drops the message, but learns it is behind and fetches the committed batches it misses
   * (fetchIfStuck, TOCS §6.2) instead of waiting for the next stable checkpoint. Bounded, so a
   * faulty replica can make us send at most one Fetch per retransmission interval.
   */
  sawSequence(n: number): void {
    this.saw(n, this.parts.checkpoints.lastStable + 2 * this.ctx.L);
  }

  /** Resend what may have been lost; every resent message is one the replica sent before. */
  private retransmit(): void {
    const { parts } = this;
    if (parts.views.changing) parts.views.retransmit();
    else this.resendSlots();
    parts.requests.resendRequests();
    parts.checkpoints.resendPending();
    this.fetchIfStuck();
    parts.transfers.retransmit();
  }

  /**
   * Our votes (and, as primary, PrePrepares) of this view for the n not yet committed-local in it.
   * That includes an n we executed in an earlier view: the new view chose it again, and the others
   * may need our votes of this view to complete it. Skipping executed slots once left two replicas
   * that had executed n (f of seven, too few to vouch for it in a Fetch answer) each lacking the
   * other's Prepare of the new view, neither resending, and the other three waiting forever
   * (seed 62954458).
   */
  private resendSlots(): void {
    const { ctx, parts } = this;
    const primary = parts.views.isPrimary;
    for (const s of ctx.log.values()) {
      if (s.view !== parts.views.view || s.digest === null || ctx.ticks - s.touched < ctx.retransmitTicks) continue;
      if (s.committedLocal(ctx.f, ctx.primaryOf(s.view))) continue; // others lagging ask (helpLagging)
      if (primary) ctx.out.sendTo(ctx.others, s.ownPrePrepare(ctx.self));
      if (s.sentPrepare) ctx.out.sendTo(ctx.others, s.ownPrepare(ctx.self));
      if (s.sentCommit) ctx.out.sendTo(ctx.others, s.ownCommit(ctx.self));
    }
  }

  /**
   * A replica resent its Prepare or Commit: it resends only while it is not committed-local
   * (resendSlots), so it may be missing votes we sent before, even if its own Commit reached us
   * (and we may have executed n long ago, so our retransmission skips the slot). Send ours again
   * to it, whichever we sent, at most once per retransmission interval, so two replicas cannot
   * keep answering each other. Our Prepare alone matters too: in a new view a replica that
   * executed n in an earlier one prepares n again, and its lost Prepare may be the one the
   * others lack (seed 3001389: two of the five correct replicas of seven had executed n, and
   * without their Prepares nobody else could prepare it in the new view).
   */
  helpLagging(s: Slot, to: number): void {
    const { ctx } = this;
    if (s.digest === null || (!s.sentPrepare && !s.sentCommit)) return;
    const last = s.helpedAt.get(to) ?? -Infinity;
    if (ctx.ticks - last < ctx.retransmitTicks) return;
    s.helpedAt.set(to, ctx.ticks);
    if (s.sentPrepare) ctx.out.sendTo([to], s.ownPrepare(ctx.self));
    if (s.sentCommit) ctx.out.sendTo([to], s.ownCommit(ctx.self));
  }

  /**
   * A vote for a view we are not collecting in (we moved on, or are changing views): we drop it
   * (OSDI §4.4), but if we voted in that view at n we send our votes again. The sender resends
   * while it lacks votes, and ours may be the one lost: a replica that committed n, then started a
   * view change, stopped retransmitting, and the others, quiet and still in the old view, could
   * never complete n (seed 1531473542).
   */
  helpOtherView(m: Prepare | Commit): void {
    const s = this.ctx.log.get(m.sequence);
    if (s !== undefined && s.view === m.view && s.digest === m.digest && this.parts.checkpoints.inWindow(m.sequence)) this.helpLagging(s, m.replica);
  }

  /** Committed batches from `from` on, capped; plus the stable proof if `from` is below it. */
  onFetch(m: Fetch): void {
    const { ctx, parts } = this;
    const lastStable = parts.checkpoints.lastStable;
    const entries: BatchEntry[] = [];
    let bytes = 0;
    for (let k = Math.max(m.from, lastStable + 1); k <= parts.normal.lastExecuted && entries.length < FETCH_ENTRIES_MAX; k++) {
      const executed = ctx.log.executedBatch(k);
      if (executed === undefined) break;
      for (const r of executed.batch) bytes += requestSize(r);
      if (entries.length > 0 && bytes > ctx.maxTransferBytes) break;
      entries.push({ sequence: k, digest: executed.digest, batch: executed.batch });
    }
    // Our stable checkpoint's proof when the asker's is older: below it we have no batches to
    // give (state transfer), and at or above it the asker's window (h, h + L] may be too low to
    // execute what we send (OSDI §4.3: it cannot move h without 2f+1 Checkpoints, which nobody
    // resends once they are stable).
    const stable = (m.from <= lastStable || m.h < lastStable) && lastStable > 0 ? parts.checkpoints.stable() : null;
    this.resendPrePreparesTo(m.replica, m.from);
    if (entries.length === 0 && stable === null) return;
    const reply: FetchReply = { type: 'FetchReply', entries, stable, replica: ctx.self, auth: NO_AUTH };
    ctx.out.sendTo([m.replica], reply);
  }

  /**
   * The primary answers a replica that asks for batches from n on with its PrePrepares of this
   * view from n on, as well (OSDI §4.2; resending our own message is always safe). A FetchReply's
   * batch is taken only once f+1 replicas report it, so when only f correct replicas executed n,
   * the asker can get n only by preparing it, and it cannot prepare without the PrePrepare it
   * lost in a crash; its Prepare may in turn be the one the others lack (seed 1809245894, 7
   * replicas: two correct ones executed n=8, the other three waited forever).
   */
  private resendPrePreparesTo(to: number, from: number): void {
    const { ctx, parts } = this;
    if (!parts.views.isPrimary || parts.views.changing || to === ctx.self) return;
    for (let k = Math.max(from, parts.checkpoints.lastStable + 1); k <= parts.normal.lastAssigned && k < from + FETCH_ENTRIES_MAX; k++) {
      const s = ctx.log.get(k);
      if (s === undefined || s.view !== parts.views.view || s.digest === null || s.batch === null) continue;
      ctx.out.sendTo([to], s.ownPrePrepare(ctx.self));
    }
  }

  /**
   * No progress while others are ahead: ask everyone for the committed batches after ours. A
   * replica that made no progress for a while (restarted, wiped, partitioned away from an idle
   * cluster) also asks now and then: it cannot know it is behind until someone tells it.
   */
  private fetchIfStuck(): void {
    const { ctx, parts } = this;
    const lastExecuted = parts.normal.lastExecuted;
    const idle = lastExecuted === this.executedAtLastRetransmit;
    this.idleRetransmits = idle ? this.idleRetransmits + 1 : 0;
    this.executedAtLastRetransmit = lastExecuted;
    const behind = this.highestSeen > lastExecuted && idle;
    if (!behind && this.idleRetransmits % PROBE_EVERY_RETRANSMITS !== 1) return;
    ctx.out.sendTo(ctx.others, { type: 'Fetch', from: lastExecuted + 1, h: parts.checkpoints.lastStable, replica: ctx.self, auth: NO_AUTH });
  }
}
