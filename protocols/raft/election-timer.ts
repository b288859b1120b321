/**
 * The follower and candidate clocks: the randomized election timeout (Raft §5.2: "election
 * timeouts are chosen randomly from a fixed interval") and the time since we last heard from a
 * leader, which is what the leader-lease check of pre-vote and of dissertation §4.2.3 looks at.
 */
import type { Rng } from '../common/rng.js';

export class ElectionTimer {
  private elapsedTicks = 0;
  private timeoutTicks: number;
  private ticksSinceLeader: number;

  constructor(
    private readonly baseTicks: number,
    private readonly rng: Rng,
    heardAtStart = false,
  ) {
    this.timeoutTicks = this.draw();
    this.ticksSinceLeader = heardAtStart ? 0 : baseTicks;
  }

  /** The timeout currently drawn, in [base, 2 * base). */
  get timeout(): number {
    return this.timeoutTicks;
  }

  get elapsed(): number {
    return this.elapsedTicks;
  }

  /** Restarts the countdown with a freshly drawn timeout. */
  reset(): void {
    this.elapsedTicks = 0;
    this.timeoutTicks = this.draw();
  }

  /** `ticks` ticks of time passed; true when the election timeout has elapsed. */
  tick(ticks = 1): boolean {
    this.elapsedTicks += ticks;
    this.ticksSinceLeader = Math.min(this.baseTicks, this.ticksSinceLeader + ticks);
    return this.elapsedTicks >= this.timeoutTicks;
  }

  heardFromLeader(): void {
    this.ticksSinceLeader = 0;
  }

  /** We heard from a leader less than one (minimum) election timeout ago. */
  get leaderRecentlySeen(): boolean {
    return this.ticksSinceLeader < this.baseTicks;
  }

  private draw(): number {
    return this.baseTicks + this.rng.int(this.baseTicks);
  }
}
