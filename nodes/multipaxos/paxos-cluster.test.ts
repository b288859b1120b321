/**
 * Multi-process tests of the Multi-Paxos runtime, the twins of nodes/raft/raft-cluster.test.ts:
 * three real replica processes, real sockets, real LevelDB with fsync. Every process and
 * temporary directory is removed in teardown, also when a test fails.
 */
import t, { type Test } from 'tap';
import { Cluster } from '../../harness/cluster/cluster.js';
import { kv, until } from '../../harness/client/kv-client.js';
import { histogramOf, parsePromText, sampleValue } from '../../harness/client/prom-text.js';

const ok = (r: { status: number }) => r.status === 200;

async function startCluster(t: Test): Promise<Cluster> {
  const cluster = await Cluster.start({ protocol: 'multipaxos', nodes: 3, logLevel: 'warn' });
  t.teardown(() => cluster.stopAll());
  await cluster.waitForLeader(20_000);
  return cluster;
}

t.test('writes and linearizable reads through every replica', async (t) => {
  const cluster = await startCluster(t);
  for (const [i, r] of cluster.replicas.entries()) {
    const res = await until(() => kv.put(r.httpUrl, `k${i}`, `v${i}`), ok, 20_000, `put via ${r.id}`);
    t.same(res.body, { ok: true }, `put via ${r.id}`);
  }
  for (const r of cluster.replicas) {
    for (let i = 0; i < 3; i++) {
      const res = await kv.get(r.httpUrl, `k${i}`);
      t.same(res.body, { key: `k${i}`, value: `v${i}` }, `read k${i} via ${r.id}`);
    }
  }
  const cas = await kv.cas(cluster.replicas[1]!.httpUrl, 'k0', 'v0', 'v0b');
  t.same(cas.body, { ok: true });
  const mismatch = await kv.cas(cluster.replicas[2]!.httpUrl, 'k0', 'v0', 'nope');
  t.equal(mismatch.status, 409, 'CAS_MISMATCH through a follower');
  const del = await kv.del(cluster.replicas[2]!.httpUrl, 'k1');
  t.same(del.body, { ok: true, existed: true }, 'delete through a follower');
  t.equal((await kv.get(cluster.replicas[0]!.httpUrl, 'k1')).status, 404, 'deleted');
  const status = await cluster.status('n1');
  t.equal(status?.['protocol'], 'multipaxos');
  t.ok(Number(status?.['commitIndex']) >= 1, 'commitIndex counts decided slots');
  t.ok(Number(status?.['appliedIndex']) >= 1, 'appliedIndex counts applied slots');
  const ballot = status?.['ballot'] as { round?: unknown; leader?: unknown } | undefined;
  t.ok(typeof ballot?.round === 'number' && typeof ballot.leader === 'string', 'status has a ballot instead of a term');
  t.ok(['leader', 'follower'].includes(String(status?.['role'])), 'role is leader or follower');
  const leader = await cluster.waitForLeader();
  const metrics = await (await fetch(cluster.replica(leader).httpUrl + '/metrics')).text();
  for (const name of ['consensus_fsyncs_total', 'consensus_entries_persisted_total', 'consensus_entries_per_fsync', 'consensus_proposals_total',
    'consensus_applied_entries_total', 'consensus_peer_messages_sent_total']) {
    t.match(metrics, new RegExp(`^${name}\\{`, 'm'), `metric ${name}`);
  }
});

t.test('SIGKILL of the leader: a new leader, no acknowledged write lost, the old one catches up', async (t) => {
  const cluster = await startCluster(t);
  const acked: Array<[string, string]> = [];
  for (let i = 0; i < 30; i++) {
    const url = cluster.replicas[i % 3]!.httpUrl;
    const res = await until(() => kv.put(url, `key${i}`, `value${i}`), ok, 20_000);
    if (res.status === 200) acked.push([`key${i}`, `value${i}`]);
  }
  const oldLeader = await cluster.waitForLeader();
  await cluster.kill(oldLeader);
  const newLeader = await cluster.waitForLeader(20_000, [oldLeader]);
  t.not(newLeader, oldLeader, `new leader ${newLeader} after killing ${oldLeader}`);
  const survivor = cluster.replicas.find((r) => r.id !== oldLeader)!;
  for (const [k, v] of acked) {
    const res = await until(() => kv.get(survivor.httpUrl, k), ok, 20_000);
    t.equal(res.body['value'], v, `acknowledged ${k} survived`);
  }
  const after = await until(() => kv.put(survivor.httpUrl, 'after-kill', 'yes'), ok, 20_000);
  t.equal(after.status, 200, 'writes continue with two replicas');

  await cluster.restart(oldLeader);
  const restarted = cluster.replica(oldLeader);
  const caught = await until(() => kv.get(restarted.httpUrl, 'after-kill', 'stale'), ok, 20_000, 'restarted replica catches up');
  t.equal(caught.body['value'], 'yes', 'the restarted replica caught up from its disk plus its peers');
  for (const [k, v] of acked) {
    t.equal((await kv.get(restarted.httpUrl, k, 'stale')).body['value'], v, `${k} on the restarted replica`);
  }
});

