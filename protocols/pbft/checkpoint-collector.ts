/**
 * Checkpoint stability (OSDI §4.3): a checkpoint (n, d) is stable once 2f+1 replicas sent
 * matching signed Checkpoint messages; those messages are its proof. Memory is bounded: only
 * each replica's most recent checkpoints are kept.
 */
import type { Checkpoint } from './types.js';

const PER_REPLICA = 4;

export class CheckpointCollector {
  /** replica -> its recent Checkpoints (highest sequence numbers). */
  private readonly byReplica = new Map<number, Checkpoint[]>();

  constructor(private readonly quorum: number) {}

  /** Adds a verified Checkpoint; returns its proof when (n, d) just became stable. */
  add(c: Checkpoint): Checkpoint[] | null {
    const list = this.byReplica.get(c.replica) ?? [];
    if (list.some((x) => x.sequence === c.sequence)) return null;
    list.push(c);
    list.sort((a, b) => b.sequence - a.sequence);
    if (list.length > PER_REPLICA) list.length = PER_REPLICA;
    this.byReplica.set(c.replica, list);
    return this.proofFor(c.sequence, c.digest);
  }

  /** The 2f+1 matching Checkpoints for (n, d), or null. */
  proofFor(sequence: number, digest: string): Checkpoint[] | null {
    const proof: Checkpoint[] = [];
    for (const list of this.byReplica.values()) {
      const c = list.find((x) => x.sequence === sequence && x.digest === digest);
      if (c !== undefined) proof.push(c);
    }
    return proof.length >= this.quorum ? proof.slice(0, this.quorum) : null;
  }

  /**
   * The highest sequence number that at least `replicas` distinct replicas have checkpointed, or
   * 0. With replicas = f+1 one of them is correct, so a replica is really behind at least this
   * far: a Byzantine replica's Checkpoint at a made-up sequence number alone moves nothing (TOCS
   * §6.2 has a replica learn it is out of date from f+1 checkpoint messages for the same reason).
   */
  vouchedSequence(replicas: number): number {
    const highest = [...this.byReplica.values()].map((list) => list[0]?.sequence ?? 0).sort((a, b) => b - a);
    return highest[replicas - 1] ?? 0;
  }

  /** Garbage collection below a stable checkpoint. */
  discardUpTo(sequence: number): void {
    for (const [replica, list] of this.byReplica) {
      const kept = list.filter((c) => c.sequence > sequence);
      if (kept.length === 0) this.byReplica.delete(replica);
      else this.byReplica.set(replica, kept);
    }
  }
}
