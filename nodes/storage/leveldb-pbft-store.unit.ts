import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelDbPbftStore, MemoryPbftStore, type PbftStore } from './leveldb-pbft-store.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cl-pbft-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function exercise(t: Test, store: PbftStore, reopen: () => Promise<PbftStore>): Promise<void> {
  const digest = new Uint8Array([1, 2, 3]);
  await store.persist([
    { key: 'pp:0000000001', value: { view: 0, sequence: 1, digest } },
    { key: 'pp:0000000002', value: { view: 0, sequence: 2, requests: [] } },
    { key: 'view', value: 3 },
  ], 2);
  await store.persist([{ key: 'pp:0000000001', delete: true }, { key: 'view', value: 4 }]);
  await store.persist([]);
  t.equal(store.stats.writes, 2, 'an empty Ready writes nothing');
  t.equal(store.stats.entriesPersisted, 2);
  if (store instanceof LevelDbPbftStore) t.equal(store.stats.fsyncs, 2, 'one fsync per non-empty Ready');
  const again = await reopen();
  const records = await again.load();
  t.same(records.map(([k]) => k), ['pp:0000000002', 'view'], 'deleted keys are gone, the rest in key order');
  t.same(records[1]![1], 4, 'the last write wins');
  t.same(records[0]![1], { view: 0, sequence: 2, requests: [] });
  const first = await reopen();
  await first.persist([{ key: 'bytes', value: { digest } }]);
  const back = (await (await reopen()).load()).find(([k]) => k === 'bytes')![1] as { digest: Uint8Array };
  t.ok(back.digest instanceof Uint8Array, 'bytes come back as bytes');
  t.same([...back.digest], [1, 2, 3]);
}

t.test('LevelDB: one batch per Ready, everything back after a reopen', async (t) => {
  const dir = await tempDir(t);
  let store = await LevelDbPbftStore.open(dir, { sync: true });
  t.teardown(() => store.close());
  const reopen = async (): Promise<PbftStore> => {
    await store.close();
    store = await LevelDbPbftStore.open(dir, { sync: true });
    return store;
  };
  await exercise(t, store, reopen);
});

t.test('memory twin behaves the same', async (t) => {
  const store = new MemoryPbftStore();
  await exercise(t, store, async () => store);
});
