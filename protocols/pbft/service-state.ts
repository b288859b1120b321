/**
 * The PBFT service state (OSDI §4; TOCS 2002 §6.2): the key-value data and the client sessions,
 * with their partition digests kept up to date on every apply (state-checkpoints.ts), so that a
 * checkpoint costs what changed, and a state transfer replaces only the partitions that differ.
 *
 * Data lives in a KvStateMachine (protocols/kv/state-machine.ts), applied without its own
 * sessions: the sessions (exactly-once, OSDI §4.1 "the replica re-sends the reply") are kept here,
 * once, with their least-recently-used stamps (partitions.ts), and the replica asks them whether
 * a request was executed before ordering it again.
 *
 * Persistence (records.ts): the state at the stable checkpoint is `d/<key>` (a value) and
 * `e/<client id>` (a SessionValue) records; each stable checkpoint writes only the keys changed
 * since the previous one, in the same atomic batch as its `cp` record.
 */
import { invariant } from '../common/invariant.js';
import type { KvOperation, KvResult, SessionTag } from '../kv/commands.js';
import { SessionTable, type SessionEntry, type SessionLookup } from '../kv/sessions.js';
import { KvStateMachine } from '../kv/state-machine.js';
import {
  DATA_PARTITIONS,
  dataPartition,
  isSessionPartition,
  PARTITIONS,
  partitionHash,
  sessionPartition,
  type PartitionEntry,
  type PartitionValue,
  type SessionValue,
} from './partitions.js';
import { StateCheckpoints, type LiveState } from './state-checkpoints.js';
import type { PersistRecord } from './types.js';

type Digest = (bytes: Uint8Array) => string;

/** A fetched partition, verified against the certified tree: its entries and AdHash. */
export interface VerifiedPartition {
  entries: PartitionEntry[];
  sum: bigint;
}

export const dataRecordKey = (key: string): string => `d/${key}`;
export const sessionRecordKey = (clientId: string): string => `e/${clientId}`;

export class ServiceState implements LiveState {
  private readonly kv = new KvStateMachine();
  private readonly sessions = new SessionTable();
  /** Per session partition: client id -> LRU stamp (ascending stamps = the table's order). */
  private readonly stamps: Array<Map<string, number>> = [];
  private clock = 0;
  readonly checkpoints: StateCheckpoints;

  constructor(private readonly digest: Digest) {
    for (let k = DATA_PARTITIONS; k < PARTITIONS; k++) this.stamps.push(new Map());
    this.checkpoints = new StateCheckpoints(digest, this);
  }

  get(key: string): string | null {
    return this.kv.get(key);
  }

  lookup(tag: SessionTag): SessionLookup {
    return this.sessions.lookup(tag);
  }

  /** Applies one client request exactly once (sessions.ts), recording what changed. */
  apply(operation: KvOperation, tag: SessionTag): KvResult {
    const seen = this.sessions.lookup(tag);
    if (seen.kind === 'duplicate') return seen.result;
    if (seen.kind === 'expired') return { kind: 'session-expired' };
    const before = this.kv.get(operation.key) ?? undefined;
    const result = this.kv.apply({ operation, session: null });
    const after = this.kv.get(operation.key) ?? undefined;
    if (before !== after) this.checkpoints.changed(dataPartition(operation.key), operation.key, before, after);
    this.recordSession(tag, result);
    return result;
  }

  /** The session updated (moved to most recent, with a new stamp) and the ones it expired. */
  private recordSession(tag: SessionTag, result: KvResult): void {
    const touched: Array<[string, SessionValue | undefined]> = [];
    this.sessions.beforeChange = (id) => touched.push([id, this.sessionValue(id)]);
    this.sessions.record(tag, result);
    this.sessions.beforeChange = null;
    this.stampsOf(tag.clientId).set(tag.clientId, ++this.clock);
    for (const [id, before] of touched) {
      const after = this.sessionValue(id);
      if (after === undefined) this.stampsOf(id).delete(id);
      this.checkpoints.changed(sessionPartition(id), id, before, after);
    }
  }

  // ---------------------------------------------------------------- LiveState

  entries(p: number): Iterable<PartitionEntry> {
    if (!isSessionPartition(p)) return this.kv.bucketEntries(p);
    const out: PartitionEntry[] = [];
    for (const id of this.stampsFor(p).keys()) out.push([id, this.sessionValue(id) as SessionValue]);
    return out;
  }

  value(p: number, key: string): PartitionValue | undefined {
    return isSessionPartition(p) ? this.sessionValue(key) : (this.kv.get(key) ?? undefined);
  }

