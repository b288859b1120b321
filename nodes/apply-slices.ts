/**
 * Applying a burst of committed entries without holding the event loop. A Ready hands the runtime
 * every entry committed since the last one (Raft §5.3 "apply log[lastApplied]"; PMMC's replica
 * performing decided slots): a few dozen in steady state, but a replica that restarts re-applies
 * everything after its snapshot (up to snapshotEvery, 50,000: 0.8-0.9 s in one turn,
 * bench/stall-probe.ts), and one that lags gets a full AppendEntries window at once.
 *
 * applyInSlices hands the entries to `apply` in order, a part at a time, and gives the event loop
 * back between parts once a slice has run its time (time-slice.ts). The caller's cycle awaits it,
 * so the replica loop still runs one cycle at a time: nothing else applies meanwhile, inputs wait
 * in the loop's inbox, and only reads of local state (stale reads) see the parts applied so far,
 * as they would between two cycles. A burst that fits in one part is applied in the same turn.
 */
import { DEFAULT_SLICE_MS, TimeSlice } from './snapshots/time-slice.js';

export async function applyInSlices<E>(
  entries: readonly E[],
  partSize: number,
  apply: (part: E[]) => void,
  slice: TimeSlice = new TimeSlice(DEFAULT_SLICE_MS),
): Promise<void> {
  if (entries.length <= partSize) return apply(entries as E[]);
  for (let at = 0; at < entries.length; at += partSize) {
    apply(entries.slice(at, at + partSize));
    if (at + partSize < entries.length) await slice.maybeYield();
  }
}
