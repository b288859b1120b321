import { Level } from 'level';
import { Packr } from 'msgpackr';
import { durableAfterOpen, LogSwitchWatch } from './durable-dir.js';
import { ZERO_BALLOT } from '../../protocols/multipaxos/ballot.js';
import type { Ballot, Command, Decision, PersistState, PValue, RestoredState, Snapshot } from '../../protocols/multipaxos/types.js';
import type { LevelDbStoreOptions, StorageStats } from './leveldb-raft-log-store.js';
import { join } from 'node:path';
import { SnapshotFiles } from './snapshot-files.js';

const packr = new Packr({ useRecords: false });

const BALLOT_KEY = 'paxos:ballot';
const ACCEPTED_PREFIX = 'paxos:acc:';
const DECISION_PREFIX = 'paxos:dec:';
/**
 * The stored snapshot's descriptor, { slot, chunks }. An earlier version stored the whole
 * snapshot here as [slot, bytes]: load() upgrades it to one chunk.
 */
const SNAPSHOT_KEY = 'paxos:snapshot';
/** Fixed-width hex so that LevelDB's byte order is slot order. */
const slotKey = (prefix: string, slot: number): string => prefix + slot.toString(16).padStart(13, '0');

type StoredBallot = [round: number, leader: string];
type StoredCommand = [kind: 0 | 1, originRound: number, originLeader: string, payloads: Uint8Array[]];
type StoredPValue = [round: number, leader: string, command: StoredCommand];
/** What an earlier version stored under SNAPSHOT_KEY: the whole KvSnapshot, msgpack-encoded. */
type WholeSnapshot = [slot: number, data: Uint8Array];

const packBallot = (b: Ballot): StoredBallot => [b.round, b.leader];
const unpackBallot = ([round, leader]: StoredBallot): Ballot => ({ round, leader });
const packCommand = (c: Command): StoredCommand => [c.kind === 'noop' ? 0 : 1, c.origin.round, c.origin.leader, c.payloads];
const unpackCommand = ([kind, round, leader, payloads]: StoredCommand): Command => ({
  kind: kind === 0 ? 'noop' : 'batch',
  origin: { round, leader },
  payloads: payloads.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength)),
});

/**
 * The storage the Multi-Paxos runtime needs: everything at start (the core's RestoredState), then
 * one update per Ready; and the chunks of snapshots, written and read one at a time so that no
 * snapshot is ever held whole in memory. Implemented by LevelDB for real and by memory for tests.
 */
