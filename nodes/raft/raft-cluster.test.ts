/**
 * Multi-process tests: three real replica processes, real sockets, real LevelDB with fsync.
 * Every process and temporary directory is removed in teardown, also when a test fails.
 */
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { TcpTransport } from '../transport/index.js';
import { Cluster } from '../../harness/cluster/cluster.js';
import { kv, until } from '../../harness/client/kv-client.js';
import { histogramOf, parsePromText, sampleValue } from '../../harness/client/prom-text.js';

const ok = (r: { status: number }) => r.status === 200;

async function startCluster(t: Test, onLog?: (id: string, line: string) => void): Promise<Cluster> {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 3, logLevel: 'warn', ...(onLog ? { onLog } : {}) });
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
  const status = await cluster.status('n1');
  t.equal(status?.['protocol'], 'raft');
  t.ok(Number(status?.['commitIndex']) >= 4, 'commitIndex counts the writes');
  t.ok(typeof status?.['term'] === 'number' && 'appliedIndex' in status!, 'status has term and appliedIndex');
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
  t.equal(caught.body['value'], 'yes', 'the restarted replica caught up from its log plus the leader');
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

t.test('a wiped replica rejoins through InstallSnapshot after the log was compacted past it (Raft §7)', async (t) => {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 3, logLevel: 'warn', tuning: { snapshotEvery: 20, maxSnapshotChunkBytes: 512 } });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader(20_000);
  const victim = cluster.replicas.find((r) => r.id !== leader)!;
  await cluster.kill(victim.id);
  const url = cluster.replica(leader).httpUrl;
  for (let i = 0; i < 60; i++) await until(() => kv.put(url, `s${i}`, 'x'.repeat(100) + i), ok);
  const before = await cluster.status(leader);
  t.ok(Number(before?.['snapshotIndex']) > 0, `the leader compacted its log (snapshotIndex ${before?.['snapshotIndex']})`);
  t.ok(Number(before?.['snapshotChunks']) > 1, `its snapshot is larger than one chunk (${before?.['snapshotChunks']} chunks)`);
  // The wiped replica receives it chunk by chunk while writes go on (and more snapshots are taken).
  // The leader's /metrics: valid Prometheus text (parsePromText throws otherwise) with the histograms.
  const m = parsePromText(await (await fetch(url + '/metrics')).text());
  t.ok((histogramOf(m, 'consensus_snapshot_seconds', { phase: 'take' })?.count ?? 0) >= 1, 'snapshots taken, timed');
  t.equal(histogramOf(m, 'consensus_storage_write_seconds', { fsync: 'true' })?.count, sampleValue(m, 'consensus_fsyncs_total'), 'one storage sample per fsync');
  t.ok((histogramOf(m, 'consensus_http_request_duration_seconds', { method: 'PUT', route: '/kv/:key', status_class: '2xx' })?.count ?? 0) >= 60, 'puts timed');
  // The event-loop histogram takes its samples in once a second (nodes/event-loop-delay.ts): a
  // leader that served these puts within its first second has none yet, so wait for the first.
  const sampled = (mm: typeof m) => (histogramOf(mm, 'consensus_event_loop_delay_seconds')?.count ?? 0) > 0;
  const loop = await until(async () => parsePromText(await (await fetch(url + '/metrics')).text()), sampled, 10_000, 'an event-loop delay sample');
  t.ok(sampled(loop), 'event-loop delay sampled');
  for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'consensus_event_loop_delay_p99_seconds']) {
    t.ok(sampleValue(m, name, { replica: leader, protocol: 'raft' }) !== undefined, `${name} with the replica's labels`);
  }
  t.equal(m.get('nodejs_gc_duration_seconds')?.type, 'histogram');
  await cluster.restart(victim.id, { wipe: true });
  let writing = true;
  let written = 0;
  const writer = (async () => {
    for (; writing && written < 500; written++) await until(() => kv.put(url, `w${written}`, 'y'.repeat(100)), ok);
  })();
  for (let i = 0; i < 60; i++) {
    const res = await until(() => kv.get(victim.httpUrl, `s${i}`, 'stale'), ok, 20_000, `s${i} on wiped ${victim.id}`);
    t.equal(res.body['value'], 'x'.repeat(100) + i);
  }
  writing = false;
  await writer;
  const last = await until(() => kv.get(victim.httpUrl, `w${written - 1}`, 'stale'), ok, 20_000, 'the writes made meanwhile');
  t.equal(last.body['value'], 'y'.repeat(100), `and the ${written} writes made during the transfer`);
  const metrics = await (await fetch(victim.httpUrl + '/metrics')).text();
  t.match(metrics, /raft_snapshots_installed_total\{[^}]*\} [1-9]/, 'it installed a snapshot from the leader');
  // A plain restart recovers from its own snapshot plus its log tail.
  await cluster.restart(victim.id);
  const again = await until(() => kv.get(victim.httpUrl, 's59', 'stale'), ok, 20_000);
  t.equal(again.body['value'], 'x'.repeat(100) + 59, 'restart from snapshot plus log tail');
});

t.test('garbage and a wrong secret on the peer port are refused; the replica keeps serving', async (t) => {
  const warnings: string[] = [];
  const cluster = await startCluster(t, (id, line) => id === 'n1' && warnings.push(line));
  const target = cluster.replicas[0]!;
  /** Connect, write `payload`, and resolve true once the replica closes the connection. */
  const closedAfter = (payload: Buffer): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(target.peerPort, '127.0.0.1', () => socket.write(payload));
      socket.on('data', () => undefined); // read, so that the server's FIN is seen
      socket.on('close', () => resolve(true));
      socket.on('error', () => undefined);
      socket.setTimeout(10_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
  t.ok(await closedAfter(Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n' + 'x'.repeat(2000))), 'garbage closes the connection');
  t.ok(await closedAfter(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])), 'an oversized frame header closes the connection');

  // A real transport that claims to be n2 but does not know the secret.
  const file = JSON.parse(await readFile(cluster.clusterFilePath, 'utf8')) as { secret: string };
  const imposter = (secret: string) =>
    new TcpTransport({
      id: 'n2',
      listen: { host: '127.0.0.1', port: 0 },
      peers: { n1: { host: '127.0.0.1', port: target.peerPort } },
      secret,
      logger: pino({ level: 'silent' }),
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
  const wrong = imposter('not-the-cluster-secret');
  t.teardown(() => wrong.close());
  await wrong.start();
  wrong.send('n1', { type: 'AppendEntries', from: 'n2', to: 'n1', term: 999 });
  await until(async () => warnings.length, (n) => n >= 3, 10_000, 'the replica logs the refused handshakes');
  t.notOk(wrong.stats().peers['n1']?.connected, 'a wrong secret never gets a connection');
  const right = imposter(file.secret);
  t.teardown(() => right.close());
  await right.start();
  right.send('n1', { hello: 'not a raft message' });
  await until(async () => right.stats().peers['n1']?.connected === true, (v) => v, 10_000, 'control: the right secret connects');

  const res = await until(() => kv.put(target.httpUrl, 'still', 'serving'), ok, 20_000);
  t.equal(res.status, 200, 'the replica still serves');
  const read = await until(() => kv.get(cluster.replicas[2]!.httpUrl, 'still'), ok, 20_000);
  t.equal(read.body['value'], 'serving', 'and still replicates');
  const status = await cluster.status('n1');
  t.ok(Number(status?.['term']) < 999, 'the forged message did not reach the core');
});
