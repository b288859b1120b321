import { Level } from 'level';
import { Packr } from 'msgpackr';
import { durableAfterOpen, LogSwitchWatch } from './durable-dir.js';
import type { HardState, LogEntry, Snapshot } from '../../protocols/raft/types.js';
import { invariant } from '../../protocols/common/invariant.js';
import { emptyHardState, type RaftDiskState, type RaftLogStore, type RaftPersistUpdate } from './raft-log-store.js';
import type { WriteTimer } from '../replica-metrics.js';
import { join } from 'node:path';
import { SnapshotFiles } from './snapshot-files.js';
import { DEFAULT_SLICE_MS, forEachInSlices, TimeSlice } from '../snapshots/time-slice.js';

const packr = new Packr({ useRecords: false });

const HARD_STATE_KEY = 'raft:hs';
const LOG_PREFIX = 'raft:log:';
/** The current snapshot's descriptor; its chunks are files (snapshot-files.ts). */
const SNAPSHOT_KEY = 'raft:snapshot';
const INCARNATION_KEY = 'raft:incarnation';
/** Fixed-width hex so that LevelDB's byte order is log order. */
const logKey = (index: number): string => LOG_PREFIX + index.toString(16).padStart(13, '0');

type StoredEntry = [term: number, kind: 0 | 1 | 2, data: Uint8Array | null];
const KIND_CODES = { noop: 0, command: 1, config: 2 } as const;
const KINDS = ['noop', 'command', 'config'] as const;

export interface LevelDbStoreOptions {
  /** fsync every batch (Raft §5.2 requires it). False only for the harness's unsafe mode. */
  sync: boolean;
  /** Told how long each batch took to write (consensus_storage_write_seconds, nodes/replica-metrics.ts). */
  onWrite?: WriteTimer;
  /** Longest event-loop turn spent building one batch (default DEFAULT_SLICE_MS; tests use 0). */
  sliceMs?: number;
}

export interface StorageStats {
  /** Batches written with fsync. */
  fsyncs: number;
  /** Batches written, with or without fsync. */
  writes: number;
  entriesPersisted: number;
  bytesPersisted: number;
}

/** A whole-state snapshot of an earlier version (one KvSnapshot value) as one chunk of parts. */
function upgradeWholeSnapshot(data: Uint8Array): Uint8Array {
  const whole = packr.unpack(data) as { data: Array<[string, string]>; sessions: unknown[] };
  const sessions = packr.pack({ sessions: whole.sessions });
  const entries = packr.pack({ data: whole.data });
  const out = new Uint8Array(sessions.byteLength + entries.byteLength);
  out.set(sessions, 0);
  out.set(entries, sessions.byteLength);
  return out;
}

/**
 * Raft's persistent state (Raft Figure 2: currentTerm, votedFor, log[]) in one LevelDB database.
 * Every Ready becomes a single LevelDB batch written with `sync: true`, so a term change, a vote
 * and any number of log entries share one fsync (group commit). Snapshots (Raft §7) are chunk
 * files beside it (snapshot-files.ts); the batch records which one is current. A batch is built
 * in time slices (nodes/snapshots/time-slice.ts): the compaction after a snapshot deletes
 * snapshotEvery keys, which took 90 ms in one event-loop turn at 50,000 (bench/stall-probe.ts).
 */
export class LevelDbRaftLogStore implements RaftLogStore {
  readonly stats: StorageStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  private lastIndex = 0;
  /** First index still on disk (entries below were compacted into the snapshot). */
  private firstIndex = 1;
  /** Term and vote last written, to tell whether a batch must be fsync'd. */
  private durableTerm = 0;
  private durableVote: string | null = null;
  /** The stored snapshot's index (0: none). */
  private snapshotIndex = 0;

  constructor(
    private readonly db: Level<string, Uint8Array>,
    private readonly options: LevelDbStoreOptions,
    private readonly files: SnapshotFiles,
    private readonly logs: LogSwitchWatch,
  ) {}

  static async open(dir: string, options: LevelDbStoreOptions): Promise<LevelDbRaftLogStore> {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
    await db.open();
    await durableAfterOpen(dir);
    return new LevelDbRaftLogStore(db, options, new SnapshotFiles(join(dir, 'snapshots')), await LogSwitchWatch.open(dir));
  }

