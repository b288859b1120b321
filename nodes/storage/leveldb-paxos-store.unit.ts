import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { Packr } from 'msgpackr';
import { KvStateMachine } from '../../protocols/kv/state-machine.js';
import { restoreSnapshot } from '../snapshots/snapshot-chunks.js';
import { LevelDbPaxosStore, MemoryPaxosStore, type PaxosStore } from './leveldb-paxos-store.js';
import type { Ballot, Command, PersistState, PValue, RestoredState } from '../../protocols/multipaxos/types.js';

const b = (round: number, leader: string): Ballot => ({ round, leader });
const batch = (origin: Ballot, ...texts: string[]): Command => ({
  kind: 'batch',
  origin,
  payloads: texts.map((s) => new TextEncoder().encode(s)),
});
const noop = (origin: Ballot): Command => ({ kind: 'noop', origin, payloads: [] });
const pv = (ballot: Ballot, slot: number, command: Command): PValue => ({ ballot, slot, command });
const update = (u: Partial<PersistState>): PersistState => ({ ballotNum: null, accepted: [], decisions: [], snapshotChunks: [], snapshot: null, compactTo: null, ...u });
const chunkOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

/** Comparable form: payloads as strings. */
const plain = (s: RestoredState) => {
  const cmd = (c: Command) => ({ kind: c.kind, origin: c.origin, payloads: c.payloads.map((p) => Buffer.from(p).toString()) });
  return {
    ballotNum: s.ballotNum,
    accepted: s.accepted.map((p) => ({ ballot: p.ballot, slot: p.slot, command: cmd(p.command) })),
    decisions: s.decisions.map((d) => ({ slot: d.slot, command: cmd(d.command) })),
  };
};

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cl-paxos-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('ballot, accepted pvalues and decisions survive close and reopen', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: true });
  t.same(await store.load(), { ballotNum: { round: 0, leader: '' }, accepted: [], decisions: [], snapshot: null }, 'fresh');
  await store.persist(update({ ballotNum: b(2, 'n1'), accepted: [pv(b(2, 'n1'), 1, batch(b(2, 'n1'), 'a', 'b')), pv(b(2, 'n1'), 2, noop(b(2, 'n1')))] }));
  await store.persist(update({ decisions: [{ slot: 1, command: batch(b(2, 'n1'), 'a', 'b') }] }));
  t.equal(store.stats.fsyncs, 1);
  t.equal(store.stats.writes, 2);
  t.equal(store.stats.entriesPersisted, 3, 'entries count client payloads, and a no-op as one');
  await store.close();

  const again = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  t.same(plain(await again.load()), {
    ballotNum: b(2, 'n1'),
    accepted: [
      { ballot: b(2, 'n1'), slot: 1, command: { kind: 'batch', origin: b(2, 'n1'), payloads: ['a', 'b'] } },
      { ballot: b(2, 'n1'), slot: 2, command: { kind: 'noop', origin: b(2, 'n1'), payloads: [] } },
    ],
    decisions: [{ slot: 1, command: { kind: 'batch', origin: b(2, 'n1'), payloads: ['a', 'b'] } }],
  });
  const loaded = await again.load();
  t.ok(loaded.decisions[0]?.command.payloads[0] instanceof Uint8Array, 'payloads come back as Uint8Array');
});

t.test('a promise or an acceptance is fsynced; decisions alone are not; empty updates write nothing', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  await store.persist(update({ ballotNum: b(1, 'n2') }));
  t.equal(store.stats.fsyncs, 1, 'a promise');
  await store.persist(update({ accepted: [pv(b(1, 'n2'), 1, batch(b(1, 'n2'), 'x'))] }));
  t.equal(store.stats.fsyncs, 2, 'an acceptance');
  await store.persist(update({ decisions: [{ slot: 1, command: batch(b(1, 'n2'), 'x') }] }));
  t.equal(store.stats.fsyncs, 2, 'a decision alone');
  await store.persist(update({}));
  t.equal(store.stats.writes, 3, 'an empty update is not written');
  t.equal((await store.load()).decisions.length, 1, 'the decision is still written');
  const unsafe = await LevelDbPaxosStore.open(await tempDir(t), { sync: false });
  t.teardown(() => unsafe.close());
  await unsafe.persist(update({ ballotNum: b(1, 'n2') }));
  t.equal(unsafe.stats.fsyncs, 0, 'sync: false never fsyncs');
});