export interface PaxosStore {
  /** The stored snapshot's chunks are all there; chunks of anything else are gone. */
  load(): Promise<StoredPaxosState>;
  /**
   * One Ready's update, in one atomic batch: received chunks, an installed snapshot, the acceptor
   * state and decisions, then the deletions of compactTo. A compaction that no stored snapshot
   * covers is refused (a runtime bug: the core compacts only behind a saved snapshot).
   */
  persist(update: PersistState): Promise<void>;
  /**
   * Stores one chunk of the snapshot at `slot` (not synced: saveSnapshot makes it durable). The
   * bytes are lent until the promise settles (snapshot-chunks.ts reuses them): copy to keep them.
   */
  writeSnapshotChunk(slot: number, chunk: number, bytes: Uint8Array): Promise<void>;
  /** A chunk of the stored snapshot (or of one being received or taken); undefined if gone. */
  readSnapshotChunk(slot: number, chunk: number): Promise<Uint8Array | undefined>;
  /**
   * A snapshot this replica took, its chunks written: durably make it the stored one, unless the
   * stored one is as new or newer (an installed snapshot overtook it: its chunks go and the
   * answer is false). The chunks of older snapshots go.
   */
  saveSnapshot(snapshot: Snapshot): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoredPaxosState extends RestoredState {
  snapshot: Snapshot | null;
}

/**
 * Does this update change what Paxos needs durable before the answers leave (PMMC §3)? An
 * installed snapshot is synced too (it replaces the state the acceptor reports in P1b), its chunk
 * files first (snapshot-files.ts); decisions
 * and the deletions of a compaction need none: a lost decision is learned again, and decisions
 * and pvalues at or below the stored snapshot are ignored at load.
 */
export function mustSync(update: PersistState): boolean {
  return update.ballotNum !== null || update.accepted.length > 0 || (update.snapshot ?? null) !== null;
}

export const isEmptyUpdate = (u: PersistState): boolean =>
  u.ballotNum === null &&
  u.accepted.length === 0 &&
  u.decisions.length === 0 &&
  (u.snapshotChunks?.length ?? 0) === 0 &&
  (u.snapshot ?? null) === null &&
  (u.compactTo ?? null) === null;

function checkCompaction(compactTo: number | null, snapshotSlot: number): void {
  if (compactTo !== null && compactTo > snapshotSlot) {
    throw new Error(`compaction to slot ${compactTo} needs a stored snapshot covering it (the stored one is at ${snapshotSlot})`);
  }
}

/** Client commands carried by accepted pvalues (a no-op counts as one entry, as in Raft). */
const entriesOf = (accepted: PValue[]): number => accepted.reduce((n, pv) => n + Math.max(1, pv.command.payloads.length), 0);

/**
 * A whole-state snapshot of an earlier version (one KvSnapshot value) as one chunk of parts
 * (nodes/snapshots/snapshot-chunks.ts), as the Raft store upgrades its own.
 */
export function upgradeWholeSnapshot(data: Uint8Array): Uint8Array {
  const whole = packr.unpack(data) as { data: Array<[string, string]>; sessions: unknown[] };
  const sessions = packr.pack({ sessions: whole.sessions });
  const entries = packr.pack({ data: whole.data });
  const out = new Uint8Array(sessions.byteLength + entries.byteLength);
  out.set(sessions, 0);
  out.set(entries, sessions.byteLength);
  return out;
}

/**
 * The Multi-Paxos durable state in one LevelDB database: the acceptor's ballot_num, its accepted
 * pvalues (highest ballot only, one key per slot), the decided slots (one key per slot) and the
 * stored snapshot's descriptor; the snapshot's chunks are files beside it, one directory per
 * snapshot (snapshot-files.ts: a large state in LevelDB keys would be compacted over and over).
 * Every Ready becomes a single LevelDB batch, so a promise, any number of acceptances and any
 * number of decisions share one fsync (group commit).
 *
 * fsync policy: a batch that changes the acceptor (ballot_num or an accepted pvalue) is written
 * with `sync: true`, since P1b/P2b may only leave once it is durable. A batch carrying only
 * decisions is written without fsync (as the Raft store does for the commit index): a decision
 * lost in a crash is learned again by catch-up from any replica, or re-decided with the same
 * value from the acceptors' durable pvalues, so it is not needed for safety. A snapshot's chunks
 * are written without fsync, and synced with their directory before its descriptor is written.
 */
export class LevelDbPaxosStore implements PaxosStore {
  readonly stats: StorageStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  /** The stored snapshot's slot (0: none), as of the writes made so far. */
  private snapshotSlot = 0;

  constructor(
    private readonly db: Level<string, Uint8Array>,
    private readonly options: LevelDbStoreOptions,
    private readonly files: SnapshotFiles,
    private readonly logs: LogSwitchWatch,
  ) {}

  static async open(dir: string, options: LevelDbStoreOptions): Promise<LevelDbPaxosStore> {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
    await db.open();
    await durableAfterOpen(dir);
    return new LevelDbPaxosStore(db, options, new SnapshotFiles(join(dir, 'snapshots')), await LogSwitchWatch.open(dir));
  }

  async load(): Promise<StoredPaxosState> {
    const stored = await this.db.get(BALLOT_KEY);
    const snapshot = await this.loadSnapshot();
    const snapshotSlot = snapshot?.slot ?? 0;
    const ballotNum = stored === undefined ? { ...ZERO_BALLOT } : unpackBallot(packr.unpack(stored) as StoredBallot);
    const accepted: PValue[] = [];
    for await (const [key, value] of this.db.iterator({ gt: slotKey(ACCEPTED_PREFIX, snapshotSlot), lt: ACCEPTED_PREFIX + '~' })) {
      const [round, leader, command] = packr.unpack(value) as StoredPValue;
      const slot = parseInt(key.slice(ACCEPTED_PREFIX.length), 16);
      accepted.push({ ballot: { round, leader }, slot, command: unpackCommand(command) });
    }
    const decisions: Decision[] = [];
    for await (const [key, value] of this.db.iterator({ gt: slotKey(DECISION_PREFIX, snapshotSlot), lt: DECISION_PREFIX + '~' })) {
      const slot = parseInt(key.slice(DECISION_PREFIX.length), 16);
      decisions.push({ slot, command: unpackCommand(packr.unpack(value) as StoredCommand) });
    }
    return { ballotNum, accepted, decisions, snapshot };
  }

  /**
   * The stored snapshot's descriptor; chunks of any other snapshot (a transfer, or a snapshot
   * whose descriptor a crash cut off) are deleted. A whole snapshot of an earlier version becomes
   * one chunk.
   */
  private async loadSnapshot(): Promise<Snapshot | null> {
    const value = await this.db.get(SNAPSHOT_KEY);
    let snapshot = value === undefined ? null : (packr.unpack(value) as Snapshot | WholeSnapshot);
    if (Array.isArray(snapshot)) snapshot = await this.upgrade(snapshot);
    // No transfer survives a restart, nor a snapshot whose descriptor a crash cut off.
    await this.files.removeOthers(snapshot?.slot ?? 0);
    if (snapshot === null) return null;
    await this.files.trim(snapshot.slot, snapshot.chunks);
    this.snapshotSlot = snapshot.slot;
    return { slot: snapshot.slot, chunks: snapshot.chunks };
  }

