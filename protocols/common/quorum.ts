/** Quorum arithmetic shared by the protocols. */

/** Size of a majority of n voters (Raft §5.2, Paxos). */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The largest value that at least a majority of `values` are >= to.
 * With matchIndex values this is the highest index replicated on a majority (Raft §5.3, §5.4).
 */
export function majorityValue(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[majority(values.length) - 1] ?? 0;
}

/** Byzantine bound: the number of faulty replicas f that n = 3f + 1 replicas tolerate (PBFT §3). */
export function byzantineF(n: number): number {
  return Math.floor((n - 1) / 3);
}
