/**
 * Clusters that decide without a vote round, on real processes: one Raft or Multi-Paxos replica,
 * and a Raft voter alone with a learner (PBFT needs n >= 4: it has no such cluster). A lone voter is where a term, ballot or vote that is not yet
 * durable does the most harm (it wins every election at once; seed 703644 of the Raft
 * simulation): SIGKILL it again and again under a write load, restart it, and require every
 * acknowledged write, and the learner to agree with the voter on every key.
 */
import t from 'tap';
import { Cluster, type ClusterOptions } from '../harness/cluster/cluster.js';
import { kv, until } from '../harness/client/kv-client.js';

const ok = (r: { status: number }): boolean => r.status === 200;

/** Values only grow, across every writer of a test file. */
let nextValue = 0;

/** Writes keys through `url` until stopped; returns the acknowledged ones. */
function writer(url: () => string, prefix: string): { stop: () => Promise<Map<string, string>> } {
  const acked = new Map<string, string>();
  let running = true;
  const done = (async () => {
    while (running) {
      const i = nextValue++;
      const key = `${prefix}${i % 40}`;
      const value = `${i}`;
      const res = await kv.put(url(), key, value).catch(() => null);
      if (res?.status === 200) acked.set(key, value);
      else await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return acked;
    },
  };
}

async function killUnderLoad(cluster: Cluster, id: string, rounds: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    const w = writer(() => cluster.replica(id).httpUrl, 'k');
    await until(async () => (await cluster.status(id))?.['commitIndex'], (c) => Number(c) > 20 * (round + 1), 20_000, 'writes commit');
    await cluster.kill(id); // mid-write: some requests are in the batch being fsynced
    for (const [k, v] of await w.stop()) acked.set(k, v);
    await cluster.restart(id);
    await cluster.waitForLeader(20_000);
  }
  return acked;
}

for (const protocol of ['raft', 'multipaxos'] as const) {
  t.test(`${protocol}: a one-replica cluster keeps every acknowledged write across SIGKILLs`, async (t) => {
    const options: ClusterOptions = { protocol, nodes: 1, logLevel: 'warn' };
    const cluster = await Cluster.start(options);
    t.teardown(() => cluster.stopAll());
    await cluster.waitForLeader(20_000);
    const acked = await killUnderLoad(cluster, 'n1', 2);
    t.ok(acked.size > 0, `${acked.size} keys acknowledged`);
    for (const [k, v] of acked) {
      const res = await until(() => kv.get(cluster.replica('n1').httpUrl, k), ok, 20_000, `read ${k}`);
      // A later write to the same key may have been applied and not acknowledged (killed first).
      t.ok(Number(res.body['value']) >= Number(v), `${k}: ${res.body['value']} is the acknowledged ${v} or later`);
    }
  });
}

t.test('raft: a lone voter with a learner, killed under load, never diverges from the learner', async (t) => {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 1, logLevel: 'warn' });
  t.teardown(() => cluster.stopAll());
  await cluster.waitForLeader(20_000);
  const learner = await cluster.addReplica({ learner: true });
  await killUnderLoad(cluster, 'n1', 2);
  const voter = await until(() => kv.put(cluster.replica('n1').httpUrl, 'last', 'write'), ok, 20_000, 'a last write');
  t.equal(voter.status, 200);
  await until(() => kv.get(learner.httpUrl, 'last', 'stale'), ok, 20_000, 'the learner caught up');
  for (let i = 0; i < 40; i++) {
    const [a, b] = await Promise.all([kv.get(cluster.replica('n1').httpUrl, `k${i}`, 'stale'), kv.get(learner.httpUrl, `k${i}`, 'stale')]);
    t.same(b.body, a.body, `k${i} is the same on the voter and the learner`);
  }
});
