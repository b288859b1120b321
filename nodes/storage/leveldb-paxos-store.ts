import { Level } from 'level';
import { Packr } from 'msgpackr';
import { durableAfterOpen } from './durable-dir.js';
import { ZERO_BALLOT } from '../../protocols/multipaxos/ballot.js';
import type { Ballot, Command, Decision, PersistState, PValue, RestoredState, SnapshotData } from '../../protocols/multipaxos/types.js';
import type { LevelDbStoreOptions, StorageStats } from './leveldb-raft-log-store.js';

const packr = new Packr({ useRecords: false });

const BALLOT_KEY = 'paxos:ballot';
const ACCEPTED_PREFIX = 'paxos:acc:';
const DECISION_PREFIX = 'paxos:dec:';
/** The state-machine snapshot that covers every garbage-collected slot: [slot, bytes]. */
const SNAPSHOT_KEY = 'paxos:snapshot';
/** Fixed-width hex so that LevelDB's byte order is slot order. */
const slotKey = (prefix: string, slot: number): string => prefix + slot.toString(16).padStart(13, '0');

type StoredBallot = [round: number, leader: string];
type StoredCommand = [kind: 0 | 1, originRound: number, originLeader: string, payloads: Uint8Array[]];
type StoredPValue = [round: number, leader: string, command: StoredCommand];
type StoredSnapshot = [slot: number, data: Uint8Array];

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
 * one update per Ready. Implemented by LevelDB for real and by memory for tests.
 */
export interface PaxosStore {
  /** `snapshotSlot` and `snapshot` agree: the snapshot covers every slot <= snapshotSlot. */
  load(): Promise<StoredPaxosState>;
  /**
   * One Ready's update. When `update.compactTo` is set, `snapshot` (slot >= compactTo) is stored
   * and every decision and pvalue at or below compactTo deleted, in the same atomic batch.
   */
  persist(update: PersistState, snapshot?: SnapshotData | null): Promise<void>;
  close(): Promise<void>;
}

export interface StoredPaxosState extends RestoredState {
  snapshotSlot: number;
  snapshot: SnapshotData | null;
}

/** Does this update change what Paxos needs durable before the answers leave (PMMC §3)? */
export function mustSync(update: PersistState): boolean {
  return update.ballotNum !== null || update.accepted.length > 0 || (update.compactTo ?? null) !== null;
}

export const isEmptyUpdate = (u: PersistState): boolean =>
  u.ballotNum === null && u.accepted.length === 0 && u.decisions.length === 0 && (u.compactTo ?? null) === null;

function checkSnapshot(update: PersistState, snapshot: SnapshotData | null | undefined): SnapshotData | null {
  const compactTo = update.compactTo ?? null;
  if (compactTo === null) return null;
  if (snapshot == null || snapshot.slot < compactTo) {
    throw new Error(`compaction to slot ${compactTo} needs a snapshot covering it (got ${snapshot?.slot ?? 'none'})`);
  }
  return snapshot;
}

/** Client commands carried by accepted pvalues (a no-op counts as one entry, as in Raft). */
const entriesOf = (accepted: PValue[]): number => accepted.reduce((n, pv) => n + Math.max(1, pv.command.payloads.length), 0);

/**
 * The Multi-Paxos durable state in one LevelDB database: the acceptor's ballot_num, its accepted
 * pvalues (highest ballot only, one key per slot) and the decided slots (one key per slot).
 * Every Ready becomes a single LevelDB batch, so a promise, any number of acceptances and any
 * number of decisions share one fsync (group commit).
 *
 * fsync policy: a batch that changes the acceptor (ballot_num or an accepted pvalue) is written
 * with `sync: true`, since P1b/P2b may only leave once it is durable. A batch carrying only
 * decisions is written without fsync (as the Raft store does for the commit index): a decision
 * lost in a crash is learned again by catch-up from any replica, or re-decided with the same
 * value from the acceptors' durable pvalues, so it is not needed for safety.
 */
