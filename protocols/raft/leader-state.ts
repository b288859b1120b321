/**
 * LeaderState: everything a Raft replica keeps only while it is leader ("Volatile state on
 * leaders", Raft Figure 2, and what the dissertation's extensions add to it). RaftNode creates one
 * when it wins an election (becomeLeader) and drops it (null) when it steps down, so no
 * leader-only field can outlive a term of leadership by mistake. State every replica keeps
 * (term, vote, log, commitIndex, the ReadIndex round counter, the lease clock) stays in RaftNode.
 */
import { LeaseTracker } from './lease.js';
import { Progress } from './progress.js';
import type { NodeId } from './types.js';
import { UncommittedBudget } from './uncommitted.js';

/** A learner's catch-up rounds (dissertation §4.2.1), tracked by the leader. */
export interface CatchUp {
  /** The round ends when the learner's matchIndex reaches this (our lastIndex when it began). */
  roundEnd: number;
  /** Ticks since the round began. */
  elapsed: number;
  /** The last round ended within an election timeout: the learner may be promoted. */
  caughtUp: boolean;
}

export class LeaderState {
  /** Figure 2 nextIndex[] and matchIndex[], with flow control (progress.ts), per follower. */
  readonly progress = new Map<NodeId, Progress>();
  /** Dissertation §4.2.1: catch-up rounds of each learner. */
  readonly catchUp = new Map<NodeId, CatchUp>();
  /** Flow control: the bytes of our log beyond commitIndex, bounded (uncommitted.ts). */
  readonly uncommitted: UncommittedBudget;
  /** Figure 2, Leaders: ticks since the last heartbeat round. */
  heartbeatElapsed = 0;
  /** Dissertation §6.2 (check-quorum): ticks since the current election-timeout period began. */
  quorumElapsed = 0;
  /** Dissertation §6.4.1: when a majority last followed us, by heartbeat round. */
  readonly lease: LeaseTracker;
  /** Start a new heartbeat round (for the lease) with the next sends; the first sends do. */
  leaseRoundDue = true;
  /** A TimeoutNow went out this term: votes may bypass follower leases, so ours is void. */
  leaseRevoked = false;
  /** Dissertation §3.10: the follower we hand leadership to, if a transfer is under way. */
  transferTarget: NodeId | null = null;
  /** Ticks since the transfer began; it is abandoned after an election timeout. */
  transferElapsed = 0;
  /** The transfer's TimeoutNow went out. */
  timeoutNowSent = false;

  /**
   * `electionTimeoutTicks` bounds the lease's memory of rounds; `maxUncommittedBytes` the
   * uncommitted tail, which starts at `inheritedTailBytes` (entries beyond commitIndex we hold).
   */
  constructor(electionTimeoutTicks: number, maxUncommittedBytes: number, inheritedTailBytes: number) {
    this.lease = new LeaseTracker(electionTimeoutTicks);
    this.uncommitted = new UncommittedBudget(maxUncommittedBytes);
    this.uncommitted.reset(inheritedTailBytes);
  }

  /** Dissertation §3.10: begin handing leadership to `target`. */
  startTransfer(target: NodeId): void {
    this.transferTarget = target;
    this.transferElapsed = 0;
    this.timeoutNowSent = false;
  }
}
