import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { LevelDbRaftLogStore } from './leveldb-raft-log-store.js';
import { LogSwitchWatch } from './durable-dir.js';
import { SnapshotFiles } from './snapshot-files.js';
import type { LogEntry } from '../../protocols/raft/types.js';

const entry = (index: number, term: number, text: string | null): LogEntry => ({
  index,
  term,
  kind: text === null ? 'noop' : 'command',
  data: text === null ? null : new TextEncoder().encode(text),
});

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cl-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('hard state and entries survive close and reopen', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.same(await store.load(), { hardState: { currentTerm: 0, votedFor: null, commitIndex: 0 }, entries: [], snapshot: null });
  await store.persist({
    hardState: { currentTerm: 2, votedFor: 'n1', commitIndex: 1 },
    truncateFrom: null,
    entries: [entry(1, 1, null), entry(2, 2, 'a'), entry(3, 2, 'b')],
  });
  t.equal(store.stats.fsyncs, 1);
  t.equal(store.stats.entriesPersisted, 3);
  await store.close();

  const again = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  const loaded = await again.load();
  t.same(loaded.hardState, { currentTerm: 2, votedFor: 'n1', commitIndex: 1 });
  t.same(
    loaded.entries.map((e) => [e.index, e.term, e.kind, e.data && Buffer.from(e.data).toString()]),
    [[1, 1, 'noop', null], [2, 2, 'command', 'a'], [3, 2, 'command', 'b']],
  );
});

t.test('only term, vote and entries need an fsync; a commit-index-only batch does not', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  await store.load();
  await store.persist({ hardState: { currentTerm: 1, votedFor: 'n1', commitIndex: 0 }, truncateFrom: null, entries: [] });
  t.equal(store.stats.fsyncs, 1, 'a vote is fsynced');
  await store.persist({ hardState: null, truncateFrom: null, entries: [entry(1, 1, 'a')] });
  t.equal(store.stats.fsyncs, 2, 'entries are fsynced');
  await store.persist({ hardState: { currentTerm: 1, votedFor: 'n1', commitIndex: 1 }, truncateFrom: null, entries: [] });
  t.equal(store.stats.fsyncs, 2, 'a commit index alone is written without fsync');
  t.equal(store.stats.writes, 3);
  t.same((await store.load()).hardState, { currentTerm: 1, votedFor: 'n1', commitIndex: 1 }, 'and is still written');
});

t.test('truncation removes the conflicting suffix before appending (Raft §5.3)', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  await store.load();
  await store.persist({ hardState: null, truncateFrom: null, entries: [entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')] });
  await store.persist({ hardState: null, truncateFrom: 2, entries: [entry(2, 3, 'x')] });
  const loaded = await store.load();
  t.same(loaded.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 3]]);
});

t.test('a snapshot and compaction survive reopen; entries then follow the snapshot (Raft §7)', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  await store.load();
  await store.persist({ hardState: null, truncateFrom: null, entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1, String(i))) });
  await store.writeSnapshotChunk(3, 0, new Uint8Array([7, 7]));
  await store.writeSnapshotChunk(3, 1, new Uint8Array([7]));
  t.equal(await store.saveSnapshot({ index: 3, term: 1, chunks: 2 }), true, 'a snapshot taken here is saved');
  await store.persist({ hardState: null, truncateFrom: null, entries: [], compactTo: 3 });
  await store.writeSnapshotChunk(2, 0, new Uint8Array([9]));
  t.equal(await store.saveSnapshot({ index: 2, term: 1, chunks: 1 }), false, 'an older one is refused');
  t.equal(await store.readSnapshotChunk(2, 0), undefined, 'and its chunks deleted');
  await store.close();
  const again = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  const loaded = await again.load();
  t.same(loaded.entries.map((e) => e.index), [4, 5], 'entries covered by the snapshot are gone');
  t.same(loaded.snapshot, { index: 3, term: 1, chunks: 2 });
  t.same([...((await again.readSnapshotChunk(3, 0)) ?? [])], [7, 7], 'its chunks are there');
  t.same([...((await again.readSnapshotChunk(3, 1)) ?? [])], [7]);
  // An installed snapshot beyond the log replaces it, its chunks received with the batches; the
  // next entry follows the snapshot, and the older snapshot's chunks go.
  await again.persist({ hardState: null, truncateFrom: null, entries: [], snapshotChunks: [{ index: 10, chunk: 0, data: new Uint8Array([1]) }] });
  await again.persist({ hardState: null, truncateFrom: null, entries: [entry(11, 2, 'x')], snapshot: { index: 10, term: 2, chunks: 1 }, compactTo: 10 });
  const last = await again.load();
  t.same(last.entries.map((e) => e.index), [11]);
  t.equal(last.snapshot?.index, 10);
  t.same([...((await again.readSnapshotChunk(10, 0)) ?? [])], [1]);
  t.equal(await again.readSnapshotChunk(3, 0), undefined, 'the replaced snapshot is gone');
});

