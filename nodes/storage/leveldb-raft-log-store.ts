import { Level } from 'level';
import { Packr } from 'msgpackr';
import { durableAfterOpen } from './durable-dir.js';
import type { HardState, LogEntry, Snapshot } from '../../protocols/raft/types.js';
import { invariant } from '../../protocols/common/invariant.js';
import { emptyHardState, type RaftDiskState, type RaftLogStore, type RaftPersistUpdate } from './raft-log-store.js';

const packr = new Packr({ useRecords: false });

const HARD_STATE_KEY = 'raft:hs';
const LOG_PREFIX = 'raft:log:';
const SNAPSHOT_KEY = 'raft:snapshot';
/** Fixed-width hex so that LevelDB's byte order is log order. */
const logKey = (index: number): string => LOG_PREFIX + index.toString(16).padStart(13, '0');

type StoredEntry = [term: number, kind: 0 | 1 | 2, data: Uint8Array | null];
const KIND_CODES = { noop: 0, command: 1, config: 2 } as const;
const KINDS = ['noop', 'command', 'config'] as const;

export interface LevelDbStoreOptions {
  /** fsync every batch (Raft §5.2 requires it). False only for the harness's unsafe mode. */
  sync: boolean;
}

export interface StorageStats {
  /** Batches written with fsync. */
  fsyncs: number;
  /** Batches written, with or without fsync. */
  writes: number;
  entriesPersisted: number;
  bytesPersisted: number;
}

/**
 * Raft's persistent state (Raft Figure 2: currentTerm, votedFor, log[]) in one LevelDB database.
 * Every Ready becomes a single LevelDB batch written with `sync: true`, so a term change, a vote
 * and any number of log entries share one fsync (group commit).
 */
export class LevelDbRaftLogStore implements RaftLogStore {
  readonly stats: StorageStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  private lastIndex = 0;
  /** First index still on disk (entries below were compacted into the snapshot). */
  private firstIndex = 1;
  /** Term and vote last written, to tell whether a batch must be fsync'd. */
  private durableTerm = 0;
  private durableVote: string | null = null;

  constructor(
    private readonly db: Level<string, Uint8Array>,
    private readonly options: LevelDbStoreOptions,
  ) {}

  static async open(dir: string, options: LevelDbStoreOptions): Promise<LevelDbRaftLogStore> {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
    await db.open();
    await durableAfterOpen(dir);
    return new LevelDbRaftLogStore(db, options);
  }

  async load(): Promise<RaftDiskState> {
    const hs = await this.db.get(HARD_STATE_KEY);
    const hardState: HardState = hs === undefined ? emptyHardState() : (packr.unpack(hs) as HardState);
    const snap = await this.db.get(SNAPSHOT_KEY);
    const snapshot = snap === undefined ? null : (packr.unpack(snap) as Snapshot);
    const entries: LogEntry[] = [];
    for await (const [key, value] of this.db.iterator({ gte: LOG_PREFIX, lt: LOG_PREFIX + '~' })) {
      const [term, kind, data] = packr.unpack(value) as StoredEntry;
      const index = parseInt(key.slice(LOG_PREFIX.length), 16);
      const previous = entries.at(-1);
      invariant(previous === undefined || index === previous.index + 1, `log on disk has a gap before index ${index}`);
      entries.push({ index, term, kind: KINDS[kind] ?? 'command', data: data ?? null });
    }
    this.firstIndex = entries[0]?.index ?? (snapshot?.index ?? 0) + 1;
    this.lastIndex = entries.at(-1)?.index ?? (snapshot?.index ?? 0);
    this.durableTerm = hardState.currentTerm;
    this.durableVote = hardState.votedFor;
    return { hardState, entries, snapshot };
  }

  async persist(update: RaftPersistUpdate): Promise<void> {
    const batch = this.db.batch();
    if (update.snapshot != null) {
      batch.put(SNAPSHOT_KEY, packr.pack(update.snapshot));
      // Entries after an installed snapshot follow it, whatever the log held before.
      if (this.lastIndex < update.snapshot.index) {
        for (let i = this.firstIndex; i <= this.lastIndex; i++) batch.del(logKey(i));
        this.firstIndex = this.lastIndex = update.snapshot.index;
        this.firstIndex++;
      }
    }
    if (update.compactTo != null) {
      for (let i = this.firstIndex; i <= Math.min(update.compactTo, this.lastIndex); i++) batch.del(logKey(i));
      this.firstIndex = Math.max(this.firstIndex, update.compactTo + 1);
      this.lastIndex = Math.max(this.lastIndex, update.compactTo);
    }
    if (update.hardState !== null) batch.put(HARD_STATE_KEY, packr.pack(update.hardState));
    if (update.truncateFrom !== null) {
      for (let i = update.truncateFrom; i <= this.lastIndex; i++) batch.del(logKey(i));
      this.lastIndex = Math.min(this.lastIndex, update.truncateFrom - 1);
      this.firstIndex = Math.min(this.firstIndex, update.truncateFrom);
    }
    let bytes = 0;
    for (const e of update.entries) {
      invariant(e.index === this.lastIndex + 1, `persist: entry ${e.index} does not follow ${this.lastIndex}`);
      const stored: StoredEntry = [e.term, KIND_CODES[e.kind], e.data];
      const value = packr.pack(stored);
      bytes += value.length;
      batch.put(logKey(e.index), value);
      this.lastIndex = e.index;
    }
    const sync = this.options.sync && this.mustSync(update);
    await batch.write({ sync });
    if (update.hardState !== null) {
      this.durableTerm = update.hardState.currentTerm;
      this.durableVote = update.hardState.votedFor;
    }
    this.stats.fsyncs += sync ? 1 : 0;
    this.stats.writes += 1;
    this.stats.entriesPersisted += update.entries.length;
    this.stats.bytesPersisted += bytes;
  }

  /**
   * Raft §5.2 needs currentTerm, votedFor and the log on stable storage before answering; the
   * commit index is not needed for safety (a restarted replica learns it again from the
   * leader), so a batch that only advances it is written without an fsync, as etcd does.
   */
  private mustSync(update: RaftPersistUpdate): boolean {
    if (update.entries.length > 0 || update.truncateFrom !== null || update.snapshot != null) return true;
    const hs = update.hardState;
    return hs !== null && (hs.currentTerm !== this.durableTerm || hs.votedFor !== this.durableVote);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
