/**
 * State transfer through the partition tree (TOCS §6.2): a lagging replica fetches the tree's
 * meta-data top-down and only the leaf partitions that differ from its own; a restarted replica
 * recovers its stable checkpoint from the incremental records.
 */
import t from 'tap';
import { dataPartition, sessionPartition } from './partitions.js';
import { TestCluster, type Envelope } from './sim/test-cluster.js';

const config = { checkpointInterval: 2, watermarkWindow: 4, maxBatchRequests: 64, maxTransferBytes: 4096 };

/** 2,000 keys everywhere (batches of 64), then replica 3 misses `missed` single-put batches. */
function lagging(missed: string[]): TestCluster {
  const c = new TestCluster(4, config);
  for (let k = 1; k <= 2000; k++) c.replicas[0]?.submit(c.request('load', k, `key-${k}`, `value-${k}`, 0));
  c.run();
  c.down.add(3);
  missed.forEach((key, k) => {
    c.replicas[0]?.submit(c.request('late', k + 1, key, 'changed', 0));
    c.run();
  });
  return c;
}

t.test('a PBFT state transfer fetches only what differs', async (t) => {
  const missed = Array.from({ length: 9 }, (_, k) => `key-${k * 200 + 7}`);
  const c = lagging(missed);
  t.equal(c.cores[3]?.status().lastExecuted, 32, 'replica 3 executed the load (2,000 puts in batches of 64)');
  c.down.delete(3);
  c.tick(60);
  const s = c.cores[3]?.status();
  t.equal(s?.lastExecuted, c.cores[0]?.status().lastExecuted, 'replica 3 caught up');
  t.ok((s?.stateTransfers ?? 0) >= 1, 'through a state transfer');
  const fetched = c.cores[3]?.lastStateTransfer();
  const differ = new Set([...missed.map(dataPartition), sessionPartition('late')]);
  t.ok(fetched !== null && fetched !== undefined);
  t.ok((fetched?.partitions ?? 0) <= differ.size, `it fetched ${fetched?.partitions} partitions, at most the ${differ.size} that differ (of 4,160; 2,000 keys in ~1,600)`);
  t.ok((fetched?.partitions ?? 0) >= differ.size - 1, 'and not fewer (the last batch may come after the checkpoint)');
  t.ok((fetched?.metaNodes ?? 0) < 60, `and ${fetched?.metaNodes} tree nodes' meta-data of 280 (only the differing subtrees)`);
  for (const key of missed) t.equal(c.cores[3]?.get(key), 'changed', `${key} is the new value`);
  t.equal(c.cores[3]?.get('key-1'), 'value-1', 'and the partitions it did not fetch are its own, equal ones');
  const n = s?.lastStableCheckpoint ?? 0;
  t.equal(c.cores[3]?.checkpointDigest(n), c.cores[0]?.checkpointDigest(n), 'its state digest at the stable checkpoint is the others\u2019');
  const installed = fetched?.sequence ?? -1;
  const reported = (c.checkpoints[3] ?? []).filter((x) => x.sequence === installed);
  t.same(reported.map((x) => x.digest), [(c.checkpoints[0] ?? []).find((x) => x.sequence === installed)?.digest ?? 'none'], 'its Ready reported the installed checkpoint, once, with the digest replica 0 took there');
  t.notOk((c.executedBatches[3] ?? []).some((e) => e.sequence === installed), 'as a checkpoint, not as an execution');
});

t.test('a state transfer ignores a Byzantine source that sends made-up partitions and meta-data', async (t) => {
  const c = new TestCluster(4, config, new Map([[0, 'bad-digest' as const]]));
  for (let k = 1; k <= 300; k++) c.replicas[1]?.submit(c.request('load', k, `key-${k}`, `value-${k}`, 1));
  c.tick(80);
  c.down.add(3);
  for (let k = 1; k <= 8; k++) {
    c.replicas[1]?.submit(c.request('late', k, `key-${k * 30}`, 'changed', 1));
    c.tick(20);
  }
  c.down.delete(3);
  c.tick(200);
  const s = c.cores[3]?.status();
  t.equal(s?.lastExecuted, c.cores[1]?.status().lastExecuted, 'replica 3 caught up despite the liar');
  t.equal(c.cores[3]?.get('key-240'), 'changed');
  t.equal(c.cores[3]?.get('key-7'), 'value-7');
});

t.test('pieces of a partition count from every replica asked since the last progress, when answers are slower than the retransmission interval (seed 342892138)', async (t) => {
  // One partition of 24 keys, paged one item per chunk (maxTransferBytes 1). Every chunk to the
  // lagging replica 3 arrives 7 ticks late, after its retransmission (every 5 ticks, requestTimeoutTicks
  // 20) has asked the next source: each piece comes from a replica that is no longer the source.
  const c = new TestCluster(4, { ...config, maxTransferBytes: 1 });
  const target = dataPartition('key-0');
  const keys: string[] = [];
  for (let k = 0; keys.length < 24; k++) if (dataPartition(`key-${k}`) === target) keys.push(`key-${k}`);
  keys.forEach((key, k) => c.replicas[0]?.submit(c.request('load', k + 1, key, 'old', 0)));
  c.run();
  c.down.add(3);
  keys.forEach((key, k) => {
    c.replicas[0]?.submit(c.request('late', k + 1, key, 'new', 0));
    c.run();
  });
  c.down.delete(3);
  let now = 0;
  let late: Array<{ e: Envelope; due: number }> = [];
  c.filter = (e) => {
    if (e.to !== 3 || e.message.type !== 'PartitionChunk') return true;
    late.push({ e, due: now + 7 });
    return false;
  };
  const behind = (): boolean => (c.cores[3]?.status().lastExecuted ?? 0) < (c.cores[0]?.status().lastExecuted ?? 0);
  for (; now < 2000 && behind(); now++) {
    c.queue.push(...late.filter((l) => l.due <= now).map((l) => l.e));
    late = late.filter((l) => l.due > now);
    c.tick();
  }
  t.notOk(behind(), `replica 3 caught up after ${now} ticks`);
  t.ok((c.cores[3]?.status().stateTransfers ?? 0) >= 1, 'through a state transfer');
  for (const key of keys) t.equal(c.cores[3]?.get(key), 'new', key);
});

t.test('a restarted replica recovers its stable checkpoint from the incremental records', async (t) => {
  const c = lagging([]);
  for (let k = 1; k <= 10; k++) {
    c.replicas[0]?.submit(c.request('more', k, `key-${k}`, k % 2 === 0 ? 'again' : '', 0));
    c.replicas[0]?.submit(c.request('more2', k, `gone-${k}`, 'x', 0));
    c.run();
  }
  const before = c.cores[0]?.status();
  const n = before?.lastStableCheckpoint ?? 0;
  const disk = c.disks[0] as Map<string, unknown>;
  t.ok([...disk.keys()].filter((k) => k.startsWith('d/')).length >= 2000, 'the state at the stable checkpoint is on disk, one record per key');
  t.ok(disk.has('e/load') && disk.has('e/more'), 'and one per session');
  const digest = c.cores[0]?.checkpointDigest(n);
  c.restart(0);
  const after = c.cores[0]?.status();
  t.equal(after?.lastStableCheckpoint, n);
  t.equal(after?.lastExecuted, before?.lastExecuted, 'it replayed the batches after the checkpoint');
  t.equal(c.cores[0]?.checkpointDigest(n), digest, 'the digest recomputed from the records is the certified one');
  t.equal(c.cores[0]?.get('key-4'), 'again');
  t.equal(c.cores[0]?.get('key-2000'), 'value-2000');
});
