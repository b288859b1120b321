/**
 * Cooperative time slicing: long jobs (writing or restoring a snapshot of millions of keys,
 * building the LevelDB batch that deletes a compacted log, applying a burst of committed entries)
 * run in slices of a few milliseconds and give the event loop back between them, so heartbeats,
 * client requests and the replica loop are never held up for longer than a slice.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs: number) {}

  /** Has this slice run its time? */
  get spent(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Yields to the event loop if this slice has run its time; resolves at once otherwise. */
  async maybeYield(): Promise<void> {
    if (!this.spent) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}

/** Slices of at most this many milliseconds: well under the 50 ms stall the issue allows. */
export const DEFAULT_SLICE_MS = 8;

/** Steps run between two looks at the clock in forEachInSlices (a look costs about a step). */
const STEPS_PER_CHECK = 64;

/**
 * Runs `step(i)` for i = from, from + 1, ..., to - 1, in that order, giving the event loop back
 * whenever `slice` has run its time. The same calls in the same order as a plain loop, spread
 * over as many turns as they need; nothing but the caller may touch what `step` builds meanwhile.
 */
export async function forEachInSlices(from: number, to: number, step: (i: number) => void, slice: TimeSlice): Promise<void> {
  for (let i = from; i < to; ) {
    const end = Math.min(to, i + STEPS_PER_CHECK);
    for (; i < end; i++) step(i);
    if (i < to) await slice.maybeYield();
  }
}
