import type { PbftObserver } from '../../protocols/pbft/pbft-replica.js';

/**
 * Times the core's checkpoints from outside the pure core (protocols/ has no clocks). OSDI §4.3:
 * after executing sequence number n = k·K a replica digests its state and multicasts a signed
 * CHECKPOINT; the core does that synchronously right after reporting the execution, within one
 * call, so the time from `executed(n)` to `checkpoint(n)` is the checkpoint's: the state encoded,
 * digested and signed, all on the event loop. A checkpoint adopted by state transfer (no
 * execution before it) is not timed.
 */
export function checkpointTimer(self: number, observe: (seconds: number) => void): PbftObserver {
  let executedN = -1;
  let executedAt = 0;
  return {
    executed(replica, n) {
      if (replica !== self) return;
      executedN = n;
      executedAt = performance.now();
    },
    checkpoint(replica, n) {
      if (replica === self && n === executedN) observe((performance.now() - executedAt) / 1000);
      executedN = -1;
    },
  };
}
