import type { HardState, LogEntry, Snapshot } from '../../protocols/raft/types.js';

/** What one Ready asks to be made durable, in one batch (DESIGN.md §3, group commit). */
export interface RaftPersistUpdate {
  hardState: HardState | null;
  /** Delete every entry with index >= truncateFrom before appending. */
  truncateFrom: number | null;
  entries: LogEntry[];
  /** Raft §7: replace the stored snapshot (durably, before or with the rest of the batch). */
  snapshot?: Snapshot | null;
  /** Raft §7: delete every entry with index <= compactTo (covered by the snapshot). */
  compactTo?: number | null;
}

export interface RaftDiskState {
  hardState: HardState;
  /** Contiguous; with a snapshot they may start anywhere up to snapshot.index + 1. */
  entries: LogEntry[];
  snapshot: Snapshot | null;
}

/**
 * The narrow storage interface the Raft runtime needs: read everything at start, then apply
 * one durable update per Ready. Implemented by LevelDB for real and by memory for tests.
 */
export interface RaftLogStore {
  load(): Promise<RaftDiskState>;
  persist(update: RaftPersistUpdate): Promise<void>;
  close(): Promise<void>;
}

export const emptyHardState = (): HardState => ({ currentTerm: 0, votedFor: null, commitIndex: 0 });

/** In-memory twin of the LevelDB store, for tests. */
export class MemoryRaftLogStore implements RaftLogStore {
  hardState: HardState = emptyHardState();
  entries: LogEntry[] = [];
  snapshot: Snapshot | null = null;

  async load(): Promise<RaftDiskState> {
    return { hardState: { ...this.hardState }, entries: [...this.entries], snapshot: this.snapshot };
  }

  async persist(update: RaftPersistUpdate): Promise<void> {
    if (update.snapshot != null) this.snapshot = update.snapshot;
    if (update.compactTo != null) this.entries = this.entries.filter((e) => e.index > update.compactTo!);
    if (update.hardState !== null) this.hardState = { ...update.hardState };
    if (update.truncateFrom !== null) this.entries = this.entries.filter((e) => e.index < update.truncateFrom!);
    this.entries.push(...update.entries);
  }

  async close(): Promise<void> {}
}