t.test('a replica restarted with a wiped data directory catches up', async (t) => {
  const cluster = await startCluster(t);
  for (let i = 0; i < 20; i++) await until(() => kv.put(cluster.replicas[0]!.httpUrl, `w${i}`, String(i)), ok);
  const leader = await cluster.waitForLeader();
  const victim = cluster.replicas.find((r) => r.id !== leader)!;
  await cluster.restart(victim.id, { wipe: true });
  for (let i = 0; i < 20; i++) {
    const res = await until(() => kv.get(victim.httpUrl, `w${i}`, 'stale'), ok, 20_000, `w${i} on wiped ${victim.id}`);
    t.equal(res.body['value'], String(i));
  }
});

t.test('garbage collection: a wiped replica behind the compaction point catches up by snapshot', async (t) => {
  const cluster = await Cluster.start({ protocol: 'multipaxos', nodes: 3, logLevel: 'warn', paxosTuning: { snapshotEverySlots: 8 } });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader(20_000);
  const victim = cluster.replicas.find((r) => r.id !== leader)!;
  const url = cluster.replica(leader).httpUrl;
  for (let i = 0; i < 5; i++) await until(() => kv.put(url, `early${i}`, String(i)), ok, 20_000);
  await cluster.kill(victim.id);
  // Sequential writes: about one slot each, far more than snapshotEverySlots beyond the victim.
  for (let i = 0; i < 60; i++) await until(() => kv.put(url, `gc${i}`, String(i)), ok, 20_000);
  // The core drops collected slots in memory when it hands out the Ready; the snapshot covering
  // them is stored in the same LevelDB batch a moment later. So /status may briefly show
  // compactedTo ahead of snapshotSlot: wait for the batch, never for longer than a deadline.
  const covered = (s: Record<string, unknown> | null) => Number(s?.['snapshotSlot']) >= Number(s?.['compactedTo']);
  const leaderStatus = await until(() => cluster.status(leader), covered, 10_000, 'the collected slots are under a stored snapshot');
  t.ok(Number(leaderStatus?.['compactedTo']) > 8, `the leader collected slots (to ${String(leaderStatus?.['compactedTo'])}) the dead replica never applied`);
  t.ok(covered(leaderStatus), 'under a stored snapshot');
  // The leader's /metrics: valid Prometheus text (parsePromText throws otherwise) with the histograms.
  const m = parsePromText(await (await fetch(url + '/metrics')).text());
  t.ok((histogramOf(m, 'consensus_snapshot_seconds', { phase: 'encode' })?.count ?? 0) >= 1, 'compaction snapshot encode timed');
  t.ok((histogramOf(m, 'consensus_snapshot_seconds', { phase: 'persist' })?.count ?? 0) >= 1, 'compaction snapshot persist timed');
  t.equal(histogramOf(m, 'consensus_storage_write_seconds', { fsync: 'true' })?.count, sampleValue(m, 'consensus_fsyncs_total'), 'one storage sample per fsync');
  t.ok((histogramOf(m, 'consensus_http_request_duration_seconds', { method: 'PUT', route: '/kv/:key', status_class: '2xx' })?.count ?? 0) >= 60, 'puts timed');
  t.ok((histogramOf(m, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0, 'event-loop delay sampled');
  for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'consensus_event_loop_delay_max_seconds', 'paxos_compactions_total']) {
    t.ok(sampleValue(m, name, { replica: leader, protocol: 'multipaxos' }) !== undefined, `${name} with the replica's labels`);
  }

  await cluster.restart(victim.id, { wipe: true });
  const last = await until(() => kv.get(victim.httpUrl, 'gc59', 'stale'), ok, 20_000, 'the wiped replica catches up');
  t.equal(last.body['value'], '59');
  for (let i = 0; i < 5; i++) t.equal((await kv.get(victim.httpUrl, `early${i}`, 'stale')).body['value'], String(i), `early${i} came with the snapshot`);
  const status = await cluster.status(victim.id);
  t.ok(Number(status?.['snapshotsInstalled']) >= 1, 'it installed a snapshot');
  t.ok(Number(status?.['snapshotSlot']) > 0, `status shows the snapshot slot (${String(status?.['snapshotSlot'])})`);
  const metrics = await (await fetch(victim.httpUrl + '/metrics')).text();
  t.match(metrics, /^paxos_snapshots_installed_total\{[^}]*\} [1-9]/m, 'metrics count installed snapshots');

  // A plain restart now rebuilds from its own stored snapshot plus the decisions after it.
  await until(() => kv.put(url, 'after', 'yes'), ok, 20_000);
  await cluster.restart(victim.id);
  const after = await until(() => kv.get(victim.httpUrl, 'after', 'stale'), ok, 20_000, 'restarted from its snapshot');
  t.equal(after.body['value'], 'yes');
  t.equal((await kv.get(victim.httpUrl, 'gc0', 'stale')).body['value'], '0', 'collected slots survive the restart');
});