  private sessionValue(id: string): SessionValue | undefined {
    const entry = this.sessions.entry(id);
    const stamp = this.stampsOf(id).get(id);
    return entry === null || stamp === undefined ? undefined : [entry[1], stamp, entry[2]];
  }

  private stampsOf(clientId: string): Map<string, number> {
    return this.stampsFor(sessionPartition(clientId));
  }

  private stampsFor(p: number): Map<string, number> {
    return this.stamps[p - DATA_PARTITIONS] as Map<string, number>;
  }

  // ---------------------------------------------------------------- persistence

  /** Checkpoint n is stable: the records of the keys changed since the previous stable one. */
  stabilize(n: number): PersistRecord[] {
    return this.checkpoints.stabilize(n).map(({ p, key, value }) => record(p, key, value));
  }

  /** Restart: the state from its `d/` and `e/` records, as at checkpoint n; returns its digest. */
  load(n: number, records: ReadonlyArray<[string, unknown]>): string {
    const data: Array<[string, string]> = [];
    const sessions: Array<[string, SessionValue]> = [];
    for (const [key, value] of records) {
      if (key.startsWith('d/')) data.push([key.slice(2), value as string]);
      else if (key.startsWith('e/')) sessions.push([key.slice(2), value as SessionValue]);
    }
    this.kv.clear();
    this.kv.restorePart({ data });
    this.restoreSessions(sessions);
    const sums = new Map<number, bigint>();
    for (let p = 0; p < PARTITIONS; p++) sums.set(p, partitionHash(this.digest, p, this.entries(p)));
    return this.checkpoints.reset(n, sums);
  }

  // ---------------------------------------------------------------- state transfer

  /** The root the live state would have with these partitions installed (a final check). */
  rootWith(partitions: ReadonlyMap<number, string>): string {
    return this.checkpoints.rootWithLeaves(partitions);
  }

  /**
   * TOCS §6.2: installs the fetched partitions (verified by the caller) as the state at
   * checkpoint n, whose only other partitions equal ours; returns the records that bring the
   * persisted state to n: the keys changed since our stable checkpoint and every key of a
   * replaced partition.
   */
  install(n: number, fetched: ReadonlyMap<number, VerifiedPartition>): PersistRecord[] {
    const dirty = this.checkpoints.changedSinceStable();
    const out: PersistRecord[] = [];
    for (const [p, part] of fetched) {
      const keys = dirty.get(p) ?? new Set<string>();
      for (const [key] of this.entries(p)) keys.add(key);
      for (const [key] of part.entries) keys.delete(key);
      for (const key of keys) out.push(record(p, key, undefined));
      for (const [key, value] of part.entries) out.push(record(p, key, value));
      if (!isSessionPartition(p)) this.kv.replaceBucket(p, part.entries as Array<[string, string]>);
      dirty.delete(p);
    }
    if ([...fetched.keys()].some(isSessionPartition)) this.replaceSessions(fetched);
    for (const [p, keys] of dirty) for (const key of keys) out.push(record(p, key, this.value(p, key)));
    const sums = new Map<number, bigint>();
    for (const [p, part] of fetched) sums.set(p, part.sum);
    this.checkpoints.reset(n, sums);
    return out;
  }

  private replaceSessions(fetched: ReadonlyMap<number, VerifiedPartition>): void {
    const all: Array<[string, SessionValue]> = [];
    for (let p = DATA_PARTITIONS; p < PARTITIONS; p++) {
      const entries = fetched.get(p)?.entries ?? [...this.entries(p)];
      for (const [id, value] of entries) all.push([id, value as SessionValue]);
    }
    this.restoreSessions(all);
  }

  /** Sessions in LRU order (ascending stamps), with their stamps and the clock after them. */
  private restoreSessions(sessions: Array<[string, SessionValue]>): void {
    sessions.sort(([, a], [, b]) => a[1] - b[1]);
    this.sessions.restore(sessions.map(([id, [maxSeq, , results]]): SessionEntry => [id, maxSeq, results]));
    for (const m of this.stamps) m.clear();
    this.clock = 0;
    for (const [id, [, stamp]] of sessions) {
      this.stampsOf(id).set(id, stamp);
      this.clock = Math.max(this.clock, stamp);
    }
    invariant(this.sessions.size === sessions.length, 'pbft: duplicate sessions in a restored state');
  }
}

function record(p: number, key: string, value: PartitionValue | undefined): PersistRecord {
  const k = isSessionPartition(p) ? sessionRecordKey(key) : dataRecordKey(key);
  return value === undefined ? { key: k, delete: true } : { key: k, value };
}
