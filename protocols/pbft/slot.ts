/**
 * What a replica knows about one sequence number n (OSDI §4.2, TOCS §4.5): the pre-prepare it
 * accepted in the current certificate's view, the matching Prepares and Commits from distinct
 * replicas, and, across views, the P and Q information a ViewChange reports. The slot also casts
 * this replica's own votes for n (castPrePrepare, castPrepare, castCommit) and builds them again
 * for retransmission (ownPrePrepare, ownPrepare, ownCommit), so a vote is always the one recorded.
 */
import { NO_AUTH } from './auth.js';
import type { Batch, Commit, PrePrepare, Prepare } from './types.js';

export class Slot {
  /** View of the certificate being collected (the last view in which this slot saw traffic). */
  view = -1;
  /** Digest and batch of the pre-prepare accepted in `view`, or null. */
  digest: string | null = null;
  batch: Batch | null = null;
  /** replica -> digest of its Prepare / Commit in `view` (one per replica: the first one). */
  readonly prepares = new Map<number, string>();
  readonly commits = new Map<number, string>();
  sentPrepare = false;
  sentCommit = false;
  /** P: the latest view in which this replica prepared n, and the digest (TOCS §4.5). */
  pView = -1;
  pDigest = '';
  /** Q: digest -> latest view in which this replica pre-prepared it (TOCS §4.5). */
  readonly q = new Map<string, number>();
  /** Batches known for this n, by digest (P/Q evidence and the accepted pre-prepare). */
  readonly batches = new Map<string, Batch>();
  /** Digest of the batch executed at n, once executed. */
  executed: string | null = null;
  /** Digests whose batch is already on disk (so GC knows what to delete). */
  readonly persistedBatches = new Set<string>();
  /** Tick at which this slot last got a pre-prepare (retransmission waits a while after it). */
  touched = 0;
  /** replica -> tick we last resent our votes to it (helpLagging rate limit). */
  readonly helpedAt = new Map<number, number>();

  constructor(readonly sequence: number) {}

  /** Moves the certificate to view v (> view), forgetting the old view's votes (OSDI §4.4). */
  enterView(v: number): void {
    if (v <= this.view) return;
    this.view = v;
    this.digest = null;
    this.batch = null;
    this.prepares.clear();
    this.commits.clear();
    this.sentPrepare = false;
    this.sentCommit = false;
    this.helpedAt.clear();
  }

  /** Accepts the pre-prepare (v, n, d) with its batch; records it in Q (TOCS §4.5). */
  acceptPrePrepare(v: number, digest: string, batch: Batch): void {
    this.enterView(v);
    this.digest = digest;
    this.batch = batch;
    this.batches.set(digest, batch);
    const seen = this.q.get(digest) ?? -1;
    if (v > seen) this.q.set(digest, v);
    this.trimQ();
  }

  /** The primary assigns n to `batch` in view v (OSDI §4.2): its PrePrepare, accepted by itself. */
  castPrePrepare(v: number, digest: string, batch: Batch, self: number): PrePrepare {
    this.acceptPrePrepare(v, digest, batch);
    return this.ownPrePrepare(self);
  }

  /** A backup accepted the pre-prepare: its Prepare, counted among the prepares (OSDI §4.2). */
  castPrepare(self: number): Prepare {
    this.sentPrepare = true;
    this.prepares.set(self, this.digest as string);
    return this.ownPrepare(self);
  }

  /** prepared(m, v, n, i) holds: the P entry (TOCS §4.5) and the Commit (OSDI §4.2). */
  castCommit(self: number): Commit {
    this.markPrepared(this.view, this.digest as string);
    this.sentCommit = true;
    return this.ownCommit(self);
  }

  /** The primary's PrePrepare for the accepted (v, n, d), again (retransmission). */
  ownPrePrepare(self: number): PrePrepare {
    return { type: 'PrePrepare', view: this.view, sequence: this.sequence, digest: this.digest as string, batch: this.batch ?? [], replica: self, auth: NO_AUTH };
  }

  ownPrepare(self: number): Prepare {
    return { type: 'Prepare', view: this.view, sequence: this.sequence, digest: this.digest as string, replica: self, auth: NO_AUTH };
  }

  ownCommit(self: number): Commit {
    return { type: 'Commit', view: this.view, sequence: this.sequence, digest: this.digest as string, replica: self, auth: NO_AUTH };
  }

  /** OSDI §4.2: executed `batch` (digest d) at n; the batch stays known for Fetch answers. */
  markExecuted(digest: string, batch: Batch): void {
    this.executed = digest;
    this.batches.set(digest, batch);
  }

  /**
   * prepared(m, v, n, i) (OSDI §4.2): the pre-prepare for m in v at n and 2f Prepares from
   * distinct backups (never the primary) that match it.
   */
  prepared(f: number, primary: number): boolean {
    if (this.digest === null) return false;
    let matching = 0;
    for (const [replica, digest] of this.prepares) {
      if (replica !== primary && digest === this.digest) matching++;
    }
    return matching >= 2 * f;
  }

  /** committed-local(m, v, n, i) (OSDI §4.2): prepared and 2f+1 matching Commits (possibly its own). */
  committedLocal(f: number, primary: number): boolean {
    if (!this.prepared(f, primary)) return false;
    let matching = 0;
    for (const digest of this.commits.values()) if (digest === this.digest) matching++;
    return matching >= 2 * f + 1;
  }

  /** Records that this replica prepared (digest) in view v: the P entry (TOCS §4.5). */
  markPrepared(v: number, digest: string): void {
    if (v >= this.pView) {
      this.pView = v;
      this.pDigest = digest;
    }
  }

  /** Q holds at most a few views per n (TOCS §4.5 bounds it); keep the latest ones. */
  private trimQ(): void {
    while (this.q.size > 4) {
      let oldest: string | null = null;
      let oldestView = Infinity;
      for (const [d, v] of this.q) {
        if (v < oldestView && d !== this.pDigest) {
          oldest = d;
          oldestView = v;
        }
      }
      if (oldest === null) return;
      this.q.delete(oldest);
      if (oldest !== this.digest) this.batches.delete(oldest);
    }
  }
}
