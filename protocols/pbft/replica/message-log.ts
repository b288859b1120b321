/**
 * The message log (OSDI §4.2-§4.3): one Slot per sequence number the replica knows something
 * about, h < n (checkpoints.ts discards the rest), and which of them changed since the last Ready
 * (their `s/<n>` and new `b/<n>/<d>` records go into it, ../records.ts).
 */
import { batchKey, slotKey, slotRecord } from '../records.js';
import { Slot } from '../slot.js';
import type { Batch, PersistRecord, SlotPhase } from '../types.js';

export class MessageLog {
  private readonly slots = new Map<number, Slot>();
  private readonly dirty = new Set<number>();

  get(n: number): Slot | undefined {
    return this.slots.get(n);
  }

  /** The slot for n, created empty if the log has none. */
  slot(n: number): Slot {
    let s = this.slots.get(n);
    if (s === undefined) {
      s = new Slot(n);
      this.slots.set(n, s);
    }
    return s;
  }

  /** A slot restored from its records (../records.ts slotFromRecord). */
  restore(s: Slot): void {
    this.slots.set(s.sequence, s);
  }

  /** Slots in the order they were created. */
  values(): IterableIterator<Slot> {
    return this.slots.values();
  }

  sequences(): IterableIterator<number> {
    return this.slots.keys();
  }

  /** n changed: persist its slot (and any new batch) with the next Ready. */
  changed(n: number): void {
    this.dirty.add(n);
  }

  get hasChanges(): boolean {
    return this.dirty.size > 0;
  }

  /** The batch executed at n, if the log still holds it (Fetch answers, restart replay). */
  executedBatch(n: number): { digest: string; batch: Batch } | undefined {
    const s = this.slots.get(n);
    const batch = s?.executed != null ? s.batches.get(s.executed) : undefined;
    return s === undefined || s.executed === null || batch === undefined ? undefined : { digest: s.executed, batch };
  }

  /** OSDI §4.3 garbage collection: forget every n <= h, with the deletes of its records. */
  discardUpTo(h: number, persist: PersistRecord[]): void {
    for (const [k, s] of this.slots) {
      if (k > h) continue;
      persist.push({ key: slotKey(k), delete: true });
      for (const d of s.persistedBatches) persist.push({ key: batchKey(k, d), delete: true });
      this.slots.delete(k);
      this.dirty.delete(k);
    }
  }

  /** The records of the slots changed since the last Ready: new batches first, then the slot. */
  collectPersist(out: PersistRecord[]): void {
    for (const n of this.dirty) {
      const s = this.slots.get(n);
      if (s === undefined) continue;
      for (const [d, batch] of s.batches) {
        if (s.persistedBatches.has(d)) continue;
        s.persistedBatches.add(d);
        out.push({ key: batchKey(n, d), value: batch });
      }
      out.push({ key: slotKey(n), value: slotRecord(s) });
    }
    this.dirty.clear();
  }

  /**
   * The newest `limit` sequence numbers of the log (at most L of them, h < n <= H) with the phase
   * each reached here (OSDI §4.2: pre-prepared, prepared, committed-local) and whether it was
   * executed, oldest first: what the dashboard draws. Slots with votes but no pre-prepare yet
   * are left out.
   */
  phases(limit: number, f: number, primaryOf: (view: number) => number): SlotPhase[] {
    const ns: number[] = [];
    for (const [n, s] of this.slots) if (s.digest !== null || s.executed !== null) ns.push(n);
    ns.sort((a, b) => a - b);
    const out: SlotPhase[] = [];
    for (const n of ns.slice(Math.max(0, ns.length - limit))) {
      const s = this.slots.get(n) as Slot;
      const primary = primaryOf(s.view);
      const executed = s.executed !== null;
      const phase = executed || s.committedLocal(f, primary) ? 'committed' : s.sentCommit || s.prepared(f, primary) ? 'prepared' : 'pre-prepared';
      out.push({ sequence: n, view: Math.max(0, s.view), phase, executed, digest: s.executed ?? (s.digest as string) });
    }
    return out;
  }
}
