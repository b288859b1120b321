import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const update = (u: Partial<PersistState>): PersistState => ({ ballotNum: null, accepted: [], decisions: [], compactTo: null, ...u });

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
  t.same(await store.load(), { ballotNum: { round: 0, leader: '' }, accepted: [], decisions: [], snapshotSlot: 0, snapshot: null }, 'fresh');
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

t.test('compaction stores the snapshot and deletes decisions and pvalues at or below it, atomically, across reopen', async (t) => {
  const dir = await tempDir(t);
  let store = await LevelDbPaxosStore.open(dir, { sync: true });
  const o = b(1, 'n1');
  await store.persist(update({
    ballotNum: o,
    accepted: [1, 2, 3, 4, 5].map((s) => pv(o, s, batch(o, `v${s}`))),
    decisions: [1, 2, 3, 4].map((slot) => ({ slot, command: batch(o, `v${slot}`) })),
  }));
  await t.rejects(store.persist(update({ compactTo: 3 })), /needs a snapshot/, 'a compaction without a snapshot is refused');
  const data = new TextEncoder().encode('state@3');
  // A decision for slot 2 arriving in the compacting batch itself is collected too.
  await store.persist(update({ decisions: [{ slot: 2, command: batch(o, 'v2') }, { slot: 5, command: batch(o, 'v5') }], compactTo: 3 }), { slot: 3, data });
  await store.close();
  store = await LevelDbPaxosStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  const loaded = await store.load();
  t.equal(loaded.snapshotSlot, 3);
  t.equal(Buffer.from(loaded.snapshot?.data ?? new Uint8Array()).toString(), 'state@3', 'the snapshot bytes survive');
  t.same(loaded.decisions.map((d) => d.slot), [4, 5], 'decisions above the compaction point only');
  t.same(loaded.accepted.map((p) => p.slot), [4, 5], 'pvalues above the compaction point only');
  t.same(loaded.ballotNum, o, 'ballot_num kept');

  const memory = new MemoryPaxosStore();
  await memory.persist(update({ decisions: [1, 2, 3, 4].map((slot) => ({ slot, command: batch(o, `v${slot}`) })) }));
  await memory.persist(update({ compactTo: 2 }), { slot: 3, data });
  const mem = await memory.load();
  t.same([mem.snapshotSlot, mem.decisions.map((d) => d.slot)], [3, [3, 4]], 'the in-memory twin: snapshot slot may exceed compactTo');
});
