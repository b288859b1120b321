/**
 * The failover experiment: open-loop writes at a constant rate, round robin over every replica,
 * while the runner kills the leader half-way through. Reports the time from the kill to the
 * first acknowledged write that was sent after it, and throughput in 100 ms buckets.
 */
import type { FailoverLoadResult } from './load-protocol.js';

export const bucketMs = 100;

export interface FailoverBucket {
  /** Bucket start, ms since the load started. */
  tMs: number;
  /** Writes acknowledged (2xx) in this bucket, per second. */
  okPerS: number;
  /** Writes that failed (non-2xx, network error, timeout) in this bucket, per second. */
  failedPerS: number;
}

export interface FailoverReport {
  system: string;
  nodes: number;
  ratePerS: number;
  durationS: number;
  killedReplica: string;
  /** ms since the load started. */
  killAtMs: number;
  /** Kill → first 2xx of a write invoked after the kill; null when none came. */
  recoveryMs: number | null;
  /** Longest stretch without any acknowledged write around the kill. */
  longestGapMs: number;
  writesOk: number;
  writesFailed: number;
  /** Not sent because too many were in flight (the client's bounded queue). */
  writesNotSent: number;
  buckets: FailoverBucket[];
}

export function analyzeFailover(
  load: FailoverLoadResult,
  killEpochMs: number,
  meta: { system: string; nodes: number; ratePerS: number; durationS: number; killedReplica: string },
): FailoverReport {
  const ok = (status: number): boolean => status >= 200 && status < 300;
  const n = Math.max(1, Math.ceil((load.endMs - load.startMs) / bucketMs));
  const okCounts = new Array<number>(n).fill(0);
  const failCounts = new Array<number>(n).fill(0);
  let writesOk = 0;
  let writesFailed = 0;
  let writesNotSent = 0;
  let recoveryMs: number | null = null;
  const okTimes: number[] = [];
  for (const [invoked, done, status] of load.ops) {
    if (status === -1) {
      writesNotSent++;
      continue;
    }
    const b = Math.min(n - 1, Math.max(0, Math.floor((done - load.startMs) / bucketMs)));
    if (ok(status)) {
      writesOk++;
      okCounts[b]!++;
      okTimes.push(done);
      if (invoked >= killEpochMs && (recoveryMs === null || done - killEpochMs < recoveryMs)) recoveryMs = done - killEpochMs;
    } else {
      writesFailed++;
      failCounts[b]!++;
    }
  }
  okTimes.sort((a, b) => a - b);
  let longestGapMs = 0;
  let prev = load.startMs;
  for (const t of [...okTimes, load.endMs]) {
    if (prev <= killEpochMs + 60_000 && t >= killEpochMs) longestGapMs = Math.max(longestGapMs, t - prev);
    prev = t;
  }
  return {
    ...meta,
    killAtMs: killEpochMs - load.startMs,
    recoveryMs,
    longestGapMs,
    writesOk,
    writesFailed,
    writesNotSent,
    buckets: okCounts.map((c, i) => ({ tMs: i * bucketMs, okPerS: (c * 1000) / bucketMs, failedPerS: (failCounts[i]! * 1000) / bucketMs })),
  };
}
