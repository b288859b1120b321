/**
 * PMMC §3 acceptor: `ballot_num` and `accepted`. Every change is recorded as unstable until the
 * runtime persists it (Ready.persist), because an acceptor's answers (P1b, P2b) are promises that
 * must survive a crash: they leave only after the persist (Ready.messagesAfterPersist).
 */
import { compareBallots, sameBallot, ZERO_BALLOT } from './ballot.js';
import { SlotCommands } from './slot-commands.js';
import type { Ballot, PValue } from './types.js';

export class Acceptor {
  /** PMMC `ballot_num`: the highest ballot adopted (promised). */
  ballotNum: Ballot;
  /**
   * PMMC `accepted`, keeping only the highest-ballot pvalue per slot (all a P1b needs), off the
   * heap: each slot's ballot and a copy of its command (slot-commands.ts).
   */
  private readonly accepted = new SlotCommands();
  private ballotDirty = false;
  private unstable: PValue[] = [];

  constructor(ballotNum: Ballot = ZERO_BALLOT, accepted: readonly PValue[] = []) {
    this.ballotNum = ballotNum;
    for (const pv of accepted) this.remember(pv);
  }

  /**
   * PMMC acceptor, on ⟨p1a, λ, b⟩: "if b > ballot_num then ballot_num := b"; the answer is
   * ⟨p1b, α, ballot_num, accepted⟩ (only slots >= fromSlot: the scout knows the rest is decided).
   */
  onP1a(b: Ballot, fromSlot: number): { ballotNum: Ballot; accepted: PValue[] } {
    this.adopt(b);
    const accepted: PValue[] = [];
    for (const slot of this.accepted.slots()) if (slot >= fromSlot) accepted.push(this.acceptedAt(slot) as PValue);
    return { ballotNum: this.ballotNum, accepted };
  }

  /**
   * PMMC acceptor, on ⟨p2a, λ, ⟨b, s, c⟩⟩: "if b = ballot_num then accepted := accepted ∪ {⟨b,s,c⟩}";
   * the answer is ⟨p2b, α, ballot_num, s⟩. A P2a of a higher ballot is adopted first (its leader
   * passed phase 1, so promising it is what its P1a would have done; Deviations in README.md).
   */
  onP2a(pv: PValue): Ballot {
    this.adopt(pv.ballot);
    if (sameBallot(pv.ballot, this.ballotNum)) {
      const held = this.accepted.ballot(pv.slot);
      if (held === undefined || !sameBallot(held, pv.ballot)) {
        this.remember(pv);
        this.unstable.push(pv);
      }
    }
    return this.ballotNum;
  }

  /**
   * Garbage collection: forget the pvalues of slots <= slot. Only for slots this replica has
   * applied (so decided); its P1b then reports the compaction point instead (README.md).
   */
  compact(slot: number): void {
    this.accepted.deleteThrough(slot);
  }

  /** The pvalue accepted for `slot`, if any (for tests and status). */
  acceptedAt(slot: number): PValue | undefined {
    const ballot = this.accepted.ballot(slot);
    const command = this.accepted.command(slot);
    return ballot === undefined || command === undefined ? undefined : { ballot, slot, command };
  }

  get acceptedCount(): number {
    return this.accepted.size;
  }

  hasUnstable(): boolean {
    return this.ballotDirty || this.unstable.length > 0;
  }

  /** What the next persist must write: the new ballot_num (if changed) and new pvalues. */
  takeUnstable(): { ballotNum: Ballot | null; accepted: PValue[] } {
    const out = { ballotNum: this.ballotDirty ? this.ballotNum : null, accepted: this.unstable };
    this.ballotDirty = false;
    this.unstable = [];
    return out;
  }

  private adopt(b: Ballot): void {
    if (compareBallots(b, this.ballotNum) > 0) {
      this.ballotNum = b;
      this.ballotDirty = true;
    }
  }

  private remember(pv: PValue): void {
    const held = this.accepted.ballot(pv.slot);
    if (held === undefined || compareBallots(pv.ballot, held) >= 0) this.accepted.set(pv.slot, pv.command, pv.ballot);
  }
}
