import type { PbftReplica } from '../../protocols/pbft/pbft-replica.js';

/**
 * Times the core's checkpoints from outside the pure core (protocols/ has no clocks, and no
 * hooks into it). OSDI §4.3: after executing sequence number n = k·K a replica digests its state
 * and multicasts a signed CHECKPOINT; the core does that synchronously inside the call that
 * executed n (step, tick, ready or advance), all on the event loop. The timer measures every
 * such call and keeps the durations of those in which the core took a checkpoint
 * (`PbftReplica.checkpointsTaken()` grew): the checkpoint with the execution that led to it, so
 * an upper bound of the encode, digest and signature alone. A checkpoint adopted by state
 * transfer is not taken by executing, and is not timed.
 */
export class CheckpointTimer {
  constructor(
    private readonly core: PbftReplica,
    private readonly observe: (seconds: number) => void,
  ) {}

  /** Runs one core call; if it took a checkpoint, reports how long the call blocked. */
  time<T>(call: () => T): T {
    const before = this.core.checkpointsTaken();
    const startedAt = performance.now();
    const result = call();
    if (this.core.checkpointsTaken() !== before) this.observe((performance.now() - startedAt) / 1000);
    return result;
  }
}
