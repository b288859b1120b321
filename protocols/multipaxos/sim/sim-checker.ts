/**
 * The safety properties the Multi-Paxos simulation checks after every step: agreement (no two
 * replicas decide different commands for one slot, ever), one value per (ballot, slot) among all
 * P2a ever sent (PMMC invariant A5/"commanders propose one command per ballot and slot"), equal
 * state machines at equal applied slots, no acknowledged write lost, and linearizable reads.
 */
import { formatBallot } from '../ballot.js';
import { sameCommand } from '../paxos-node.js';
import type { Command, NodeId, PValue } from '../types.js';

export type Fail = (message: string) => never;

export class PaxosSafetyChecker {
  /** decided.get(s): the command first seen decided at slot s, anywhere. */
  private readonly decided = new Map<number, Command>();
  private readonly proposedAt = new Map<string, Command>();
  private readonly stateHashAt = new Map<number, number>();
  private readonly acked = new Map<number, Command>();
  /** Highest slot acknowledged to a client. */
  highestAcked = 0;

  constructor(private readonly fail: Fail) {}

  get decidedCount(): number {
    return this.decided.size;
  }

  get ackedSlots(): ReadonlyMap<number, Command> {
    return this.acked;
  }

  /** Agreement (PMMC invariant R1): "no two replicas decide different commands for one slot". */
  observeDecided(id: NodeId, slot: number, command: Command): void {
    const known = this.decided.get(slot);
    if (known === undefined) this.decided.set(slot, command);
    else if (!sameCommand(known, command)) {
      this.fail(`agreement: ${id} decided ${describe(command)} at slot ${slot} where ${describe(known)} was decided`);
    }
  }

  /** A leader proposes at most one command per (ballot, slot) (PMMC invariant A5 relies on it). */
  observeP2a(pv: PValue): void {
    const key = `${formatBallot(pv.ballot)}@${pv.slot}`;
    const known = this.proposedAt.get(key);
    if (known === undefined) this.proposedAt.set(key, pv.command);
    else if (!sameCommand(known, pv.command)) this.fail(`two commands proposed in ballot ${key}`);
  }

  /** State machine safety: every replica's state after applying `slot` is the same. */
  observeApplied(id: NodeId, slot: number, command: Command, stateHash: number): void {
    this.observeDecided(id, slot, command);
    const known = this.stateHashAt.get(slot);
    if (known === undefined) this.stateHashAt.set(slot, stateHash);
    else if (known !== stateHash) this.fail(`state machines diverge at slot ${slot} (${id})`);
  }

  /** State transfer: a snapshot installed at `slot` is the state every replica had there. */
  observeSnapshot(id: NodeId, slot: number, stateHash: number): void {
    const known = this.stateHashAt.get(slot);
    if (known === undefined) this.stateHashAt.set(slot, stateHash);
    else if (known !== stateHash) this.fail(`snapshot installed by ${id} at slot ${slot} differs from the state applied there`);
  }

  /** The proposer applied its own command at `slot`: the client hears "ok". */
  acknowledge(slot: number, command: Command): void {
    this.acked.set(slot, command);
    if (slot > this.highestAcked) this.highestAcked = slot;
  }

  /**
   * No acknowledged write lost: a replica's decision at an acknowledged slot is that write. Slots
   * at or below `collectedThrough` were garbage-collected: the state hashes cover them.
   */
  checkHolds(id: NodeId, decisionAt: (slot: number) => Command | undefined, appliedThrough: number, collectedThrough = 0): void {
    for (const [slot, command] of this.acked) {
      if (slot > appliedThrough || slot <= collectedThrough) continue;
      const held = decisionAt(slot);
      if (held === undefined || !sameCommand(held, command)) this.fail(`acknowledged write at slot ${slot} lost on ${id}`);
    }
  }

  /** A read served after applying `slot` must see every write acknowledged before it was asked. */
  checkRead(id: NodeId, ctx: number, slot: number, ackedAtRequest: number): void {
    if (slot < ackedAtRequest) {
      this.fail(`linearizability: read ${ctx} on ${id} at slot ${slot}, but slot ${ackedAtRequest} was acknowledged before it was requested`);
    }
  }
}

function describe(c: Command): string {
  return `${c.kind}(${formatBallot(c.origin)}, ${c.payloads.length} payloads)`;
}

/** The simulation's state machine: a running FNV-1a hash of the applied payloads. */
export function applyToHash(hash: number, command: Command): number {
  let h = hash;
  for (const data of command.payloads) {
    h = (h ^ 0x811c9dc5) >>> 0;
    for (let k = 0; k < data.byteLength; k++) {
      h ^= data[k] as number;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h;
}
