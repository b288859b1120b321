/**
 * The dashboard's cluster (createProxiedCluster) on real Raft processes: a replica added after
 * the start (a membership change, as `add` in the cluster script) has its links through the
 * fault proxy in both directions, so the dashboard draws them and can cut them; removing it
 * drops its links.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { kv, until } from '../client/kv-client.js';
import type { ClusterFile } from '../../nodes/config.js';
import { linkViews } from './cluster-actions.js';
import { createProxiedCluster } from './proxied-cluster.js';

const ok = (r: { status: number }) => r.status === 200;

t.test('a replica added later is behind the fault proxy: its links can be cut and healed', async (t) => {
  const { cluster, proxy } = await createProxiedCluster({ protocol: 'raft', nodes: 3, logLevel: 'warn' });
  t.teardown(async () => {
    await cluster.stopAll();
    await proxy.close();
  });
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
  const leader = await cluster.waitForLeader(20_000);
  const url = cluster.replica(leader).httpUrl;
  await until(() => kv.put(url, 'before', '1'), ok);

  const n4 = await cluster.addReplica({ id: 'n4' });
  t.same(proxy.ids, ['n1', 'n2', 'n3', 'n4'], 'the proxy has links for n4');
  t.ok(linkViews(proxy).some((l) => l.a === 'n1' && l.b === 'n4'), 'the dashboard draws n1–n4');
  const file = JSON.parse(await readFile(cluster.clusterFilePath, 'utf8')) as ClusterFile;
  for (const spec of file.nodes.filter((s) => s.id !== 'n4')) {
    t.equal(spec.dial?.['n4'], proxy.dial(spec.id, 'n4'), `${spec.id} dials n4 through the proxy after a restart`);
  }
  t.equal(file.nodes.find((s) => s.id === 'n4')?.dial?.[leader], proxy.dial('n4', leader), 'n4 dials the others through it');
  const got = await until(() => kv.get(n4.httpUrl, 'before', 'stale'), ok, 20_000, 'n4 caught up');
  t.equal(got.body['value'], '1');
  const leaderNow = await cluster.waitForLeader(20_000);
  t.ok(proxy.link(leaderNow, 'n4').counters.forwardedBytes > 0, 'the leader reaches n4 through the proxy');
  t.ok(proxy.link('n4', leaderNow).counters.forwardedBytes > 0, 'and n4 answers through it');

  // Cut n4 off: the leader's heartbeats to it are discarded by the proxy, so it learns nothing new.
  proxy.isolate('n4');
  const discarded = proxy.link(leaderNow, 'n4').counters.discardedBytes;
  await until(() => kv.put(cluster.replica(leaderNow).httpUrl, 'cut', 'x'), ok, 20_000, 'a write while n4 is cut off');
  await until(async () => proxy.link(leaderNow, 'n4').counters.discardedBytes, (b) => b > discarded, 10_000, 'the proxy discards what the leader sends n4');
  t.equal((await kv.get(n4.httpUrl, 'cut', 'stale')).status, 404, 'the cut-off replica does not have the new write');
  proxy.healPartitions();
  const healed = await until(() => kv.get(n4.httpUrl, 'cut', 'stale'), ok, 20_000, 'n4 catches up after the heal');
  t.equal(healed.body['value'], 'x');

  await cluster.removeReplica('n4');
  t.same(proxy.ids, ['n1', 'n2', 'n3'], 'removing n4 drops its links');
  t.notOk(linkViews(proxy).some((l) => l.a === 'n4' || l.b === 'n4'), 'and the dashboard no longer draws them');
  const after = await until(() => kv.put(cluster.replicas[0]!.httpUrl, 'after', 'y'), ok, 20_000);
  t.equal(after.status, 200, 'the three keep serving');
});
