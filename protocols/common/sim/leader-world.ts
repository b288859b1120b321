/**
 * The world of the leader-based simulations, Raft's and Multi-Paxos's (PBFT's clients and faults
 * do not aim at a primary): clients mostly find the newest leader, some have a stale view, some ask
 * anyone; half the crashes hit a leader, and half the partitions cut a leader off with at most a
 * minority, which leaves a stale leader behind (Raft §5.4, §8; PMMC §3's preempted leaders).
 */
import { SimWorld, type Environment, type WorldNode } from './world.js';

export abstract class LeaderWorld<N extends WorldNode & { id: Id }, E extends { kind: string }, P extends Environment, Id>
  extends SimWorld<N, E, P, Id> {
  /** Every replica's id, in the order partitions draw their sides. */
  protected abstract readonly ids: readonly Id[];
  /** Whether a replica is running (not crashed, not retired). */
  protected abstract isUp(node: N): boolean;
  /** Whether a replica believes it leads (possibly a stale leader). */
  protected abstract isLeader(node: N): boolean;
  /** The leader of the newest term or ballot, if any replica leads. */
  protected abstract currentLeader(): N | undefined;

  /** Clients mostly find the newest leader; some have a stale view; some ask anyone. */
  protected pickClientTarget(): N | undefined {
    const roll = this.rng.next();
    const target = roll < 0.6 ? this.currentLeader() : roll < 0.9 ? this.someLeader() : undefined;
    return target ?? this.someUpNode();
  }

  protected someUpNode(): N | undefined {
    const up = this.nodes.filter((node) => this.isUp(node));
    return up[this.rng.int(up.length)];
  }

  /** Any replica that believes it is leader (possibly a stale one). */
  protected someLeader(): N | undefined {
    const leaders = this.nodes.filter((node) => this.isLeader(node));
    return leaders[this.rng.int(leaders.length)];
  }

  /** Leaders are the interesting victims: half the crashes hit one. */
  protected crashSomeone(): void {
    const victim = this.rng.chance(0.5) ? this.someLeader() : this.someUpNode();
    if (victim !== undefined) this.crash(victim);
  }

  /**
   * A random split, or a leader cut off with at most a minority (a stale leader); `cutOff` hears
   * of the leader cut off before the partition is installed. Heals after 5..60 ticks.
   */
  protected partitionAroundLeader(cutOff?: (leader: N) => void): ReadonlyMap<Id, number> {
    const sides = this.net.randomSides(this.ids);
    const leader = this.rng.chance(0.5) ? this.someLeader() : undefined;
    if (leader !== undefined) {
      for (const id of this.ids) sides.set(id, 0);
      sides.set(leader.id, 1);
      if (this.ids.length > 3 && this.rng.chance(0.5)) sides.set(this.someUpNode()?.id ?? leader.id, 1);
      cutOff?.(leader);
    }
    return this.partitionNetwork(sides, this.ids, 60);
  }
}
