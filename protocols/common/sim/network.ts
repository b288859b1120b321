/**
 * The simulated network every protocol's simulation sends through: it drops, delays (and so
 * reorders) and duplicates messages while faults are on, and partitions the replicas into sides
 * that cannot reach each other until the partition heals. It decides each message's fate with the
 * seeded rng and holds the partition; the world (world.ts) puts the deliveries on its agenda.
 *
 * Pure: every draw comes from the rng it is given, in a fixed order, so a seed replays the same run.
 */
import type { Rng } from '../rng.js';
import { TICK } from './time.js';

/** How hostile the network is (each protocol's simulation draws these per seed). */
export interface NetworkRates {
  dropRate: number;
  duplicateRate: number;
  /** Chance that a message takes 1 to 8 ticks instead of under one: this is what reorders. */
  slowRate: number;
}

export class Network<Id> {
  /** Drops and duplicates happen only while faults are on (the final heal turns them off). */
  faulty = true;
  /** Partition side of each replica, or null when the network is whole. */
  private sides: ReadonlyMap<Id, number> | null = null;
  /** Bumped by every partition and heal: a heal scheduled for an older partition is stale. */
  private seq = 0;

  /**
   * `slowOnlyWhileFaulty`: slow links end with the faults too (PBFT's simulation); Raft's and
   * Multi-Paxos's keep drawing slow messages after the final heal. The difference is kept so
   * that every seed replays the run it always did.
   */
  constructor(
    private readonly rng: Rng,
    private readonly rates: NetworkRates,
    private readonly slowOnlyWhileFaulty = false,
  ) {}

  /**
   * The delivery times of a message sent at `now`: none if it is dropped (cut off by the
   * partition, or lost), one, or two if it is duplicated.
   */
  deliveries(from: Id, to: Id, now: number): number[] {
    if (!this.linked(from, to) || (this.faulty && this.rng.chance(this.rates.dropRate))) return [];
    const times = [now + this.latency()];
    if (this.faulty && this.rng.chance(this.rates.duplicateRate)) times.push(now + this.latency());
    return times;
  }

  /** Mostly well under a tick; sometimes many ticks, which reorders messages. */
  private latency(): number {
    const slowAllowed = this.faulty || !this.slowOnlyWhileFaulty;
    if (slowAllowed && this.rng.chance(this.rates.slowRate)) return this.rng.between(TICK, 8 * TICK);
    return this.rng.between(1, TICK);
  }

  /** Whether a can reach b now (a message in flight is also checked when it arrives). */
  linked(a: Id, b: Id): boolean {
    return this.sides === null || this.sides.get(a) === this.sides.get(b);
  }

  /** Each replica on side 0 or 1 at random (a draw per replica, in `ids` order). */
  randomSides(ids: readonly Id[]): Map<Id, number> {
    const sides = new Map<Id, number>();
    for (const id of ids) sides.set(id, this.rng.int(2));
    return sides;
  }

  /**
   * Cuts the network into `sides` (if they all fell on one side, a random replica goes to a
   * third); returns the partition's number, which its heal must name.
   */
  partition(sides: Map<Id, number>, ids: readonly Id[]): number {
    if (new Set(sides.values()).size === 1) sides.set(ids[this.rng.int(ids.length)] as Id, 2);
    this.sides = sides;
    return ++this.seq;
  }

  /** Whether `partition` is the one in force (its heal is not stale). */
  isCurrent(partition: number): boolean {
    return partition === this.seq;
  }

  /** Makes the network whole; false if it already was. */
  heal(): boolean {
    if (this.sides === null) return false;
    this.sides = null;
    this.seq++;
    return true;
  }

  side(id: Id): number | undefined {
    return this.sides?.get(id);
  }
}
