/**
 * Cooperative time slicing: long jobs (writing or restoring a snapshot of millions of keys) run in
 * slices of a few milliseconds and give the event loop back between them, so heartbeats, client
 * requests and the replica loop are never held up for longer than a slice.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs: number) {}

  /** Yields to the event loop if this slice has run its time; resolves at once otherwise. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}

/** Slices of at most this many milliseconds: well under the 50 ms stall the issue allows. */
export const DEFAULT_SLICE_MS = 8;
