/**
 * The batches a view change needs and this replica lacks (TOCS §4.5; replicas fetch missing
 * requests there too): a ViewChange or NewView carries batches only up to maxCarriedBatchBytes,
 * so the new primary fetches the prepared batches its decision needs (A3) and a backup the
 * chosen ones before it enters the view, with FetchBatches / Batches. Bounded: only asked-for
 * digests are kept. They serve one view change: each new one starts with none (forget), so what
 * earlier attempts fetched cannot use up the bound. Also the verified NewView waiting for them.
 */
import { NO_AUTH } from '../auth.js';
import { batchWireBytesMax } from '../canonical.js';
import type { Batch, BatchEntry, Batches, FetchBatches, NewView } from '../types.js';
import { FETCH_ENTRIES_MAX, type ReplicaContext } from './context.js';

export class ViewChangeBatches {
  private readonly held = new Map<string, Batch>();
  private heldBytes = 0;
  private readonly wanted = new Set<string>();
  /** A verified NewView waiting for batches, and the digests it needs. */
  private pendingNewView: NewView | null = null;
  private readonly pendingNeeds = new Set<string>();

  constructor(private readonly ctx: ReplicaContext) {}

  forget(): void {
    this.held.clear();
    this.heldBytes = 0;
    this.wanted.clear();
    this.pendingNewView = null;
    this.pendingNeeds.clear();
  }

  /** A batch this replica holds for (n, d): a fetched one, or one in its log (P/Q evidence). */
  known(digest: string, n: number): Batch | undefined {
    return this.held.get(digest) ?? this.ctx.log.get(n)?.batches.get(digest);
  }

  /** A verified NewView that can be installed once the batches `missing` are here. */
  waitFor(nv: NewView, missing: ReadonlyArray<{ digest: string }>): void {
    this.pendingNewView = nv;
    this.pendingNeeds.clear();
    for (const c of missing) this.pendingNeeds.add(c.digest);
  }

  /** The NewView waiting for batches, if any; it waits no more (the caller tries it again). */
  takePending(): NewView | null {
    const pending = this.pendingNewView;
    this.pendingNewView = null;
    return pending;
  }

  /** TOCS §4.5: ask for the batches a view change needs and this replica lacks (bounded). */
  fetch(wanted: Array<{ sequence: number; digest: string }>, from: readonly number[]): void {
    const ask: Array<{ sequence: number; digest: string }> = [];
    const seen = new Set<string>();
    for (const e of wanted) {
      if (seen.has(e.digest) || ask.length >= FETCH_ENTRIES_MAX) continue;
      seen.add(e.digest);
      if (this.wanted.size < 4 * this.ctx.L) this.wanted.add(e.digest);
      if (this.wanted.has(e.digest)) ask.push({ sequence: e.sequence, digest: e.digest });
    }
    if (ask.length > 0) this.ctx.out.sendTo(from, { type: 'FetchBatches', wanted: ask, replica: this.ctx.self, auth: NO_AUTH });
  }

  /** Serve the batches we hold for the asked (n, d), up to maxTransferBytes (at least one). */
  onFetchBatches(m: FetchBatches): void {
    const entries: BatchEntry[] = [];
    let bytes = 0;
    for (const w of m.wanted.slice(0, FETCH_ENTRIES_MAX)) {
      const batch = this.known(w.digest, w.sequence);
      if (batch === undefined) continue;
      bytes += batchWireBytesMax(batch);
      if (entries.length > 0 && bytes > this.ctx.maxTransferBytes) break;
      entries.push({ sequence: w.sequence, digest: w.digest, batch });
    }
    if (entries.length > 0) this.ctx.out.sendTo([m.replica], { type: 'Batches', entries, replica: this.ctx.self, auth: NO_AUTH });
  }

  /**
   * Fetched batches: kept if asked for and they match their digest, up to 4 x maxCarriedBatchBytes
   * (a faulty replica can name made-up digests in its P set and serve big batches for them). The
   * batches a verified NewView needs are kept beyond that bound: the NewView proves each was
   * pre-prepared by a correct replica (A2), and names at most L of them. True if any was added
   * (the view change can be tried again).
   */
  onBatches(m: Batches): boolean {
    let added = false;
    for (const e of m.entries) {
      if (!this.wanted.has(e.digest) || this.held.has(e.digest)) continue;
      const bytes = batchWireBytesMax(e.batch);
      if (!this.pendingNeeds.has(e.digest) && this.heldBytes + bytes > 4 * this.ctx.maxCarriedBytes) continue;
      if (this.ctx.digestOf(e.batch) !== e.digest) {
        this.ctx.invalid();
        return false;
      }
      this.held.set(e.digest, e.batch);
      this.heldBytes += bytes;
      added = true;
    }
    return added;
  }
}