t.test('a higher-ballot pvalue replaces the earlier one for its slot', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: false });
  t.teardown(() => store.close());
  await store.persist(update({ accepted: [pv(b(1, 'n1'), 3, batch(b(1, 'n1'), 'old'))] }));
  await store.persist(update({ ballotNum: b(2, 'n2'), accepted: [pv(b(2, 'n2'), 3, batch(b(1, 'n1'), 'old')), pv(b(2, 'n2'), 4, noop(b(2, 'n2')))] }));
  const loaded = await store.load();
  t.same(loaded.accepted.map((p) => [p.slot, p.ballot.round]), [[3, 2], [4, 2]]);
});

t.test('hundreds of slots load back in slot order (fixed-width hex keys)', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: false });
  t.teardown(() => store.close());
  const slots = [300, 2, 16, 1, 255, 256, 17, 4096, 10];
  await store.persist(update({ decisions: slots.map((slot) => ({ slot, command: batch(b(1, 'n1'), String(slot)) })) }));
  const loaded = await store.load();
  t.same(loaded.decisions.map((d) => d.slot), [...slots].sort((x, y) => x - y));
});

t.test('the in-memory twin loads what the LevelDB store loads', async (t) => {
  const dir = await tempDir(t);
  const level = await LevelDbPaxosStore.open(dir, { sync: false });
  t.teardown(() => level.close());
  const memory = new MemoryPaxosStore();
  const updates = [
    update({ ballotNum: b(1, 'n1'), accepted: [pv(b(1, 'n1'), 2, batch(b(1, 'n1'), 'p'))] }),
    update({ accepted: [pv(b(1, 'n1'), 1, noop(b(1, 'n1')))], decisions: [{ slot: 2, command: batch(b(1, 'n1'), 'p') }] }),
    update({ ballotNum: b(3, 'n3'), accepted: [pv(b(3, 'n3'), 2, batch(b(1, 'n1'), 'p'))] }),
  ];
  for (const store of [level, memory] as PaxosStore[]) for (const u of updates) await store.persist(u);
  t.same(plain(await memory.load()), plain(await level.load()));
  t.same(memory.stats.fsyncs, 3);
});

t.test('compaction deletes decisions and pvalues at or below it, atomically, across reopen, only behind a stored snapshot', async (t) => {
  const dir = await tempDir(t);
  let store = await LevelDbPaxosStore.open(dir, { sync: true });
  await store.load();
  const o = b(1, 'n1');
  await store.persist(update({
    ballotNum: o,
    accepted: [1, 2, 3, 4, 5].map((s) => pv(o, s, batch(o, `v${s}`))),
    decisions: [1, 2, 3, 4].map((slot) => ({ slot, command: batch(o, `v${slot}`) })),
  }));
  await t.rejects(store.persist(update({ compactTo: 3 })), /needs a stored snapshot/, 'a compaction no snapshot covers is refused');
  await store.writeSnapshotChunk(3, 0, chunkOf('state'));
  await store.writeSnapshotChunk(3, 1, chunkOf('@3'));
  t.equal(await store.saveSnapshot({ slot: 3, chunks: 2 }), true, 'a snapshot taken here is saved');
  const fsyncs = store.stats.fsyncs;
  // A decision for slot 2 arriving in the compacting batch itself is collected too.
  await store.persist(update({ decisions: [{ slot: 2, command: batch(o, 'v2') }, { slot: 5, command: batch(o, 'v5') }], compactTo: 3 }));
  t.equal(store.stats.fsyncs, fsyncs, 'deletions and decisions need no fsync');
  await store.close();
  store = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  const loaded = await store.load();
  t.same(loaded.snapshot, { slot: 3, chunks: 2 });
  t.same([textOf(await store.readSnapshotChunk(3, 0)), textOf(await store.readSnapshotChunk(3, 1))], ['state', '@3'], 'its chunks survive');
  t.same(loaded.decisions.map((d) => d.slot), [4, 5], 'decisions above the compaction point only');
  t.same(loaded.accepted.map((p) => p.slot), [4, 5], 'pvalues above the compaction point only');
  t.same(loaded.ballotNum, o, 'ballot_num kept');
  await t.rejects(store.persist(update({ compactTo: 4 })), /needs a stored snapshot/, 'never beyond the stored snapshot');
});

