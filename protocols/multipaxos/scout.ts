/**
 * PMMC §3 scout: runs phase 1 for one ballot. It collects P1b answers until a majority of
 * acceptors adopted its ballot ("adopted", with the union of their pvalues) or one answers with a
 * higher ballot ("preempted"). In Multi-Paxos one scout covers every slot from `fromSlot` on.
 */
import { compareBallots, sameBallot } from './ballot.js';
import { majority } from '../common/quorum.js';
import type { Ballot, NodeId, PValue } from './types.js';

export type ScoutResult =
  | { kind: 'waiting' }
  | { kind: 'adopted'; pvalues: Map<number, PValue> }
  | { kind: 'preempted'; ballot: Ballot };

export class Scout {
  /** PMMC `waitfor`: acceptors that have not adopted the ballot yet. */
  readonly waitfor: Set<NodeId>;
  /** PMMC `pvalues`, reduced to the highest-ballot pvalue per slot (PMMC `pmax`). */
  private readonly pvalues = new Map<number, PValue>();
  private readonly needed: number;
  private adopted = 0;
  /** The highest compaction point reported (slots <= it are decided) and who reported it. */
  compactedTo = 0;
  compactedBy: NodeId | null = null;

  constructor(
    readonly ballot: Ballot,
    readonly fromSlot: number,
    acceptors: readonly NodeId[],
  ) {
    this.waitfor = new Set(acceptors);
    this.needed = majority(acceptors.length);
  }

  /** PMMC scout, on ⟨p1b, α, b', r⟩. */
  onP1b(from: NodeId, ballotNum: Ballot, accepted: readonly PValue[], compactedTo = 0): ScoutResult {
    if (!sameBallot(ballotNum, this.ballot)) {
      // "else send ⟨preempted, b'⟩ to λ": b' > b, since an acceptor's ballot_num only grows.
      if (compareBallots(ballotNum, this.ballot) > 0) return { kind: 'preempted', ballot: ballotNum };
      return { kind: 'waiting' };
    }
    if (!this.waitfor.delete(from)) return { kind: 'waiting' }; // duplicate
    for (const pv of accepted) {
      const held = this.pvalues.get(pv.slot);
      if (held === undefined || compareBallots(pv.ballot, held.ballot) > 0) this.pvalues.set(pv.slot, pv);
    }
    if (compactedTo > this.compactedTo) {
      this.compactedTo = compactedTo;
      this.compactedBy = from;
    }
    this.adopted++;
    // "if |waitfor| < |acceptors|/2 then send ⟨adopted, b, pvalues⟩ to λ"
    if (this.adopted >= this.needed) return { kind: 'adopted', pvalues: this.pvalues };
    return { kind: 'waiting' };
  }
}
