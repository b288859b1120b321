/** PMMC §3: ballots are (round, leader) pairs, compared lexicographically. */
import type { Ballot, NodeId } from './types.js';

export const ZERO_BALLOT: Ballot = Object.freeze({ round: 0, leader: '' });

/** Negative if a < b, zero if equal, positive if a > b. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round - b.round;
  return a.leader < b.leader ? -1 : a.leader > b.leader ? 1 : 0;
}

export function sameBallot(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.leader === b.leader;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** PMMC leader on preemption: "ballot_num := (r' + 1, λ)", above every ballot seen. */
export function nextBallot(seen: Ballot, leader: NodeId): Ballot {
  return { round: seen.round + 1, leader };
}

export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.leader}`;
}