t.test('a snapshot taken here: an older one than the stored one is refused and its chunks go; a newer one replaces it', async (t) => {
  const store = await LevelDbPaxosStore.open(await tempDir(t), { sync: true });
  t.teardown(() => store.close());
  await store.load();
  await store.writeSnapshotChunk(5, 0, chunkOf('five'));
  t.equal(await store.saveSnapshot({ slot: 5, chunks: 1 }), true);
  await store.writeSnapshotChunk(4, 0, chunkOf('four'));
  t.equal(await store.saveSnapshot({ slot: 4, chunks: 1 }), false, 'older: refused');
  t.equal(await store.readSnapshotChunk(4, 0), undefined, 'and its chunks deleted');
  t.equal(await store.saveSnapshot({ slot: 5, chunks: 1 }), false, 'as new: refused');
  t.equal(textOf(await store.readSnapshotChunk(5, 0)), 'five', 'the stored one keeps its chunks');
  // A transfer of a newer snapshot is under way while an older one, taken here, is saved.
  await store.persist(update({ snapshotChunks: [{ slot: 20, chunk: 0, data: chunkOf('twenty') }] }));
  for (const [k, text] of ['nine', 'NINE'].entries()) await store.writeSnapshotChunk(9, k, chunkOf(text));
  t.equal(await store.saveSnapshot({ slot: 9, chunks: 2 }), true, 'newer than the stored one: saved');
  t.equal(await store.readSnapshotChunk(5, 0), undefined, 'the replaced snapshot\'s chunks go');
  t.equal(textOf(await store.readSnapshotChunk(20, 0)), 'twenty', 'the chunks of the transfer of a newer one stay');
  t.same((await store.load()).snapshot, { slot: 9, chunks: 2 });
});

t.test('a snapshot installed while one taken here is being saved wins, also on disk', async (t) => {
  // The twin of the Raft store's test: saveSnapshot(5) waits for its chunks' fsync while
  // snapshot 20 is installed, which deletes the chunks below 20.
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: true });
  await store.load();
  await store.writeSnapshotChunk(5, 0, chunkOf('five'));
  const files = (store as unknown as { files: { sync(slot: number, chunks: number): Promise<void> } }).files;
  const sync = files.sync.bind(files);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  files.sync = async (slot, chunks) => {
    if (slot === 5) await held;
    return sync(slot, chunks);
  };
  const own = store.saveSnapshot({ slot: 5, chunks: 1 });
  await store.persist(update({ snapshotChunks: [{ slot: 20, chunk: 0, data: chunkOf('twenty') }], snapshot: { slot: 20, chunks: 1 }, compactTo: 20 }));
  release();
  t.equal(await own, false, 'the older snapshot is not saved');
  await store.close();
  const again = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  t.same((await again.load()).snapshot, { slot: 20, chunks: 1 }, 'the installed snapshot is the one on disk');
  t.equal(textOf(await again.readSnapshotChunk(20, 0)), 'twenty', 'with its chunk');
});

t.test('an installed snapshot: chunks stored over several batches, then made the stored one with its compaction', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: true });
  await store.load();
  const o = b(1, 'n1');
  await store.writeSnapshotChunk(2, 0, chunkOf('two'));
  await store.saveSnapshot({ slot: 2, chunks: 1 });
  await store.persist(update({ decisions: [3, 4, 12].map((slot) => ({ slot, command: batch(o, `v${slot}`) })) }));
  const before = store.stats.fsyncs;
  await store.persist(update({ snapshotChunks: [{ slot: 10, chunk: 1, data: chunkOf('b') }] }));
  await store.persist(update({ snapshotChunks: [{ slot: 10, chunk: 0, data: chunkOf('a') }] }));
  t.equal(store.stats.fsyncs, before, 'chunks alone are not fsynced');
  await store.persist(update({ snapshotChunks: [{ slot: 10, chunk: 2, data: chunkOf('c') }], snapshot: { slot: 10, chunks: 3 }, compactTo: 10 }));
  t.equal(store.stats.fsyncs, before + 1, 'the installed snapshot is');
  await store.close();
  const again = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  const loaded = await again.load();
  t.same(loaded.snapshot, { slot: 10, chunks: 3 });
  t.same(loaded.decisions.map((d) => d.slot), [12], 'decisions it covers are gone');
  const chunks = [];
  for (let k = 0; k < 3; k++) chunks.push(textOf(await again.readSnapshotChunk(10, k)));
  t.same(chunks, ['a', 'b', 'c']);
  t.equal(await again.readSnapshotChunk(2, 0), undefined, 'the snapshot it replaced is gone');
});

