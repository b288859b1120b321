/** Counts the answers to one RequestVote round, real or pre-vote (Raft §5.2, dissertation §9.6). */
import { majority } from '../common/quorum.js';
import type { NodeId } from './types.js';

export type ElectionResult = 'won' | 'lost' | 'pending';

export class VoteTally {
  private readonly votes = new Map<NodeId, boolean>();
  private readonly voters: ReadonlySet<NodeId>;

  /** `voters`: the configuration the election runs in (dissertation §4.1). */
  constructor(voters: readonly NodeId[]) {
    this.voters = new Set(voters);
  }

  private get voterCount(): number {
    return this.voters.size;
  }

  /**
   * A duplicated or repeated answer from the same voter counts once, as first given; an answer
   * from a server outside the configuration does not count at all.
   */
  record(voter: NodeId, granted: boolean): void {
    if (this.voters.has(voter) && !this.votes.has(voter)) this.votes.set(voter, granted);
  }

  result(): ElectionResult {
    const needed = majority(this.voterCount);
    let granted = 0;
    for (const vote of this.votes.values()) if (vote) granted++;
    if (granted >= needed) return 'won';
    const rejected = this.votes.size - granted;
    return rejected > this.voterCount - needed ? 'lost' : 'pending';
  }
}
