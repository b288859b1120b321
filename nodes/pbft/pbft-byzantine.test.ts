/**
 * PBFT's Byzantine modes against a real four-replica cluster (f = 1): the primary restarted in
 * each mode (silent, equivocate, bad-digest, wrong-reply, forge, stale-view), and writes and reads
 * through the correct replicas stay correct. Processes and data are removed in teardown.
 */
import t from 'tap';
import { kv, until } from '../../harness/client/kv-client.js';
import { ok, startCluster } from './pbft-cluster-support.js';

t.test('one Byzantine replica in each mode: writes and reads stay correct', async (t) => {
  const cluster = await startCluster(t);
  let round = 0;
  for (const mode of ['silent', 'equivocate', 'bad-digest', 'wrong-reply', 'forge', 'stale-view']) {
    // The primary misbehaving is the hard case; restart it with the mode (no requests meanwhile).
    const victim = await cluster.waitForLeader(30_000);
    cluster.setByzantine(victim, mode);
    await cluster.restart(victim);
    const correct = cluster.replicas.filter((r) => r.id !== victim);
    for (let i = 0; i < 4; i++) {
      const via = correct[i % correct.length]!.httpUrl;
      const res = await until(() => kv.put(via, `byz-${mode}-${i}`, `${round}-${i}`), ok, 40_000, `${mode}: write ${i}`);
      t.equal(res.status, 200, `${mode}: write ${i} acknowledged`);
    }
    for (const r of correct) {
      const res = await until(() => kv.get(r.httpUrl, `byz-${mode}-3`), ok, 20_000, `${mode}: read via ${r.id}`);
      t.equal(res.body['value'], `${round}-3`, `${mode}: linearizable read via ${r.id}`);
    }
    t.equal(cluster.replica(victim).state, 'up', `${mode}: the Byzantine replica ran throughout`);
    // Back to correct before the next mode: never more than f = 1 Byzantine replica at once.
    cluster.setByzantine(victim, null);
    await cluster.restart(victim);
    round++;
  }
  // Earlier modes' writes are all intact at every correct replica (no divergent execution).
  for (const r of cluster.replicas) {
    for (const [round, mode] of ['silent', 'equivocate', 'bad-digest', 'wrong-reply', 'forge', 'stale-view'].entries()) {
      const res = await until(() => kv.get(r.httpUrl, `byz-${mode}-0`, 'stale'), ok, 20_000, `${mode}-0 on ${r.id}`);
      t.equal(res.body['value'], `${round}-0`, `${r.id} executed ${mode}'s writes like everyone else`);
    }
  }
});