  private async upgrade([slot, data]: WholeSnapshot): Promise<Snapshot> {
    const snapshot: Snapshot = { slot, chunks: 1 };
    await this.files.write(slot, 0, upgradeWholeSnapshot(data));
    await this.files.sync(slot, 1);
    await this.db.put(SNAPSHOT_KEY, packr.pack(snapshot), { sync: this.options.sync });
    if (this.options.sync) await this.logs.afterSyncedWrite();
    return snapshot;
  }

  async writeSnapshotChunk(slot: number, chunk: number, bytes: Uint8Array): Promise<void> {
    await this.files.write(slot, chunk, bytes);
    this.stats.bytesPersisted += bytes.byteLength;
  }

  async readSnapshotChunk(slot: number, chunk: number): Promise<Uint8Array | undefined> {
    return this.files.read(slot, chunk);
  }

  async saveSnapshot(snapshot: Snapshot): Promise<boolean> {
    if (snapshot.slot <= this.snapshotSlot) {
      if (snapshot.slot < this.snapshotSlot) await this.files.removeBelow(this.snapshotSlot);
      return false;
    }
    this.snapshotSlot = snapshot.slot;
    const started = performance.now();
    // A newer snapshot installed while the chunk files synced (persist) replaces this one on disk
    // and deletes its chunks: then this one is not recorded (its descriptor, written after the
    // newer one, would name chunks that are gone) and not used.
    const replaced = (): boolean => this.snapshotSlot !== snapshot.slot;
    try {
      if (this.options.sync) await this.files.sync(snapshot.slot, snapshot.chunks);
    } catch (err) {
      if (replaced()) return false;
      throw err;
    }
    if (replaced()) return false;
    // Issued before any later persist's batch: LevelDB applies writes in the order they are made,
    // so a snapshot installed after this point records itself after this one and wins.
    await this.db.put(SNAPSHOT_KEY, packr.pack({ slot: snapshot.slot, chunks: snapshot.chunks }), { sync: this.options.sync });
    if (this.options.sync) await this.logs.afterSyncedWrite();
    // A storage batch like any other: one sample per fsync (consensus_storage_write_seconds).
    this.options.onWrite?.((performance.now() - started) / 1000, this.options.sync);
    this.stats.fsyncs += this.options.sync ? 1 : 0;
    this.stats.writes += 1;
    // Chunks of a newer snapshot being received stay (their slot is above this one).
    await this.files.removeBelow(snapshot.slot);
    return true;
  }

