/**
 * PMMC §3 commander: runs phase 2 for one pvalue. It collects P2b answers until a majority of
 * acceptors accepted ("decided") or one answers with a higher ballot ("preempted"). Many
 * commanders run at once, one per slot in flight (pipelining).
 */
import { compareBallots, sameBallot } from './ballot.js';
import { majority } from '../common/quorum.js';
import type { Ballot, NodeId, PValue } from './types.js';

export type CommanderResult = { kind: 'waiting' } | { kind: 'decided' } | { kind: 'preempted'; ballot: Ballot };

export class Commander {
  /** PMMC `waitfor`: acceptors that have not accepted yet (P2a is resent to them). */
  readonly waitfor: Set<NodeId>;
  private readonly needed: number;
  private accepted = 0;

  constructor(
    readonly pvalue: PValue,
    acceptors: readonly NodeId[],
  ) {
    this.waitfor = new Set(acceptors);
    this.needed = majority(acceptors.length);
  }

  /** PMMC commander, on ⟨p2b, α, b'⟩. */
  onP2b(from: NodeId, ballotNum: Ballot): CommanderResult {
    if (!sameBallot(ballotNum, this.pvalue.ballot)) {
      if (compareBallots(ballotNum, this.pvalue.ballot) > 0) return { kind: 'preempted', ballot: ballotNum };
      return { kind: 'waiting' };
    }
    if (!this.waitfor.delete(from)) return { kind: 'waiting' };
    this.accepted++;
    // "if |waitfor| < |acceptors|/2 then send ⟨decision, s, c⟩ to all replicas"
    return this.accepted >= this.needed ? { kind: 'decided' } : { kind: 'waiting' };
  }
}