  async load(): Promise<RaftDiskState> {
    const hs = await this.db.get(HARD_STATE_KEY);
    const hardState: HardState = hs === undefined ? emptyHardState() : (packr.unpack(hs) as HardState);
    const snapshot = await this.loadSnapshot();
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

  /**
   * The stored snapshot's descriptor; chunks of any other snapshot (a transfer or a snapshot cut
   * short by a crash) are deleted. A snapshot stored whole by an earlier version (`data`) becomes
   * one chunk.
   */
  private async loadSnapshot(): Promise<Snapshot | null> {
    const stored = await this.db.get(SNAPSHOT_KEY);
    const snapshot = stored === undefined ? null : (packr.unpack(stored) as Snapshot & { data?: Uint8Array });
    await this.files.removeOthers(snapshot?.index ?? 0);
    if (snapshot === null) return null;
    if (snapshot.data !== undefined) {
      await this.files.write(snapshot.index, 0, upgradeWholeSnapshot(snapshot.data));
      await this.files.sync(snapshot.index, 1);
      const upgraded: Snapshot = { index: snapshot.index, term: snapshot.term, chunks: 1, ...(snapshot.membership ? { membership: snapshot.membership } : {}) };
      await this.db.put(SNAPSHOT_KEY, packr.pack(upgraded), { sync: true });
      this.snapshotIndex = upgraded.index;
      return upgraded;
    }
    await this.files.trim(snapshot.index, snapshot.chunks);
    this.snapshotIndex = snapshot.index;
    return snapshot;
  }

  async writeSnapshotChunk(index: number, chunk: number, bytes: Uint8Array): Promise<void> {
    await this.files.write(index, chunk, bytes);
  }

  async readSnapshotChunk(index: number, chunk: number): Promise<Uint8Array | undefined> {
    return this.files.read(index, chunk);
  }

  async saveSnapshot(snapshot: Snapshot): Promise<boolean> {
    if (snapshot.index <= this.snapshotIndex) {
      if (snapshot.index < this.snapshotIndex) await this.files.removeBelow(this.snapshotIndex);
      return false;
    }
    this.snapshotIndex = snapshot.index;
    // A newer snapshot installed from the leader while the chunk files synced (persist) replaces
    // this one on disk and deletes its chunks: then this one is not recorded (its descriptor,
    // written after the newer one, would name chunks that are gone) and not used.
    const replaced = (): boolean => this.snapshotIndex !== snapshot.index;
    try {
      if (this.options.sync) await this.files.sync(snapshot.index, snapshot.chunks);
    } catch (err) {
      if (replaced()) return false;
      throw err;
    }
    if (replaced()) return false;
    // Issued before any later persist's batch: LevelDB applies writes in the order they are made,
    // so a snapshot installed after this point records itself after this one and wins.
    await this.db.put(SNAPSHOT_KEY, packr.pack(snapshot), { sync: this.options.sync });
    if (this.options.sync) await this.logs.afterSyncedWrite();
    await this.files.removeBelow(snapshot.index);
    return true;
  }

  async nextIncarnation(floor: number): Promise<number> {
    const stored = await this.db.get(INCARNATION_KEY);
    const previous = stored === undefined ? 0 : (packr.unpack(stored) as number);
    const incarnation = Math.max(floor, previous + 1);
    await this.db.put(INCARNATION_KEY, packr.pack(incarnation), { sync: this.options.sync });
    if (this.options.sync) await this.logs.afterSyncedWrite();
    return incarnation;
  }

  async persist(update: RaftPersistUpdate): Promise<void> {
    for (const c of update.snapshotChunks ?? []) await this.files.write(c.index, c.chunk, c.data);
    // An installed snapshot: its chunks (received in this and earlier batches) durable first.
    if (update.snapshot != null && this.options.sync) await this.files.sync(update.snapshot.index, update.snapshot.chunks);
    // Built over as many event-loop turns as it needs (a compaction deletes snapshotEvery
    // keys): the same batch, written once, so what is durable and in what order does not change.
    const slice = new TimeSlice(this.options.sliceMs ?? DEFAULT_SLICE_MS);
    const batch = this.db.batch();
    const del = (i: number): void => void batch.del(logKey(i));
    if (update.snapshot != null) {
      batch.put(SNAPSHOT_KEY, packr.pack(update.snapshot));
      this.snapshotIndex = Math.max(this.snapshotIndex, update.snapshot.index);
      // Entries after an installed snapshot follow it, whatever the log held before.
      if (this.lastIndex < update.snapshot.index) {
        await forEachInSlices(this.firstIndex, this.lastIndex + 1, del, slice);
        this.firstIndex = this.lastIndex = update.snapshot.index;
        this.firstIndex++;
      }
    }
    if (update.compactTo != null) {
      await forEachInSlices(this.firstIndex, Math.min(update.compactTo, this.lastIndex) + 1, del, slice);
      this.firstIndex = Math.max(this.firstIndex, update.compactTo + 1);
      this.lastIndex = Math.max(this.lastIndex, update.compactTo);
    }
    if (update.hardState !== null) batch.put(HARD_STATE_KEY, packr.pack(update.hardState));
    if (update.truncateFrom !== null) {
      await forEachInSlices(update.truncateFrom, this.lastIndex + 1, del, slice);
      this.lastIndex = Math.min(this.lastIndex, update.truncateFrom - 1);
      this.firstIndex = Math.min(this.firstIndex, update.truncateFrom);
    }
    let bytes = 0;
    const put = (k: number): void => {
      const e = update.entries[k] as LogEntry;
      invariant(e.index === this.lastIndex + 1, `persist: entry ${e.index} does not follow ${this.lastIndex}`);
      const stored: StoredEntry = [e.term, KIND_CODES[e.kind], e.data];
      const value = packr.pack(stored);
      bytes += value.length;
      batch.put(logKey(e.index), value);
      this.lastIndex = e.index;
    };
    await forEachInSlices(0, update.entries.length, put, slice);
    const sync = this.options.sync && this.mustSync(update);
    const started = performance.now();
    await batch.write({ sync });
    if (sync) await this.logs.afterSyncedWrite();
    this.options.onWrite?.((performance.now() - started) / 1000, sync);
    if (update.snapshot != null) await this.files.removeBelow(update.snapshot.index);
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
