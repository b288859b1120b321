/**
 * Cluster.powerOff and powerOffAll on real Raft replicas, each on its own power-loss filesystem: a
 * write acknowledged right before a whole-cluster power failure is there after the restart; one
 * replica loses power and comes back on what survived; a replica added later gets a disk too; a wipe is
 * durable (the old contents do not come back after a power loss). Whole-cluster power failures
 * under load are in harness/chaos/power-loss.test.ts. Needs root and FUSE: skipped elsewhere, a
 * failure when FAULTS_REQUIRED=1.
 */
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kv, until } from '../client/kv-client.js';
import { fsyncDir } from '../../nodes/storage/durable-dir.js';
import { requireLazyFs } from '../lazyfs/test-support.js';
import { Cluster } from './cluster.js';

async function startCluster(t: Test): Promise<Cluster> {
  const cluster = await Cluster.create({ protocol: 'raft', nodes: 3, logLevel: 'warn', lazyfs: true });
  t.teardown(() => cluster.stopAll());
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
  await cluster.waitForLeader(30_000);
  return cluster;
}

t.test('power off', async (t) => {
  if (!(await requireLazyFs(t))) return;

  t.test('the whole cluster right after an acknowledged write, then one replica; added and wiped replicas have disks too', async (t) => {
    const cluster = await startCluster(t);
    const first = await cluster.waitForLeader();
    t.equal((await kv.put(cluster.replica(first).httpUrl, 'k', 'before', { timeoutMs: 5000 })).status, 200);
    // Every copy at once: this is what needs the data directory and LevelDB's CURRENT durable.
    const all = await cluster.powerOffAll();
    t.same(Object.values(all).map((l) => l.undoErrors), [0, 0, 0]);
    await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
    const back = await until(() => kv.get(cluster.replicas[0]!.httpUrl, 'k', 'linearizable', { timeoutMs: 3000 }), (r) => r.status === 200 || r.status === 404, 30_000, 'read k');
    t.same(back.body, { key: 'k', value: 'before' }, 'the acknowledged write survived the whole-cluster power failure');

    const leader = await cluster.waitForLeader(30_000);
    const lost = await cluster.powerOff(leader);
    t.equal(cluster.replica(leader).state, 'killed', 'the replica is down');
    t.equal(lost.undoErrors, 0);
    const next = await cluster.waitForLeader(30_000, [leader]);
    t.not(next, leader, 'another replica leads');
    await cluster.restart(leader);
    const read = await until(() => kv.get(cluster.replica(leader).httpUrl, 'k', 'linearizable', { timeoutMs: 3000 }), (r) => r.status === 200, 30_000, 'read k');
    t.same(read.body, { key: 'k', value: 'before' });

    const added = await cluster.addReplica({ id: 'n4', timeoutMs: 30_000 });
    t.ok(cluster.disks?.has('n4'), 'the added replica has a disk');
    t.match(added.dataDir, /lazyfs\/n4\/mnt\/data$/);
    t.match(await cluster.powerOff('n4'), { undoErrors: 0 }, 'and can lose power');
    await cluster.restart('n4');

    const marker = join(cluster.replica('n2').dataDir, 'marker');
    await writeFile(marker, 'the old disk');
    await fsyncFile(marker);
    await fsyncDir(cluster.replica('n2').dataDir);
    await cluster.restart('n2', { wipe: true });
    await cluster.powerOff('n2');
    t.notOk(existsSync(marker), 'a wipe is durable: the old contents do not come back after a power loss');
    await cluster.restart('n2');
  });
});

async function fsyncFile(path: string): Promise<void> {
  const h = await open(path, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
