/**
 * Leadership transfer and lease reads on real processes (Raft dissertation §3.10, §6.4.1), and
 * the paused-leader case: a leader stopped with SIGSTOP while another is elected must not serve
 * a stale read when it resumes.
 */
import t, { type Test } from 'tap';
import { Cluster } from '../../harness/cluster/cluster.js';
import { call, kv, until } from '../../harness/client/kv-client.js';
import { FaultProxy } from '../../harness/proxy/fault-proxy.js';

const ok = (r: { status: number }) => r.status === 200;
const tuning = { tickMs: 50, electionTimeoutTicks: 10 };

async function startCluster(t: Test): Promise<Cluster> {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 3, logLevel: 'warn', tuning });
  t.teardown(() => cluster.stopAll());
  await cluster.waitForLeader(20_000);
  return cluster;
}

t.test('leadership transfer moves the leader to the named replica within one election timeout', async (t) => {
  const cluster = await startCluster(t);
  const leader = await cluster.waitForLeader();
  const target = cluster.replicas.find((r) => r.id !== leader)!.id;
  await until(() => kv.put(cluster.replica(leader).httpUrl, 'before', 'transfer'), ok);
  // Ask a follower: the request is forwarded to the leader like any other.
  const via = cluster.replicas.find((r) => r.id !== leader && r.id !== target) ?? cluster.replica(target);
  const started = Date.now();
  const res = await call(via.httpUrl, 'POST', '/admin/transfer-leadership', { target }, { headers: cluster.adminHeaders });
  const tookMs = Date.now() - started;
  t.same(res.body, { ok: true, leader: target }, `${leader} handed over to ${target}`);
  t.ok(tookMs < tuning.tickMs * tuning.electionTimeoutTicks * 2, `took ${tookMs} ms`);
  t.equal(await cluster.waitForLeader(), target);
  const read = await until(() => kv.get(cluster.replica(target).httpUrl, 'before'), ok);
  t.equal(read.body['value'], 'transfer', 'the new leader has every committed write');
  const bad = await call(cluster.replica(target).httpUrl, 'POST', '/admin/transfer-leadership', { target: 'n9' }, { headers: cluster.adminHeaders });
  t.equal(bad.status, 400, 'an unknown target is refused');
});

t.test('lease reads are served and see every acknowledged write', async (t) => {
  const cluster = await startCluster(t);
  for (let i = 0; i < 10; i++) {
    const url = cluster.replicas[i % 3]!.httpUrl;
    await until(() => kv.put(url, 'k', String(i)), ok);
    const res = await until(() => call(url, 'GET', '/kv/k?consistency=lease'), ok);
    t.equal(res.body['value'], String(i), `lease read ${i} through ${cluster.replicas[i % 3]!.id}`);
  }
});

t.test('a paused leader that resumes after a new election serves no stale read', async (t) => {
  // The fault proxy keeps the old leader cut off after it resumes, so nothing but its own
  // sense of elapsed time can stop it from trusting its lease (dissertation §6.4.1).
  const proxy = await FaultProxy.start({ ids: ['n1', 'n2', 'n3'] });
  t.teardown(() => proxy.close());
  const cluster = await Cluster.create({ protocol: 'raft', nodes: 3, logLevel: 'warn', tuning, dial: proxy.dial });
  t.teardown(() => cluster.stopAll());
  for (const r of cluster.replicas) proxy.setTarget(r.id, { host: '127.0.0.1', port: r.peerPort });
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
  const old = await cluster.waitForLeader(20_000);
  const oldUrl = cluster.replica(old).httpUrl;
  await until(() => kv.put(oldUrl, 'k', 'old'), ok);
  // Lease reads are served now: the lease is fresh.
  t.equal((await until(() => call(oldUrl, 'GET', '/kv/k?consistency=lease'), ok)).body['value'], 'old');

  cluster.pause(old);
  proxy.isolate(old);
  const fresh = await cluster.waitForLeader(20_000, [old]);
  const write = await until(() => kv.put(cluster.replica(fresh).httpUrl, 'k', 'new'), ok);
  t.equal(write.status, 200, `${fresh} leads and acknowledged the new value`);

  // Reads sent to the paused leader wait in its socket buffer and meet it the moment it resumes.
  const pending = [
    call(oldUrl, 'GET', '/kv/k?consistency=lease', undefined, { timeoutMs: 20_000 }),
    call(oldUrl, 'GET', '/kv/k', undefined, { timeoutMs: 20_000 }),
  ];
  await new Promise((r) => setTimeout(r, 200));
  cluster.resume(old);
  for (const [i, res] of (await Promise.all(pending)).entries()) {
    t.not(res.body['value'], 'old', `read ${i} is not stale (${res.status})`);
    t.ok([503, 504].includes(res.status), `read ${i} is refused while the old leader is cut off`);
  }
  proxy.heal();
  const healed = await until(() => kv.get(oldUrl, 'k'), ok, 20_000);
  t.equal(healed.body['value'], 'new', 'after the heal the old leader forwards to the new one');
});
