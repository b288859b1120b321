/**
 * The leader lease of lease-based reads (dissertation §6.4.1).
 *
 * A follower that heard from its leader less than an election timeout ago disregards RequestVote
 * (dissertation §4.2.3, with check-quorum). So once a majority has answered a heartbeat that left
 * the leader at time S, no other leader can be elected before S + electionTimeout, measured on the
 * followers' clocks. The leader may serve reads from its own state until then, minus a bound on
 * how far the clocks may disagree: `S + electionTimeoutTicks - leaseDriftTicks` on its own clock.
 *
 * The time counted is when the heartbeat was SENT, never when its answer arrived: the answer says
 * the follower was following us at some moment after the send, nothing more. Heartbeats are
 * AppendEntries carrying ReadIndex round numbers (read-index.ts); the leader starts a round at
 * every heartbeat timeout, records the tick the round started at, and an answer echoing round r
 * proves the follower followed us at some time >= start(r) (a message of round r leaves at or
 * after the round starts).
 *
 * Time is the node's tick count, so the lease is only as good as the ticks: the runtime must
 * deliver every elapsed tick (`RaftNode.tick(elapsed)`) before any other input, a process pause
 * (SIGSTOP) included. See README, Deviations, "Lease reads".
 */
import { majorityValue } from '../common/quorum.js';
import type { NodeId } from './types.js';

/** Earlier than any tick: never acknowledged. */
const NEVER = Number.MIN_SAFE_INTEGER;

export class LeaseTracker {
  /** Start tick of the recent rounds, oldest first. */
  private starts: Array<{ round: number; at: number }> = [];
  /** Per follower: the latest round start it acknowledged. */
  private readonly ackedAt = new Map<NodeId, number>();

  /** Rounds older than `horizon` ticks can no longer extend a lease; they are forgotten. */
  constructor(private readonly horizon: number) {}

  /** A new term of leadership: nothing from an earlier one counts. */
  reset(): void {
    this.starts = [];
    this.ackedAt.clear();
  }

  /** Round `round` starts at tick `now`: every AppendEntries carrying it leaves at or after now. */
  onRoundStarted(round: number, now: number): void {
    this.starts.push({ round, at: now });
    while (this.starts.length > 1 && (this.starts[0]?.at ?? now) < now - this.horizon) this.starts.shift();
  }

  /** A follower answered, in our term, an AppendEntries of `round`. */
  ack(follower: NodeId, round: number): void {
    if (round <= 0) return;
    for (let k = this.starts.length - 1; k >= 0; k--) {
      const start = this.starts[k];
      if (start === undefined || start.round < round) return; // an unknown (forgotten) round
      if (start.round !== round) continue;
      if ((this.ackedAt.get(follower) ?? NEVER) < start.at) this.ackedAt.set(follower, start.at);
      return;
    }
  }

  /**
   * The latest tick S such that a majority of `voters` (the leader, `self`, counting itself at
   * `now` if it is one) is known to have followed us at or after S.
   */
  since(voters: readonly NodeId[], self: NodeId, now: number): number {
    return majorityValue(voters.map((voter) => (voter === self ? now : (this.ackedAt.get(voter) ?? NEVER))));
  }
}