export class LevelDbPaxosStore implements PaxosStore {
  readonly stats: StorageStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };

  constructor(
    private readonly db: Level<string, Uint8Array>,
    private readonly options: LevelDbStoreOptions,
  ) {}

  static async open(dir: string, options: LevelDbStoreOptions): Promise<LevelDbPaxosStore> {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
    await db.open();
    await durableAfterOpen(dir);
    return new LevelDbPaxosStore(db, options);
  }

  async load(): Promise<StoredPaxosState> {
    const stored = await this.db.get(BALLOT_KEY);
    const snapValue = await this.db.get(SNAPSHOT_KEY);
    let snapshot: SnapshotData | null = null;
    if (snapValue !== undefined) {
      const [slot, data] = packr.unpack(snapValue) as StoredSnapshot;
      snapshot = { slot, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    }
    const snapshotSlot = snapshot?.slot ?? 0;
    const ballotNum = stored === undefined ? { ...ZERO_BALLOT } : unpackBallot(packr.unpack(stored) as StoredBallot);
    const accepted: PValue[] = [];
    for await (const [key, value] of this.db.iterator({ gte: ACCEPTED_PREFIX, lt: ACCEPTED_PREFIX + '~' })) {
      const [round, leader, command] = packr.unpack(value) as StoredPValue;
      const slot = parseInt(key.slice(ACCEPTED_PREFIX.length), 16);
      if (slot > snapshotSlot) accepted.push({ ballot: { round, leader }, slot, command: unpackCommand(command) });
    }
    const decisions: Decision[] = [];
    for await (const [key, value] of this.db.iterator({ gte: DECISION_PREFIX, lt: DECISION_PREFIX + '~' })) {
      const slot = parseInt(key.slice(DECISION_PREFIX.length), 16);
      if (slot > snapshotSlot) decisions.push({ slot, command: unpackCommand(packr.unpack(value) as StoredCommand) });
    }
    return { ballotNum, accepted, decisions, snapshotSlot, snapshot };
  }

  async persist(update: PersistState, snapshotArg?: SnapshotData | null): Promise<void> {
    if (isEmptyUpdate(update)) return;
    const snapshot = checkSnapshot(update, snapshotArg);
    const compactTo = snapshot === null ? 0 : (update.compactTo as number);
    const batch = this.db.batch();
    let bytes = 0;
    const put = (key: string, value: Uint8Array): void => {
      bytes += value.byteLength;
      batch.put(key, value);
    };
    if (update.ballotNum !== null) put(BALLOT_KEY, packr.pack(packBallot(update.ballotNum)));
    // A later pvalue for a slot replaces an earlier one, also within one batch (last put wins).
    for (const pv of update.accepted) {
      if (pv.slot <= compactTo) continue; // collected in this very batch
      const stored: StoredPValue = [pv.ballot.round, pv.ballot.leader, packCommand(pv.command)];
      put(slotKey(ACCEPTED_PREFIX, pv.slot), packr.pack(stored));
    }
    for (const d of update.decisions) if (d.slot > compactTo) put(slotKey(DECISION_PREFIX, d.slot), packr.pack(packCommand(d.command)));
    if (snapshot !== null) {
      // Garbage collection: the snapshot and the deletions are one atomic batch.
      put(SNAPSHOT_KEY, packr.pack([snapshot.slot, snapshot.data] satisfies StoredSnapshot));
      for (const prefix of [ACCEPTED_PREFIX, DECISION_PREFIX]) {
        for await (const key of this.db.keys({ gte: prefix, lte: slotKey(prefix, compactTo) })) batch.del(key);
      }
    }
    const sync = this.options.sync && mustSync(update);
    await batch.write({ sync });
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
  snapshot: SnapshotData | null = null;

  async load(): Promise<StoredPaxosState> {
    const bySlot = <T>(m: Map<number, T>): Array<[number, T]> => [...m.entries()].sort((a, b) => a[0] - b[0]);
    return {
      ballotNum: { ...this.ballotNum },
      accepted: bySlot(this.accepted).map(([, pv]) => pv),
      decisions: bySlot(this.decisions).map(([slot, command]) => ({ slot, command })),
      snapshotSlot: this.snapshot?.slot ?? 0,
      snapshot: this.snapshot,
    };
  }

  async persist(update: PersistState, snapshotArg?: SnapshotData | null): Promise<void> {
    if (isEmptyUpdate(update)) return;
    const snapshot = checkSnapshot(update, snapshotArg);
    if (update.ballotNum !== null) this.ballotNum = { ...update.ballotNum };
    for (const pv of update.accepted) this.accepted.set(pv.slot, pv);
    for (const d of update.decisions) this.decisions.set(d.slot, d.command);
    if (snapshot !== null) {
      const compactTo = update.compactTo as number;
      this.snapshot = snapshot;
      for (const slot of this.accepted.keys()) if (slot <= compactTo) this.accepted.delete(slot);
      for (const slot of this.decisions.keys()) if (slot <= compactTo) this.decisions.delete(slot);
    }
    this.stats.fsyncs += mustSync(update) ? 1 : 0;
    this.stats.writes += 1;
    this.stats.entriesPersisted += entriesOf(update.accepted);
  }

  async close(): Promise<void> {}
}
