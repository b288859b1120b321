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

/** Runs fn(0..count-1), `width` at a time. */
async function inBatches(count: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < count; from += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - from) }, (_, k) => fn(from + k)));
  }
}

/** Sequential writes in the background until stopped; `acked` are the keys acknowledged. */
function backgroundWriter(url: string): { acked: string[]; stop: () => Promise<void> } {
  const acked: string[] = [];
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const res = await kv.put(url, `w${n}`, String(n), { timeoutMs: 6000 }).catch(() => null);
      if (res?.status === 200) acked.push(`w${n}`);
      else await new Promise((r) => setTimeout(r, 50)); // back off: the leader may be unreachable
    }
  })();
  return {
    acked,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

t.test('snapshots in chunks while writes continue: a wiped replica behind the compaction point catches up by a chunked snapshot', async (t) => {
  const cluster = await Cluster.start({
    protocol: 'multipaxos',
    nodes: 3,
    logLevel: 'warn',
    paxosTuning: { snapshotEvery: 16, maxSnapshotChunkBytes: 4096 },
  });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader(20_000);
  const victim = cluster.replicas.find((r) => r.id !== leader)!;
  const url = cluster.replica(leader).httpUrl;
  // A state of three chunks at least: a chunk holds whole parts of the cut, and a part 512 keys
  // (nodes/snapshots/snapshot-chunks.ts). A hundred writers at a time, so slots carry batches.
  const value = (i: number) => `${i}:`.padEnd(24, 'x');
  const KEYS = 1200;
  await inBatches(KEYS, 100, (i) => until(() => kv.put(url, `k${i}`, value(i)), ok, 20_000));
  const written = Number((await cluster.status(leader))?.['appliedIndex']);
  await cluster.kill(victim.id);
  const writer = backgroundWriter(url);
  t.teardown(() => writer.stop());
  // Snapshots are taken in the background while the writes go on; compaction never passes one.
  const covered = (s: Record<string, unknown> | null) => s !== null && Number(s['compactedTo']) <= Number(s['snapshotSlot']);
  const taken = await until(
    () => cluster.status(leader),
    (s) => !covered(s) || (Number(s?.['snapshotSlot']) > written && Number(s?.['compactedTo']) > 32),
    20_000,
    'the leader took a snapshot of every key and collected slots the dead replica never applied',
  );
  t.ok(covered(taken), `collected slots (to ${String(taken?.['compactedTo'])}) are under the stored snapshot (${String(taken?.['snapshotSlot'])})`);
  const leaderMetrics = await (await fetch(cluster.replica(leader).httpUrl + '/metrics')).text();
  t.match(leaderMetrics, /^paxos_snapshot_chunks\{[^}]*\} ([3-9]|\d\d+)/m, 'the last snapshot took three chunks or more');
  // The leader's /metrics: valid Prometheus text (parsePromText throws otherwise) with the histograms.
  // The event-loop histogram takes its samples in once a second (nodes/event-loop-delay.ts): wait for the first.
  const scrape = async () => parsePromText(await (await fetch(url + '/metrics')).text());
  const m = await until(scrape, (f) => (histogramOf(f, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0, 10_000, 'an event-loop delay sample');
  t.ok((histogramOf(m, 'consensus_snapshot_seconds', { phase: 'take' })?.count ?? 0) >= 1, 'snapshots taken, timed');
  t.equal(histogramOf(m, 'consensus_storage_write_seconds', { fsync: 'true' })?.count, sampleValue(m, 'consensus_fsyncs_total'), 'one storage sample per fsync');
  t.ok((histogramOf(m, 'consensus_http_request_duration_seconds', { method: 'PUT', route: '/kv/:key', status_class: '2xx' })?.count ?? 0) >= 60, 'puts timed');
  t.ok((histogramOf(m, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0, 'event-loop delay sampled');
  for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'consensus_event_loop_delay_max_seconds', 'paxos_compactions_total']) {
    t.ok(sampleValue(m, name, { replica: leader, protocol: 'multipaxos' }) !== undefined, `${name} with the replica's labels`);
  }

  await cluster.restart(victim.id, { wipe: true });
  const installed = await until(() => cluster.status(victim.id), (s) => Number(s?.['snapshotsInstalled']) >= 1, 30_000, 'the wiped replica installs a snapshot');
  t.ok(Number(installed?.['snapshotSlot']) > 32, `status shows the snapshot slot (${String(installed?.['snapshotSlot'])})`);
  const metrics = await (await fetch(victim.httpUrl + '/metrics')).text();
  const received = Number(/^paxos_snapshot_chunks_received_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  t.ok(received >= 3, `it received the snapshot in ${received} chunks`);
  await writer.stop();
  t.ok(writer.acked.length > 0, `${writer.acked.length} writes acknowledged meanwhile`);

  const last = writer.acked.at(-1) as string;
  await until(() => kv.get(victim.httpUrl, last, 'stale'), ok, 20_000, 'the wiped replica catches up with the writes after the snapshot');
  let missing = 0;
  await inBatches(KEYS, 100, async (i) => {
    if ((await kv.get(victim.httpUrl, `k${i}`, 'stale')).body['value'] !== value(i)) missing++;
  });
  t.equal(missing, 0, 'every key written before came with the snapshot');
  await inBatches(writer.acked.length, 100, async (i) => {
    if ((await kv.get(victim.httpUrl, writer.acked[i] as string, 'stale')).status !== 200) missing++;
  });
  t.equal(missing, 0, 'every write acknowledged while it was down or catching up is there');

  // A plain restart rebuilds from its own stored snapshot plus the decisions after it.
  await until(() => kv.put(url, 'after', 'yes'), ok, 20_000);
  await cluster.restart(victim.id);
  const after = await until(() => kv.get(victim.httpUrl, 'after', 'stale'), ok, 20_000, 'restarted from its snapshot');
  t.equal(after.body['value'], 'yes');
  t.equal((await kv.get(victim.httpUrl, 'k0', 'stale')).body['value'], value(0), 'collected slots survive the restart');
});
