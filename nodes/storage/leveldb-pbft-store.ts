import { Level } from 'level';
import { Packr } from 'msgpackr';
import { durableAfterOpen, LogSwitchWatch } from './durable-dir.js';
import type { DiskStats, WriteTimer } from '../replica-metrics.js';

/** Values are the core's plain objects (msgpack-able: Uint8Array stays bytes, no undefined). */
const packr = new Packr({ useRecords: false });

/**
 * One write of a PbftReady's `persist` (the keys and values are the core's business). `packed`,
 * when given, is `value` already msgpack-packed with this store's options (nodes/pbft/batch-wire.ts
 * passes a batch's bytes so that it is not packed again); `load` unpacks it like any other value.
 */
export type PbftPersistOp = { key: string; value: unknown; packed?: Uint8Array } | { key: string; delete: true };

/** The storage the PBFT runtime needs: every record at start (for PbftReplica.restore), then one batch per Ready. */
export interface PbftStore {
  readonly stats: DiskStats;
  load(): Promise<Array<[string, unknown]>>;
  /** Atomic and, unless fsync is off, durable before it resolves. `entries` counts client requests, for metrics. */
  persist(ops: readonly PbftPersistOp[], entries?: number): Promise<void>;
  close(): Promise<void>;
}

const isDelete = (op: PbftPersistOp): op is { key: string; delete: true } => 'delete' in op && op.delete === true;

/**
 * The PBFT durable state in one LevelDB database. Each Ready's `persist` is one LevelDB batch
 * written with `sync: true` before any of that Ready's messages leave (a replica must not send a
 * PREPARE, COMMIT or CHECKPOINT it could forget in a crash, Castro and Liskov TOCS §4.2 on
 * recovery): inputs stepped while a batch is being written share the next one (group commit, via
 * nodes/ready-loop.ts).
 */
export class LevelDbPbftStore implements PbftStore {
  readonly stats: DiskStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };

  private constructor(
    private readonly db: Level<string, Uint8Array>,
    private readonly sync: boolean,
    private readonly onWrite: WriteTimer | undefined,
    private readonly logs: LogSwitchWatch,
  ) {}

  /** `onWrite` is told how long each batch took to write (consensus_storage_write_seconds, nodes/replica-metrics.ts). */
  static async open(dir: string, options: { sync: boolean; onWrite?: WriteTimer }): Promise<LevelDbPbftStore> {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
    await db.open();
    await durableAfterOpen(dir);
    return new LevelDbPbftStore(db, options.sync, options.onWrite, await LogSwitchWatch.open(dir));
  }

  async load(): Promise<Array<[string, unknown]>> {
    const records: Array<[string, unknown]> = [];
    for await (const [key, value] of this.db.iterator()) records.push([key, packr.unpack(value)]);
    return records;
  }

  async persist(ops: readonly PbftPersistOp[], entries = 0): Promise<void> {
    if (ops.length === 0) return;
    const batch = this.db.batch();
    let bytes = 0;
    for (const op of ops) {
      if (isDelete(op)) {
        batch.del(op.key);
        continue;
      }
      const packed = op.packed ?? packr.pack(op.value);
      bytes += packed.byteLength;
      batch.put(op.key, packed);
    }
    const started = performance.now();
    await batch.write({ sync: this.sync });
    if (this.sync) await this.logs.afterSyncedWrite();
    this.onWrite?.((performance.now() - started) / 1000, this.sync);
    this.stats.fsyncs += this.sync ? 1 : 0;
    this.stats.writes += 1;
    this.stats.entriesPersisted += entries;
    this.stats.bytesPersisted += bytes;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** In-memory twin, for tests. */
export class MemoryPbftStore implements PbftStore {
  readonly stats: DiskStats = { fsyncs: 0, writes: 0, entriesPersisted: 0, bytesPersisted: 0 };
  readonly records = new Map<string, Uint8Array>();

  async load(): Promise<Array<[string, unknown]>> {
    return [...this.records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, packr.unpack(v)]);
  }

  async persist(ops: readonly PbftPersistOp[], entries = 0): Promise<void> {
    if (ops.length === 0) return;
    for (const op of ops) {
      if (isDelete(op)) this.records.delete(op.key);
      else this.records.set(op.key, op.packed ?? packr.pack(op.value));
    }
    this.stats.fsyncs += 1;
    this.stats.writes += 1;
    this.stats.entriesPersisted += entries;
  }

  async close(): Promise<void> {}
}
