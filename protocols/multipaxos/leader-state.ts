/**
 * LeaderState: everything a Multi-Paxos replica keeps only while it leads, that is while its PMMC
 * leader is active ("Paxos Made Moderately Complex", van Renesse and Altinbuken, Figure 7:
 * `active := true` on ⟨adopted⟩, `active := false` on ⟨preempted⟩). MultiPaxosNode creates one
 * when its scout wins phase 1 (`adopted`) and drops it (null) when it steps down (preempted, cut
 * off by check-quorum, or trying a new ballot), so no leader-only field can outlive a leadership
 * by mistake.
 *
 * Kept in MultiPaxosNode instead:
 * - what a candidate needs before adoption: its scout (scout.ts, PMMC Figure 6), which holds the
 *   ballot it tries, and the clock that resends its P1a;
 * - PMMC replica state (Figure 2): slot_in, slot_out, decisions (`status()` reports slot_in on
 *   every replica);
 * - two records a leader keeps that must outlive a leadership: the read-index round counter
 *   (rounds only grow, so a late answer to a heartbeat of an earlier leadership never confirms a
 *   read of this one) and the applied slot each peer reported (the GC point a re-elected leader
 *   computes right away).
 */
import type { Commander } from './commander.js';
import type { Ballot, NodeId } from './types.js';

/** A slot's batch under construction or waiting for the window (PMMC replica `requests`). */
export interface Batch {
  slot: number;
  payloads: Uint8Array[];
  bytes: number;
}

/** A read-index read waiting for its heartbeat round to be answered by a quorum. */
export interface PendingRead {
  ctx: number;
  slot: number;
  /** The heartbeat round that confirms it; 0 until the next Ready starts one. */
  round: number;
}

/** An acceptor's P1b reported slots up to `slot` as collected (compacted), and we lack them. */
export interface CatchUpTarget {
  slot: number;
  from: NodeId;
}

export class LeaderState {
  /** PMMC leader `ballot_num`: the ballot our scout got adopted. Every P2a and heartbeat carries it. */
  readonly ballot: Ballot;
  /** PMMC leader: the commanders it spawned (phase 2, Figure 5), one per slot in flight. */
  readonly commanders = new Map<number, Commander>();
  /**
   * Proposals already given a slot, waiting for the window (PMMC replica: propose only while
   * slot_in < slot_out + WINDOW). They are dropped on step-down; their clients retry.
   */
  batches: Batch[] = [];
  /** Highest slot we have a commander for (or found decided or accepted on adoption): a read's slot. */
  highestStarted: number;
  /** Ticks since our last heartbeat round. */
  heartbeatElapsed = 0;
  /** Check-quorum (as in Raft, dissertation §6.2): peers that answered a heartbeat this period. */
  readonly recentActive = new Set<NodeId>();
  /** Check-quorum: ticks since the current period (one election timeout) began. */
  quorumElapsed = 0;
  /** Read index: reads waiting for a quorum to answer their heartbeat round. */
  reads: PendingRead[] = [];
  /** Read index: the highest heartbeat round each peer answered under this leadership. */
  readonly ackedRound = new Map<NodeId, number>();
  /** The acceptor we fetch collected slots from (CatchUp, answered by a snapshot), until we have them. */
  catchUpFrom: CatchUpTarget | null;

  /**
   * On ⟨adopted, ballot, pvals⟩: `highestStarted` is the highest slot adoption found decided,
   * accepted or collected; `catchUpFrom` is set if a P1b reported slots collected that we lack.
   */
  constructor(ballot: Ballot, highestStarted: number, catchUpFrom: CatchUpTarget | null) {
    this.ballot = ballot;
    this.highestStarted = highestStarted;
    this.catchUpFrom = catchUpFrom;
  }

  /** Reads that no heartbeat round covers yet: the next Ready starts one. */
  hasUnassignedReads(): boolean {
    return this.reads.some((r) => r.round === 0);
  }
}
