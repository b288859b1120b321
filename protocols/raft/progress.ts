/**
 * A leader's view of one follower (Raft Figure 2, `nextIndex[]` and `matchIndex[]`), plus the
 * flow control that makes replication fast: a follower is either
 *
 * - `probe`: we do not know where its log matches ours; one AppendEntries at a time, waiting for
 *   the answer before the next (Raft §5.3: "decrements nextIndex and retries");
 * - `replicate`: its log matches up to matchIndex; AppendEntries are pipelined, nextIndex advances
 *   optimistically as they are sent, up to `maxInflightAppends` unacknowledged messages.
 *
 * - `snapshot`: the entries it needs are compacted away (Raft §7); the leader sends its snapshot
 *   in InstallSnapshot chunks, one at a time (the next once the previous is answered, or again on
 *   the heartbeat timeout, as a probe), from the chunk the follower last said it expects.
 *
 * A rejection sends the follower back to `probe`; an acceptance moves it to `replicate`; a
 * follower that acknowledges the whole snapshot goes to `probe` from just after it.
 */
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * What the leader should send this follower next: entries, an empty AppendEntries, a snapshot
 * chunk, or nothing.
 */
export type SendKind = 'entries' | 'empty' | 'snapshot' | null;

export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = 'probe';
  /**
   * Probe: an AppendEntries is out and unanswered, so we wait (or a heartbeat timeout passes).
   * Snapshot: likewise for the last InstallSnapshot chunk.
   */
  probeSent = false;
  /** Snapshot state: the lastIncludedIndex of the snapshot being sent. */
  snapshotIndex = 0;
  /** Snapshot state: the next chunk to send (what the follower said it expects). */
  snapshotChunk = 0;
  /** A heartbeat (or a ReadIndex round) must reach this follower in the next batch of sends. */
  heartbeatDue = false;
  /** Heard from during the current check-quorum period. */
  recentActive = false;
  /** Highest incarnation of the follower heard from (see RaftConfig.incarnation). */
  incarnation = 0;
  /** leaderCommit carried by the last message sent; a commit advance beyond it is news. */
  lastSentCommit = 0;
  readonly inflight: Inflights;

  constructor(nextIndex: number, maxInflightAppends: number) {
    this.nextIndex = nextIndex;
    this.inflight = new Inflights(maxInflightAppends);
  }

  /** Decides the next message; the leader calls this until it returns null. */
  nextSend(lastIndex: number, commitIndex: number): SendKind {
    if (this.state === 'snapshot') return this.probeSent ? null : 'snapshot';
    if (this.state === 'probe') {
      if (!this.probeSent && (this.nextIndex <= lastIndex || this.heartbeatDue)) return 'entries';
      return this.heartbeatDue ? 'empty' : null;
    }
    const room = !this.inflight.full();
    if (room && this.nextIndex <= lastIndex) return 'entries';
    if (this.heartbeatDue || (room && this.lastSentCommit < commitIndex)) return 'empty';
    return null;
  }

  /** An AppendEntries ending at `lastSent` went out. */
  onSent(lastSent: number, withEntries: boolean, commitIndex: number): void {
    this.heartbeatDue = false;
    this.lastSentCommit = commitIndex;
    if (!withEntries) return;
    if (this.state === 'probe' || this.state === 'snapshot') {
      this.probeSent = true;
    } else if (lastSent >= this.nextIndex) {
      this.nextIndex = lastSent + 1;
      this.inflight.add(lastSent);
    }
  }

  /**
   * The follower accepted an AppendEntries and matches us up to `matchIndex` (Raft Figure 2,
   * "If successful: update nextIndex and matchIndex for follower"). A match in our term stays true
   * for the rest of the term, so even a late acceptance is safe to use. Returns true if
   * matchIndex advanced.
   */
  onAccepted(matchIndex: number): boolean {
    const advanced = matchIndex > this.matchIndex;
    if (advanced) this.matchIndex = matchIndex;
    if (this.state === 'snapshot') {
      // A late acceptance: the follower needs the snapshot no more once it matches beyond it.
      if (this.matchIndex >= this.snapshotIndex) this.becomeReplicate();
    } else if (this.state === 'probe') {
      this.becomeReplicate();
    } else {
      this.inflight.freeUpTo(this.matchIndex);
      this.nextIndex = Math.max(this.nextIndex, this.matchIndex + 1);
    }
    return advanced;
  }

  /**
   * The follower's process restarted (a higher incarnation). With intact storage its log still
   * matches up to matchIndex, but with a wiped data directory it is empty, so nothing it said in
   * its previous life is trusted: matchIndex is re-learned by probing from the top, and the
   * follower's conflict hints walk nextIndex back. commitIndex never decreases, so forgetting a
   * match is always safe.
   */
  onRestarted(incarnation: number, nextIndex: number): void {
    this.incarnation = incarnation;
    this.matchIndex = 0;
    this.onRejected(nextIndex);
  }

  /** The follower rejected: probe again from `nextIndex` (computed from its conflict hints). */
  onRejected(nextIndex: number): void {
    this.state = 'probe';
    this.nextIndex = nextIndex;
    this.inflight.reset();
    this.probeSent = false;
  }

  /**
   * Raft §7: the follower's nextIndex is compacted away; send it the snapshot ending at `index`
   * from offset 0 (a new transfer, or a newer snapshot than the one being sent).
   */
  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.snapshotIndex = index;
    this.snapshotChunk = 0;
    this.inflight.reset();
    this.probeSent = false;
  }

  /** The follower holds the snapshot's chunks before `nextChunk`: that one goes next. */
  onSnapshotProgress(nextChunk: number): void {
    this.snapshotChunk = nextChunk;
    this.probeSent = false;
  }

  /**
   * The follower holds everything up to `index` (it installed the snapshot, or had it all): it
   * matches us there; probe from just after it.
   */
  onSnapshotDone(index: number): boolean {
    const advanced = index > this.matchIndex;
    if (advanced) this.matchIndex = index;
    this.state = 'probe';
    this.nextIndex = this.matchIndex + 1;
    this.inflight.reset();
    this.probeSent = false;
    return advanced;
  }

  /**
   * Heartbeat timeout: in probe state the unanswered probe may be lost, so it is sent again; in
   * replicate state an empty AppendEntries at nextIndex - 1 goes out, outside the inflight window:
   * accepted, it acknowledges everything in flight; rejected, it sends us back to probe. Either way
   * a lost message cannot stall the follower with a full window.
   */
  onHeartbeatTimeout(): void {
    this.heartbeatDue = true;
    if (this.state === 'probe' || this.state === 'snapshot') this.probeSent = false; // resend (a lost chunk)
  }

  private becomeReplicate(): void {
    this.state = 'replicate';
    this.nextIndex = this.matchIndex + 1;
    this.inflight.reset();
    this.probeSent = false;
  }
}