t.test('a snapshot installed while one taken here is being saved wins, also on disk', async (t) => {
  // saveSnapshot(3) waits for its chunk files' fsync; meanwhile the leader's snapshot 10 is
  // installed (persist), which deletes the chunks below 10. The older descriptor must not be
  // written after the newer one: the disk would name a snapshot whose chunks are gone.
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  await store.load();
  await store.persist({ hardState: null, truncateFrom: null, entries: [1, 2, 3, 4].map((i) => entry(i, 1, String(i))) });
  await store.writeSnapshotChunk(3, 0, new Uint8Array([3]));
  // Hold snapshot 3's fsync until the installed snapshot is fully persisted.
  const files = (store as unknown as { files: SnapshotFiles }).files;
  const sync = files.sync.bind(files);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  files.sync = async (index, chunks) => {
    if (index === 3) await held;
    return sync(index, chunks);
  };
  const own = store.saveSnapshot({ index: 3, term: 1, chunks: 1 });
  const installed = store.persist({
    hardState: null, truncateFrom: null, entries: [], compactTo: 10,
    snapshotChunks: [{ index: 10, chunk: 0, data: new Uint8Array([10]) }], snapshot: { index: 10, term: 2, chunks: 1 },
  });
  await installed;
  release();
  t.equal(await own, false, 'the older snapshot is not saved');
  await store.close();
  const again = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  const loaded = await again.load();
  t.equal(loaded.snapshot?.index, 10, 'the installed snapshot is the one on disk');
  t.same([...((await again.readSnapshotChunk(10, 0)) ?? [])], [10], 'with its chunk');
});

t.test('chunks of a transfer cut short are deleted at the next start', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  await store.load();
  await store.persist({ hardState: null, truncateFrom: null, entries: [], snapshotChunks: [{ index: 8, chunk: 0, data: new Uint8Array([1]) }] });
  await store.close();
  const again = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  t.equal((await again.load()).snapshot, null);
  t.equal(await again.readSnapshotChunk(8, 0), undefined);
});

t.test('an entry that does not follow the log is refused', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  await store.load();
  await t.rejects(store.persist({ hardState: null, truncateFrom: null, entries: [entry(2, 1, 'a')] }), /does not follow/);
});

t.test('hundreds of entries load back in log order', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: false });
  t.teardown(() => store.close());
  await store.load();
  const many = Array.from({ length: 300 }, (_, i) => entry(i + 1, 1, String(i)));
  await store.persist({ hardState: null, truncateFrom: null, entries: many });
  const loaded = await store.load();
  t.equal(loaded.entries.length, 300);
  t.equal(loaded.entries[299]?.index, 300);
});

t.test('each start gets a higher incarnation, even with the clock set back', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.equal(await store.nextIncarnation(5_000), 5_000, 'the start time when it is higher');
  t.equal(await store.nextIncarnation(1_000), 5_001, 'a clock behind the last start still moves up');
  await store.close();
  const again = await LevelDbRaftLogStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  t.equal(await again.nextIncarnation(2_000), 5_002, 'the counter survives a restart');
  t.equal(await again.nextIncarnation(9_000), 9_000);
});

/** A store on `dir` whose batches count their deletions as they are built. */
async function countingStore(dir: string, sliceMs: number): Promise<{ store: LevelDbRaftLogStore; db: Level<string, Uint8Array>; dels: () => number }> {
  const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  await db.open();
  let dels = 0;
  const batch = db.batch.bind(db);
  db.batch = (() => {
    const b = batch();
    const del = b.del.bind(b);
    b.del = (key: string) => (dels++, del(key));
    return b;
  }) as typeof db.batch;
  const store = new LevelDbRaftLogStore(db, { sync: false, sliceMs }, new SnapshotFiles(join(dir, 'snapshots')), await LogSwitchWatch.open(dir));
  return { store, db, dels: () => dels };
}

async function contents(db: Level<string, Uint8Array>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of db.iterator()) if (k !== 'raft:incarnation') out.push([k, Buffer.from(v).toString('hex')]);
  return out;
}

t.test('a large compaction is built over several event-loop turns, into the same batch as in one turn', async (t) => {
  const n = 5000;
  const many = Array.from({ length: n }, (_, i) => entry(i + 1, 1, `command ${i}`));
  const run = async (sliceMs: number): Promise<{ midway: number; dels: number; rows: Array<[string, string]> }> => {
    const dir = await tempDir(t);
    const { store, db, dels } = await countingStore(dir, sliceMs);
    t.teardown(() => store.close());
    await store.load();
    await store.persist({ hardState: { currentTerm: 1, votedFor: 'n1', commitIndex: n }, truncateFrom: null, entries: many });
    await store.saveSnapshot({ index: n - 10, term: 1, chunks: 1 });
    const before = dels();
    let midway = -1;
    // A callback queued right after the call runs at the batch's first yield, if there is one.
    const persisting = store.persist({ hardState: null, truncateFrom: null, entries: [], compactTo: n - 10 });
    setImmediate(() => (midway = dels() - before));
    await persisting;
    return { midway, dels: dels() - before, rows: await contents(db) };
  };
  const sliced = await run(0);
  const oneTurn = await run(1e9);
  t.ok(sliced.midway > 0 && sliced.midway < n - 10, `another callback ran with ${sliced.midway} of ${n - 10} deletions built`);
  t.equal(oneTurn.midway, n - 10, 'with an unbounded slice the whole batch is built in one turn');
  t.equal(sliced.dels, n - 10, 'every compacted entry deleted once');
  t.equal(sliced.rows.length, 10 + 2, 'ten entries left, the hard state and the snapshot descriptor');
  t.same(sliced.rows, oneTurn.rows, 'the database holds the same keys and bytes either way');
});
