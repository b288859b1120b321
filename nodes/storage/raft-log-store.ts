import type { HardState, LogEntry } from '../../protocols/raft/types.js';

/** What one Ready asks to be made durable, in one batch (DESIGN.md §3, group commit). */
export interface RaftPersistUpdate {
  hardState: HardState | null;
  /** Delete every entry with index >= truncateFrom before appending. */
  truncateFrom: number | null;
  entries: LogEntry[];
}

export interface RaftDiskState {
  hardState: HardState;
  entries: LogEntry[];
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

  async load(): Promise<RaftDiskState> {
    return { hardState: { ...this.hardState }, entries: [...this.entries] };
  }

  async persist(update: RaftPersistUpdate): Promise<void> {
    if (update.hardState !== null) this.hardState = { ...update.hardState };
    if (update.truncateFrom !== null) this.entries = this.entries.filter((e) => e.index < update.truncateFrom!);
    this.entries.push(...update.entries);
  }

  async close(): Promise<void> {}
}