  async persist(update: PersistState): Promise<void> {
    if (isEmptyUpdate(update)) return;
    const installed = update.snapshot ?? null;
    const compactTo = update.compactTo ?? null;
    checkCompaction(compactTo, Math.max(this.snapshotSlot, installed?.slot ?? 0));
    const collected = compactTo ?? 0;
    const batch = this.db.batch();
    let bytes = 0;
    const put = (key: string, value: Uint8Array): void => {
      bytes += value.byteLength;
      batch.put(key, value);
    };
    for (const c of update.snapshotChunks ?? []) {
      await this.files.write(c.slot, c.chunk, c.data);
      bytes += c.data.byteLength;
    }
    // Never older than the stored one (the core installs only past every slot it applied), but a
    // descriptor is never written over a newer one.
    const replaces = installed !== null && installed.slot > this.snapshotSlot;
    if (installed !== null && replaces) {
      if (this.options.sync) await this.files.sync(installed.slot, installed.chunks);
      put(SNAPSHOT_KEY, packr.pack({ slot: installed.slot, chunks: installed.chunks }));
      this.snapshotSlot = installed.slot;
    }
    if (update.ballotNum !== null) put(BALLOT_KEY, packr.pack(packBallot(update.ballotNum)));
    // A later pvalue for a slot replaces an earlier one, also within one batch (last put wins).
    for (const pv of update.accepted) {
      if (pv.slot <= collected) continue; // collected in this very batch
      const stored: StoredPValue = [pv.ballot.round, pv.ballot.leader, packCommand(pv.command)];
      put(slotKey(ACCEPTED_PREFIX, pv.slot), packr.pack(stored));
    }
    for (const d of update.decisions) if (d.slot > collected) put(slotKey(DECISION_PREFIX, d.slot), packr.pack(packCommand(d.command)));
    if (compactTo !== null) {
      // Garbage collection: the deletions are in the same atomic batch.
      for (const prefix of [ACCEPTED_PREFIX, DECISION_PREFIX]) {
        for await (const key of this.db.keys({ gte: prefix, lte: slotKey(prefix, compactTo) })) batch.del(key);
      }
    }
    const sync = this.options.sync && mustSync(update);
    const started = performance.now();
    await batch.write({ sync });
    if (sync) await this.logs.afterSyncedWrite();
    this.options.onWrite?.((performance.now() - started) / 1000, sync);
    if (installed !== null && replaces && installed.slot === this.snapshotSlot) await this.files.removeBelow(installed.slot);
    this.stats.fsyncs += sync ? 1 : 0;
    this.stats.writes += 1;
    this.stats.entriesPersisted += entriesOf(update.accepted);
    this.stats.bytesPersisted += bytes;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** In-memory twin of the LevelDB store, for tests. */
export class MemoryPaxosStore implements PaxosStore {
  readonly stats: StorageStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  ballotNum: Ballot = { ...ZERO_BALLOT };
  readonly accepted = new Map<number, PValue>();
  readonly decisions = new Map<number, Command>();
  snapshot: Snapshot | null = null;
  /** Chunks by "slot/chunk". */
  readonly chunks = new Map<string, Uint8Array>();

  async load(): Promise<StoredPaxosState> {
    const slot = this.snapshot?.slot ?? 0;
    const bySlot = <T>(m: Map<number, T>): Array<[number, T]> => [...m.entries()].filter(([s]) => s > slot).sort((a, b) => a[0] - b[0]);
    const stored = this.snapshot;
    if (stored === null) this.chunks.clear();
    else this.dropChunks((s, chunk) => s !== stored.slot || chunk >= stored.chunks);
    return {
      ballotNum: { ...this.ballotNum },
      accepted: bySlot(this.accepted).map(([, pv]) => pv),
      decisions: bySlot(this.decisions).map(([s, command]) => ({ slot: s, command })),
      snapshot: this.snapshot,
    };
  }

  async writeSnapshotChunk(slot: number, chunk: number, bytes: Uint8Array): Promise<void> {
    this.chunks.set(`${slot}/${chunk}`, bytes.slice()); // lent: see the interface
  }

  async readSnapshotChunk(slot: number, chunk: number): Promise<Uint8Array | undefined> {
    return this.chunks.get(`${slot}/${chunk}`);
  }

  async saveSnapshot(snapshot: Snapshot): Promise<boolean> {
    const stored = this.snapshot?.slot ?? 0;
    if (snapshot.slot <= stored) {
      if (snapshot.slot < stored) this.dropChunks((slot) => slot === snapshot.slot);
      return false;
    }
    this.snapshot = snapshot;
    this.dropChunksBesides(snapshot);
    return true;
  }

  async persist(update: PersistState): Promise<void> {
    if (isEmptyUpdate(update)) return;
    const installed = update.snapshot ?? null;
    checkCompaction(update.compactTo ?? null, Math.max(this.snapshot?.slot ?? 0, installed?.slot ?? 0));
    for (const c of update.snapshotChunks ?? []) this.chunks.set(`${c.slot}/${c.chunk}`, c.data);
    if (installed !== null && installed.slot > (this.snapshot?.slot ?? 0)) {
      this.snapshot = installed;
      this.dropChunksBesides(installed);
    }
    if (update.ballotNum !== null) this.ballotNum = { ...update.ballotNum };
    for (const pv of update.accepted) this.accepted.set(pv.slot, pv);
    for (const d of update.decisions) this.decisions.set(d.slot, d.command);
    const compactTo = update.compactTo ?? null;
    if (compactTo !== null) {
      for (const slot of this.accepted.keys()) if (slot <= compactTo) this.accepted.delete(slot);
      for (const slot of this.decisions.keys()) if (slot <= compactTo) this.decisions.delete(slot);
    }
    this.stats.fsyncs += mustSync(update) ? 1 : 0;
    this.stats.writes += 1;
    this.stats.entriesPersisted += entriesOf(update.accepted);
  }

  private dropChunksBesides(snapshot: Snapshot): void {
    this.dropChunks((slot, chunk) => slot < snapshot.slot || (slot === snapshot.slot && chunk >= snapshot.chunks));
  }

  private dropChunks(drop: (slot: number, chunk: number) => boolean): void {
    for (const key of [...this.chunks.keys()]) {
      const [slot, chunk] = key.split('/').map(Number) as [number, number];
      if (drop(slot, chunk)) this.chunks.delete(key);
    }
  }

  async close(): Promise<void> {}
}