t.test('chunks of a transfer or of a snapshot whose descriptor a crash cut off are deleted at the next start', async (t) => {
  const dir = await tempDir(t);
  const store = await LevelDbPaxosStore.open(dir, { sync: true });
  await store.load();
  await store.writeSnapshotChunk(4, 0, chunkOf('kept'));
  await store.saveSnapshot({ slot: 4, chunks: 1 });
  await store.writeSnapshotChunk(4, 1, chunkOf('past its last chunk'));
  await store.writeSnapshotChunk(3, 0, chunkOf('older'));
  await store.writeSnapshotChunk(7, 0, chunkOf('taken, not saved'));
  await store.persist(update({ snapshotChunks: [{ slot: 9, chunk: 0, data: chunkOf('received, not installed') }] }));
  await store.close();
  const again = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => again.close());
  t.same((await again.load()).snapshot, { slot: 4, chunks: 1 });
  t.equal(textOf(await again.readSnapshotChunk(4, 0)), 'kept');
  for (const [slot, chunk] of [[4, 1], [3, 0], [7, 0], [9, 0]] as const) t.equal(await again.readSnapshotChunk(slot, chunk), undefined, `chunk ${chunk} of ${slot} gone`);

  const fresh = await LevelDbPaxosStore.open(await tempDir(t), { sync: true });
  t.teardown(() => fresh.close());
  await fresh.writeSnapshotChunk(1, 0, chunkOf('x'));
  t.equal((await fresh.load()).snapshot, null);
  t.equal(await fresh.readSnapshotChunk(1, 0), undefined, 'no snapshot stored: every chunk goes');
});

t.test('a whole snapshot stored by an earlier version (one value under paxos:snapshot) is upgraded to one chunk', async (t) => {
  const dir = await tempDir(t);
  const sm = new KvStateMachine();
  sm.apply({ operation: { op: 'put', key: 'a', value: '1' }, session: { clientId: 'c1', seq: 1 } });
  sm.apply({ operation: { op: 'put', key: 'b', value: '2' }, session: null });
  const packr = new Packr({ useRecords: false });
  const old = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  await old.open();
  await old.put('paxos:snapshot', packr.pack([7, packr.pack(sm.snapshot())]));
  await old.put('paxos:dec:' + (8).toString(16).padStart(13, '0'), packr.pack([0, 1, 'n1', []]));
  await old.close();
  const store = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  const loaded = await store.load();
  t.same(loaded.snapshot, { slot: 7, chunks: 1 }, 'a descriptor of one chunk');
  t.same(loaded.decisions.map((d) => d.slot), [8]);
  const restored = await restoreSnapshot(1, async (k) => (await store.readSnapshotChunk(7, k)) as Uint8Array);
  t.same(restored?.snapshot(), sm.snapshot(), 'the chunk restores the same state, sessions included');
  t.same((await store.load()).snapshot, { slot: 7, chunks: 1 }, 'stored upgraded: the next start reads the new format');
});

t.test('the in-memory twin handles snapshots as the LevelDB store does', async (t) => {
  const level = await LevelDbPaxosStore.open(await tempDir(t), { sync: false });
  t.teardown(() => level.close());
  const memory = new MemoryPaxosStore();
  const o = b(1, 'n1');
  const view = async (store: PaxosStore) => {
    const loaded = await store.load();
    const chunks = [];
    for (const [slot, chunk] of [[3, 0], [3, 1], [6, 0], [9, 0]] as const) chunks.push(textOf(await store.readSnapshotChunk(slot, chunk)));
    return { snapshot: loaded.snapshot, decisions: loaded.decisions.map((d) => d.slot), chunks };
  };
  for (const store of [level, memory] as PaxosStore[]) {
    await store.load();
    await store.persist(update({ decisions: [1, 2, 3, 4, 5, 6, 7].map((slot) => ({ slot, command: batch(o, `v${slot}`) })) }));
    await store.writeSnapshotChunk(3, 0, chunkOf('x'));
    await store.writeSnapshotChunk(3, 1, chunkOf('y'));
    await store.saveSnapshot({ slot: 3, chunks: 2 });
    await store.persist(update({ compactTo: 2 }));
    await store.persist(update({ snapshotChunks: [{ slot: 9, chunk: 0, data: chunkOf('z') }] }));
    await store.writeSnapshotChunk(6, 0, chunkOf('w'));
    t.equal(await store.saveSnapshot({ slot: 6, chunks: 1 }), true);
  }
  t.same(await view(memory), await view(level));
  t.same((await view(level)).decisions, [7], 'decisions at or below the stored snapshot are not loaded');
});

t.test('every fsynced batch is timed once, a saved snapshot too (consensus_storage_write_seconds)', async (t) => {
  const dir = await tempDir(t);
  const timed: boolean[] = [];
  const store = await LevelDbPaxosStore.open(dir, { sync: true, onWrite: (_s, fsync) => timed.push(fsync) });
  t.teardown(() => store.close());
  await store.load();
  const o = b(1, 'n1');
  await store.persist(update({ ballotNum: o, accepted: [pv(o, 1, batch(o, 'x'))] }));
  await store.writeSnapshotChunk(1, 0, chunkOf('one'));
  await store.saveSnapshot({ slot: 1, chunks: 1 });
  t.equal(timed.filter((f) => f).length, store.stats.fsyncs, 'one timed sample per fsync');
  t.equal(store.stats.fsyncs, 2, 'the acceptance and the snapshot');
});
