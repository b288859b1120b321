/** Input limits of the HTTP API (docs/design.md §3.8, §4.1). */
export interface HttpLimits {
  keyBytesMax: number;
  valueBytesMax: number;
  /** Raw body bound; JSON escaping can make a body several times its value's size. */
  bodyBytesMax: number;
  /** How long a request may wait for a leader to be elected before NO_LEADER. */
  leaderWaitMs: number;
  /** Timeout of a request forwarded to the leader. */
  forwardTimeoutMs: number;
}

export const defaultHttpLimits: HttpLimits = {
  keyBytesMax: 1024,
  valueBytesMax: 1024 * 1024,
  bodyBytesMax: 8 * 1024 * 1024,
  leaderWaitMs: 3000,
  forwardTimeoutMs: 10_000,
};
