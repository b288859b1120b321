/**
 * Multi-process tests: three real replica processes, real sockets, real LevelDB with fsync.
 * Every process and temporary directory is removed in teardown, also when a test fails.
 */
import t from 'tap';
import { connect } from 'node:net';
import { createHmac } from 'node:crypto';
import { Cluster } from '../../harness/cluster/cluster.js';
import { kv, until } from '../../harness/client/kv-client.js';

const ok = (r: { status: number }) => r.status === 200;

async function startCluster(t: Tap): Promise<Cluster> {
  const cluster = await Cluster.start({ protocol: 'raft', nodes: 3, logLevel: 'warn' });
  t.teardown(() => cluster.stopAll());
  await cluster.waitForLeader(20_000);
  return cluster;
}
type Tap = Parameters<Parameters<typeof t.test>[1]>[0];

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

t.test('garbage and a wrong secret on the peer port are refused; the replica keeps serving', async (t) => {
  const cluster = await startCluster(t);
  const target = cluster.replicas[0]!;
  const closedBy = (payload: (nonce: Buffer) => Buffer | string): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(target.peerPort, '127.0.0.1');
      let sent = false;
      socket.on('data', (chunk) => {
        if (sent) return;
        sent = true;
        socket.write(payload(chunk));
      });
      socket.on('connect', () => setTimeout(() => !sent && ((sent = true), socket.write(payload(Buffer.alloc(0)))), 50));
      socket.on('close', () => resolve(true));
      socket.on('error', () => undefined);
      socket.setTimeout(10_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
  t.ok(await closedBy(() => Buffer.from('GET / HTTP/1.1\r\n\r\n' + 'x'.repeat(1000))), 'garbage closes the connection');
  t.ok(await closedBy(() => Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])), 'an oversized frame header closes the connection');
  t.ok(
    await closedBy((nonce) => {
      const mac = createHmac('sha256', 'wrong-secret').update(nonce).digest();
      const body = Buffer.concat([Buffer.from('n2'), mac]);
      const frame = Buffer.alloc(4 + body.length);
      frame.writeUInt32BE(body.length);
      body.copy(frame, 4);
      return frame;
    }),
    'a wrong secret closes the connection',
  );
  const res = await until(() => kv.put(target.httpUrl, 'still', 'serving'), ok, 20_000);
  t.equal(res.status, 200, 'the replica still serves');
  t.equal((await kv.get(cluster.replicas[2]!.httpUrl, 'still')).body['value'], 'serving', 'and still replicates');
});
