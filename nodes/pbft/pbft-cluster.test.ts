/**
 * Multi-process tests of the PBFT runtime, the twins of nodes/multipaxos/paxos-cluster.test.ts:
 * four real replica processes (f = 1), real sockets, real LevelDB with fsync, real Ed25519/X25519
 * keys. Every process and temporary directory is removed in teardown, also when a test fails.
 * No fixed sleeps: every wait retries until a generous deadline. Every Byzantine mode against a
 * real cluster: pbft-byzantine.test.ts (its own file, so that tap runs the two side by side).
 */
import t from 'tap';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { call, kv, until } from '../../harness/client/kv-client.js';
import { ok, startCluster, status } from './pbft-cluster-support.js';
import { PbftClient } from './pbft-client.js';
import { histogramOf, parsePromText, sampleValue } from '../../harness/client/prom-text.js';

t.test('writes and reads through every replica, the library client, bad input', async (t) => {
  const cluster = await startCluster(t);
  for (const [i, r] of cluster.replicas.entries()) {
    const res = await until(() => kv.put(r.httpUrl, `k${i}`, `v${i}`), ok, 20_000, `put via ${r.id}`);
    t.same(res.body, { ok: true }, `put via ${r.id}`);
  }
  for (const r of cluster.replicas) {
    for (let i = 0; i < 4; i++) {
      const res = await until(() => kv.get(r.httpUrl, `k${i}`), ok, 20_000);
      t.same(res.body, { key: `k${i}`, value: `v${i}` }, `linearizable read of k${i} via ${r.id}`);
    }
  }
  const [a, b, c, d] = cluster.replicas.map((r) => r.httpUrl) as [string, string, string, string];
  t.same((await kv.cas(b, 'k0', 'v0', 'v0b')).body, { ok: true }, 'cas');
  const mismatch = await kv.cas(c, 'k0', 'v0', 'nope');
  t.equal(mismatch.status, 409, 'CAS_MISMATCH');
  t.equal((mismatch.body['error'] as Record<string, unknown>)['current'], 'v0b', 'with the current value');
  t.same((await kv.del(d, 'k1')).body, { ok: true, existed: true }, 'delete');
  t.equal((await kv.get(a, 'k1')).status, 404, 'deleted: KEY_NOT_FOUND');
  const stale = await until(() => kv.get(d, 'k0', 'stale'), (r) => r.body['value'] === 'v0b', 20_000, 'stale read');
  t.equal(stale.body['value'], 'v0b', 'stale reads answer from local state');

  // Exactly-once: a retry with the same x-client-id/x-request-seq returns the first result.
  const session = { clientId: 'tester', seq: 1 };
  t.same((await kv.del(a, 'k2', session)).body, { ok: true, existed: true });
  t.same((await kv.del(b, 'k2', session)).body, { ok: true, existed: true }, 'the retry (via another replica) is not applied again');

  const s = await status(cluster, 'n2');
  t.equal(s['protocol'], 'pbft');
  for (const field of ['view', 'primary', 'lastStableCheckpoint', 'lowWatermark', 'highWatermark', 'commitIndex', 'appliedIndex']) {
    t.ok(field in s, `status has ${field}`);
  }
  t.equal(s['primary'], 'n1', 'view 0: primary n1');
  t.equal(s['f'], 1);

  // The library client talks to every replica and accepts f+1 matching results.
  const client = new PbftClient({ replicas: [a, b, c, d] });
  await client.put('lib', 'one');
  t.equal(await client.get('lib'), 'one', 'library read (read-only path)');
  t.same(await client.cas('lib', 'one', 'two'), { ok: true });
  t.same(await client.cas('lib', 'one', 'three'), { ok: false, current: 'two' });
  t.equal((await kv.get(c, 'lib')).body['value'], 'two', 'the gateway sees the library write');

  // Replicas never crash on bad input: garbage on the peer port, malformed HTTP bodies.
  for (const r of cluster.replicas) await sendGarbage(r.peerPort);
  t.equal((await call(a, 'PUT', '/kv/x', 'not an object')).status, 400, 'bad body: 400');
  t.equal((await call(a, 'POST', '/pbft/request', { clientId: 'x', seq: 'one' })).status, 400, 'bad library request: 400');
  const after = await until(() => kv.put(b, 'after-garbage', 'yes'), ok, 20_000);
  t.equal(after.status, 200, 'still serving after garbage');
  for (const r of cluster.replicas) t.equal(r.state, 'up', `${r.id} is still up`);
  const metrics = await (await fetch(`${a}/metrics`)).text();
  for (const name of ['consensus_fsyncs_total', 'consensus_peer_messages_sent_total', 'pbft_view', 'pbft_read_only_served_total']) {
    t.match(metrics, new RegExp(`^${name}\\{`, 'm'), `metric ${name}`);
  }
  // Valid Prometheus text (parsePromText throws otherwise) with the histograms; more than
  // checkpointInterval (8) requests were ordered above, so n1 took a checkpoint.
  const scrape = async () => parsePromText(await (await fetch(`${a}/metrics`)).text());
  // The event-loop histogram takes its samples in once a second (nodes/event-loop-delay.ts): wait for them too.
  const timed = (f: Awaited<ReturnType<typeof scrape>>) => (histogramOf(f, 'consensus_snapshot_seconds', { phase: 'encode' })?.count ?? 0) >= 1 && (histogramOf(f, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0;
  const m = await until(scrape, timed, 20_000, 'a checkpoint timed and an event-loop delay sample');
  t.equal(histogramOf(m, 'consensus_storage_write_seconds', { fsync: 'true' })?.count, sampleValue(m, 'consensus_fsyncs_total'), 'one storage sample per fsync');
  t.ok((histogramOf(m, 'consensus_http_request_duration_seconds', { method: 'PUT', route: '/kv/:key', status_class: '2xx' })?.count ?? 0) >= 1, 'puts timed');
  t.ok((histogramOf(m, 'consensus_http_request_duration_seconds', { method: 'POST', route: '/pbft/request', status_class: '2xx' })?.count ?? 0) >= 1, 'library requests timed');
  t.ok((histogramOf(m, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0, 'event-loop delay sampled');
  for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'consensus_event_loop_delay_p50_seconds', 'pbft_gateway_writes_total']) {
    t.ok(sampleValue(m, name, { replica: 'n1', protocol: 'pbft' }) !== undefined, `${name} with the replica's labels`);
  }
});

t.test('SIGKILL of the primary: a view change, writes continue, the old primary catches up', async (t) => {
  const cluster = await startCluster(t);
  const acked: Array<[string, string]> = [];
  for (let i = 0; i < 12; i++) {
    const res = await until(() => kv.put(cluster.replicas[i % 4]!.httpUrl, `key${i}`, `value${i}`), ok, 20_000);
    if (res.status === 200) acked.push([`key${i}`, `value${i}`]);
  }
  const oldPrimary = await cluster.waitForLeader();
  await cluster.kill(oldPrimary);
  const survivors = cluster.replicas.filter((r) => r.id !== oldPrimary);
  const after = await until(() => kv.put(survivors[0]!.httpUrl, 'after-kill', 'yes'), ok, 30_000, 'a write after the primary died');
  t.equal(after.status, 200, 'writes continue with 3 of 4 replicas');
  const newPrimary = await cluster.waitForLeader(20_000, [oldPrimary]);
  t.not(newPrimary, oldPrimary, `new primary ${newPrimary}`);
  t.ok(Number((await status(cluster, newPrimary))['view']) >= 1, 'in a later view');
  for (const [k, v] of acked) {
    const res = await until(() => kv.get(survivors[1]!.httpUrl, k), ok, 20_000);
    t.equal(res.body['value'], v, `acknowledged ${k} survived`);
  }
  await cluster.restart(oldPrimary);
  const back = cluster.replica(oldPrimary);
  const caught = await until(() => kv.get(back.httpUrl, 'after-kill', 'stale'), ok, 30_000, 'the old primary catches up');
  t.equal(caught.body['value'], 'yes');
});

t.test('a replica with a wiped data directory recovers by state transfer', async (t) => {
  const cluster = await startCluster(t);
  const primary = await cluster.waitForLeader();
  const victim = cluster.replicas.find((r) => r.id !== primary)!;
  const url = cluster.replica(primary).httpUrl;
  await cluster.kill(victim.id);
  // Sequential writes, several checkpoints beyond the dead replica (K = 8).
  for (let i = 0; i < 40; i++) await until(() => kv.put(url, `w${i}`, String(i)), ok, 20_000);
  await until(() => status(cluster, primary), (s) => Number(s['lastStableCheckpoint']) >= 16, 20_000, 'a stable checkpoint');
  await cluster.restart(victim.id, { wipe: true });
  for (const i of [0, 20, 39]) {
    const res = await until(() => kv.get(victim.httpUrl, `w${i}`, 'stale'), ok, 40_000, `w${i} on the wiped ${victim.id}`);
    t.equal(res.body['value'], String(i));
  }
  const s = await status(cluster, victim.id);
  t.ok(Number(s['lastExecuted']) >= 40, `the wiped replica executed up to ${String(s['lastExecuted'])}`);
  // Its log below the checkpoint was garbage-collected everywhere: it came with a checkpoint's state (TOCS §6.2).
  t.ok(Number(s['lastStableCheckpoint']) >= 16, `it holds a stable checkpoint (${String(s['lastStableCheckpoint'])})`);
  // It is a full member again: with another replica down, the cluster needs it.
  const other = cluster.replicas.find((r) => r.id !== primary && r.id !== victim.id)!;
  await cluster.kill(other.id);
  const res = await until(() => kv.put(url, 'needs-the-wiped-one', 'yes'), ok, 30_000, 'a write that needs the recovered replica');
  t.equal(res.status, 200);
});

t.test('all replicas killed at once and restarted lose no acknowledged write', async (t) => {
  const cluster = await startCluster(t);
  const acked = new Map<string, string>();
  await Promise.all(
    cluster.replicas.map(async (r, i) => {
      for (let k = 0; k < 10; k++) {
        const key = `crash-${i}-${k}`;
        const res = await kv.put(r.httpUrl, key, `v${k}`).catch(() => null);
        if (res?.status === 200) acked.set(key, `v${k}`);
      }
    }),
  );
  t.ok(acked.size >= 30, `${acked.size} writes acknowledged before the crash`);
  await Promise.all(cluster.replicas.map((r) => cluster.kill(r.id)));
  await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
  const url = cluster.replicas[2]!.httpUrl;
  for (const [k, v] of acked) {
    const res = await until(() => kv.get(url, k), ok, 30_000, `${k} after the restart`);
    t.equal(res.body['value'], v, `${k} survived`);
  }
  const more = await until(() => kv.put(url, 'after-restart', 'yes'), ok, 30_000);
  t.equal(more.status, 200, 'and the cluster still takes writes');
});

/** Random bytes at a replica's peer port, as an unauthenticated stranger. */
function sendGarbage(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(randomBytes(4096));
      socket.end();
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(2000, () => socket.destroy());
  });
}
