/**
 * Membership changes on real processes (Raft dissertation ch. 4): a 3-replica cluster grows to 5
 * and shrinks back to 3, its leader removed on the way, under a steady write load, and no
 * acknowledged write is lost.
 */
import t from 'tap';
import { Cluster } from '../../harness/cluster/cluster.js';
import { call, kv, until, type CallOptions } from '../../harness/client/kv-client.js';

const ok = (r: { status: number }) => r.status === 200;
const tuning = { tickMs: 50, electionTimeoutTicks: 10, snapshotEvery: 200 };

/** Writers putting unique keys through any replica until stopped; returns the acknowledged keys. */
function writeLoad(cluster: Cluster, writers: number): { stop: () => Promise<Map<string, string>> } {
  const acked = new Map<string, string>();
  let running = true;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const up = cluster.replicas.filter((r) => r.state === 'up');
      const target = up[i % up.length];
      if (target === undefined) continue;
      const key = `w${w}-${i}`;
      try {
        const res = await kv.put(target.httpUrl, key, `v${i}`, { timeoutMs: 5000, clientId: `writer-${w}`, seq: i + 1 });
        if (res.status === 200) acked.set(key, `v${i}`);
      } catch {
        // connection refused or timed out: the outcome is unknown, the key is not counted
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return acked;
    },
  };
}

async function voters(url: string, admin: CallOptions): Promise<string[]> {
  const res = await call(url, 'GET', '/admin/members', undefined, admin);
  return ((res.body['voters'] as Array<{ id: string }>) ?? []).map((m) => m.id).sort();
}

t.test('3 → 5 → 3 under write load, the leader removed on the way, no acknowledged write lost', async (t) => {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 3, logLevel: 'warn', tuning });
  t.teardown(() => cluster.stopAll());
  const admin: CallOptions = { headers: cluster.adminHeaders };
  await cluster.waitForLeader(20_000);
  const load = writeLoad(cluster, 4);
  await until(() => kv.put(cluster.replicas[0]!.httpUrl, 'first', 'x'), ok);

  const n4 = await cluster.addReplica();
  const n5 = await cluster.addReplica();
  const five = await until(() => voters(n4.httpUrl, admin), (v) => v.length === 5, 20_000, 'n4 sees 5 voters');
  t.same(five, ['n1', 'n2', 'n3', 'n4', 'n5'], 'grown to 5 voters');
  const status = (await call(n5.httpUrl, 'GET', '/status')).body;
  t.ok((status['appliedIndex'] as number) > 0, 'the new replica caught up and applies');

  const leader = await cluster.waitForLeader(20_000);
  await cluster.removeReplica(leader); // §4.2.2: the leader steps down once its removal commits
  const rest = cluster.replicas.filter((r) => r.id !== 'n4' && r.id !== 'n5').map((r) => r.id);
  await cluster.removeReplica(rest[0]!);
  const three = await until(() => voters(n5.httpUrl, admin), (v) => v.length === 3, 20_000, 'n5 sees 3 voters');
  t.same(three, cluster.replicas.map((r) => r.id).sort(), `shrunk to 3 voters: ${three.join(', ')}`);
  t.notOk(three.includes(leader), `the removed leader ${leader} is gone`);
  const newLeader = await cluster.waitForLeader(20_000);
  t.ok(three.includes(newLeader), `a member leads: ${newLeader}`);

  await new Promise((r) => setTimeout(r, 500)); // some writes in the final configuration
  const acked = await load.stop();
  t.ok(acked.size > 50, `${acked.size} writes acknowledged during the changes`);
  const url = cluster.replica(newLeader).httpUrl;
  let lost = 0;
  for (const [key, value] of acked) {
    const res = await until(() => kv.get(url, key), (r) => r.status === 200 || r.status === 404);
    if (res.body['value'] !== value) lost++;
  }
  t.equal(lost, 0, 'every acknowledged write is readable');
  await until(() => kv.put(url, 'final', 'yes'), ok);
  for (const r of cluster.replicas) {
    const seen = await until(() => kv.get(r.httpUrl, 'final', 'stale'), ok, 20_000, `${r.id} applies the final write`);
    t.equal(seen.body['value'], 'yes', `${r.id} replicates in the final configuration`);
  }
});

t.test('admin API: learners, bad requests, idempotent calls', async (t) => {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 3, logLevel: 'warn', tuning });
  t.teardown(() => cluster.stopAll());
  const admin: CallOptions = { headers: cluster.adminHeaders };
  await cluster.waitForLeader(20_000);
  const url = cluster.replicas[1]!.httpUrl;
  const n4 = await cluster.addReplica({ learner: true });
  const members = await until(
    () => call(url, 'GET', '/admin/members', undefined, admin),
    (r) => (r.body['learners'] as unknown[]).length === 1 && r.body['committed'] === true,
  );
  t.match(members.body, { learners: [{ id: 'n4', httpPort: n4.httpPort }], committed: true });
  t.equal((await voters(url, admin)).length, 3, 'a learner is no voter');
  await until(() => kv.put(url, 'k', 'v'), ok);
  const learnerRead = await until(() => kv.get(n4.httpUrl, 'k', 'stale'), ok);
  t.equal(learnerRead.body['value'], 'v', 'the learner receives the log');

  const again = await call(url, 'POST', '/admin/members', { id: 'n4', httpPort: n4.httpPort, peerPort: n4.peerPort }, admin);
  t.equal(again.status, 200, 'POST again promotes the learner');
  t.equal((await voters(url, admin)).length, 4);
  const twice = await call(url, 'POST', '/admin/members', { id: 'n4', httpPort: n4.httpPort, peerPort: n4.peerPort }, admin);
  t.equal(twice.status, 200, 'adding a voter again changes nothing');

  t.equal((await call(url, 'POST', '/admin/members', { id: 'x' }, admin)).status, 400, 'ports are required');
  t.equal((await call(url, 'POST', '/admin/members', { id: 'a b', httpPort: 1, peerPort: 2 }, admin)).status, 400, 'bad id');
  t.equal((await call(url, 'DELETE', '/admin/members/n9', undefined, admin)).status, 200, 'removing a non-member is a no-op');
});
