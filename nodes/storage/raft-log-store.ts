import type { HardState, LogEntry, Snapshot, SnapshotChunk } from '../../protocols/raft/types.js';

/** What one Ready asks to be made durable, in one batch (docs/design.md §3.2, group commit). */
export interface RaftPersistUpdate {
  hardState: HardState | null;
  /** Delete every entry with index >= truncateFrom before appending. */
  truncateFrom: number | null;
  entries: LogEntry[];
  /** Raft §7: chunks of a snapshot being received from the leader, stored with the batch. */
  snapshotChunks?: SnapshotChunk[];
  /**
   * Raft §7: replace the stored snapshot (durably, with the rest of the batch); its chunks are
   * stored (received in this or earlier batches). The chunks of older snapshots go.
   */
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
 * one durable update per Ready; and the chunks of snapshots (Raft §7), written and read one at a
 * time so that no snapshot is ever held whole in memory. Implemented by LevelDB for real and by
 * memory for tests.
 */
export interface RaftLogStore {
  load(): Promise<RaftDiskState>;
  persist(update: RaftPersistUpdate): Promise<void>;
  /**
   * Stores one chunk of the snapshot at `index` (not synced: saveSnapshot makes it durable). The
   * bytes are lent until the promise settles (snapshot-chunks.ts reuses them): copy to keep them.
   */
  writeSnapshotChunk(index: number, chunk: number, bytes: Uint8Array): Promise<void>;
  /** A chunk of a stored (or being received) snapshot; undefined if gone. */
  readSnapshotChunk(index: number, chunk: number): Promise<Uint8Array | undefined>;
  /**
   * A snapshot this replica took, its chunks written: durably make it the stored one, unless the
   * stored one is as new or newer (an installed snapshot overtook it: then its chunks go and the
   * answer is false). The chunks of older snapshots go.
   */
  saveSnapshot(snapshot: Snapshot): Promise<boolean>;
  /**
   * This process's incarnation (RaftConfig.incarnation): above every earlier one this store
   * handed out, and at least `floor` (the start time, which also orders the lives of a replica
   * whose directory was wiped). Stored durably before it is returned, so a clock set back
   * between two starts cannot make a restarted replica look like its previous life.
   */
  nextIncarnation(floor: number): Promise<number>;
  close(): Promise<void>;
}

export const emptyHardState = (): HardState => ({ currentTerm: 0, votedFor: null, commitIndex: 0 });

/** In-memory twin of the LevelDB store, for tests. */
export class MemoryRaftLogStore implements RaftLogStore {
  hardState: HardState = emptyHardState();
  entries: LogEntry[] = [];
  snapshot: Snapshot | null = null;
  readonly chunks = new Map<string, Uint8Array>();
  incarnation = 0;

  async load(): Promise<RaftDiskState> {
    return { hardState: { ...this.hardState }, entries: [...this.entries], snapshot: this.snapshot };
  }

  async writeSnapshotChunk(index: number, chunk: number, bytes: Uint8Array): Promise<void> {
    this.chunks.set(`${index}/${chunk}`, bytes.slice()); // lent: see the interface
  }

  async readSnapshotChunk(index: number, chunk: number): Promise<Uint8Array | undefined> {
    return this.chunks.get(`${index}/${chunk}`);
  }

  async nextIncarnation(floor: number): Promise<number> {
    this.incarnation = Math.max(floor, this.incarnation + 1);
    return this.incarnation;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<boolean> {
    if (this.snapshot !== null && this.snapshot.index >= snapshot.index) {
      this.dropChunks((index) => index === snapshot.index && index !== this.snapshot?.index);
      return false;
    }
    this.snapshot = snapshot;
    this.dropChunks((index) => index < snapshot.index);
    return true;
  }

  private dropChunks(drop: (index: number) => boolean): void {
    for (const key of [...this.chunks.keys()]) if (drop(Number(key.split('/')[0]))) this.chunks.delete(key);
  }

  async persist(update: RaftPersistUpdate): Promise<void> {
    for (const c of update.snapshotChunks ?? []) this.chunks.set(`${c.index}/${c.chunk}`, c.data);
    if (update.snapshot != null) {
      const index = update.snapshot.index;
      this.snapshot = update.snapshot;
      this.dropChunks((i) => i < index);
    }
    if (update.compactTo != null) this.entries = this.entries.filter((e) => e.index > update.compactTo!);
    if (update.hardState !== null) this.hardState = { ...update.hardState };
    if (update.truncateFrom !== null) this.entries = this.entries.filter((e) => e.index < update.truncateFrom!);
    this.entries.push(...update.entries);
  }

  async close(): Promise<void> {}
}
