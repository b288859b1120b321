/**
 * Linearizable reads without a log entry: ReadIndex (dissertation §6.4).
 *
 * 1. The read index is the leader's commitIndex, but only once the leader has committed an entry
 *    of its own term (its no-op): before that it may not know the latest committed entries.
 * 2. The leader confirms it is still leader with a round of heartbeats sent after the read was
 *    requested. Reads requested between two Readys share one round; rounds are numbered, every
 *    AppendEntries carries the latest round, every response echoes it, and a majority (the leader
 *    counting itself) acknowledging round r confirms every round <= r.
 * 3. The read may then be served once the state machine has applied up to the read index.
 */
import { majorityValue } from '../common/quorum.js';
import type { NodeId, ReadState } from './types.js';

interface PendingRead {
  ctx: number;
  index: number;
  /** 0 until the read is given a heartbeat round. */
  round: number;
}

export class ReadIndexTracker {
  /** Requests waiting for the leader's first commit in its term (step 1). */
  private waiting: number[] = [];
  /** Requests with a read index, in request order, so rounds never decrease along the array. */
  private pending: PendingRead[] = [];
  private round = 0;
  private readonly acks = new Map<NodeId, number>();

  /** The newest round; every AppendEntries the leader sends carries it. */
  get currentRound(): number {
    return this.round;
  }

  get size(): number {
    return this.waiting.length + this.pending.length;
  }

  /** A read on the leader; `termCommitted` says whether an entry of its term is committed. */
  request(ctx: number, commitIndex: number, termCommitted: boolean): void {
    if (termCommitted) this.pending.push({ ctx, index: commitIndex, round: 0 });
    else this.waiting.push(ctx);
  }

  /** The leader committed an entry of its term: waiting reads get the read index now. */
  onTermCommitted(commitIndex: number): void {
    for (const ctx of this.waiting) this.pending.push({ ctx, index: commitIndex, round: 0 });
    this.waiting = [];
  }

  hasUnassigned(): boolean {
    return this.pending.length > 0 && this.pending[this.pending.length - 1]?.round === 0;
  }

  /** Puts every read without a round into a new round; returns its number. */
  startRound(): number {
    this.round++;
    for (let k = this.pending.length - 1; k >= 0; k--) {
      const read = this.pending[k];
      if (read === undefined || read.round !== 0) break;
      read.round = this.round;
    }
    return this.round;
  }

  /** A follower answered an AppendEntries of `round` in our term: it still follows us. */
  ack(follower: NodeId, round: number): void {
    if (round <= 0 || round > this.round) return;
    if ((this.acks.get(follower) ?? 0) < round) this.acks.set(follower, round);
  }

  /**
   * Releases the reads whose round a majority of `voters` acknowledged, the leader (`self`)
   * counting itself if it is one (a leader being removed is not, dissertation §4.2.2).
   */
  release(voters: readonly NodeId[], self: NodeId): ReadState[] {
    if (this.pending.length === 0) return [];
    const rounds = voters.map((voter) => (voter === self ? this.round : (this.acks.get(voter) ?? 0)));
    const confirmed = majorityValue(rounds);
    let count = 0;
    while (count < this.pending.length) {
      const read = this.pending[count];
      if (read === undefined || read.round === 0 || read.round > confirmed) break;
      count++;
    }
    return this.pending.splice(0, count).map(({ ctx, index }) => ({ ctx, index }));
  }

  /** Leadership lost: every read not yet released fails. */
  failAll(): number[] {
    const failed = [...this.waiting, ...this.pending.map((read) => read.ctx)];
    this.waiting = [];
    this.pending = [];
    this.acks.clear();
    return failed;
  }
}
