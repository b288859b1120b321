/** Unit tests of the benchmark's pure parts: key choice, option parsing, metrics, failover analysis. */
import t from 'tap';
import { analyzeFailover } from './failover.js';
import { keyChooser, keyName } from './keyspace.js';
import { median, percentile } from './latency-samples.js';
import { parseOptions } from './options.js';
import { deriveMetrics, parsePrometheus } from './prom-metrics.js';
import { buildRequest, pickOp } from './requests.js';

t.test('key choice stays in range and zipfian is skewed', async (t) => {
  let seed = 1;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (const d of ['uniform', 'zipfian'] as const) {
    const c = keyChooser(d, 1000, rand);
    const counts = new Map<number, number>();
    let outOfRange = 0;
    for (let i = 0; i < 20_000; i++) {
      const k = c.next();
      if (!(k >= 0 && k < 1000 && Number.isInteger(k))) outOfRange++;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    t.equal(outOfRange, 0, `${d}: every key in range`);
    const top = Math.max(...counts.values());
    if (d === 'uniform') t.ok(top < 60, `uniform: hottest key ${top}/20000`);
    else t.ok(top > 1000, `zipfian: hottest key ${top}/20000`);
  }
  t.equal(keyName(42), 'k0000042');
});

t.test('requests in both dialects', async (t) => {
  t.same(buildRequest('kv', 'get-stale', 'a b', 'v'), { method: 'GET', path: '/kv/a%20b?consistency=stale', body: null });
  t.same(JSON.parse(buildRequest('kv', 'cas', 'k', 'v').body!), { expected: 'v', value: 'v' });
  const put = JSON.parse(buildRequest('etcd', 'put', 'k', 'v').body!) as { key: string; value: string };
  t.same([Buffer.from(put.key, 'base64').toString(), Buffer.from(put.value, 'base64').toString()], ['k', 'v']);
  t.match(JSON.parse(buildRequest('etcd', 'get-stale', 'k', 'v').body!), { serializable: true });
  t.equal(pickOp('mixed', 1, () => 0.5), 'get');
  t.equal(pickOp('mixed', 0, () => 0.5), 'put');
});

t.test('options: defaults, quick mode, errors', async (t) => {
  const d = parseOptions([], { etcdOnPath: false });
  t.same(d.systems, ['raft', 'single', 'hello']);
  t.same(d.connections, [1, 100]);
  t.equal(d.durationS, 20);
  t.equal(d.rate, null);
  t.same(parseOptions([], { etcdOnPath: true }).systems, ['raft', 'single', 'hello', 'etcd']);
  const q = parseOptions(['--quick', '--duration', '1'], { etcdOnPath: false });
  t.equal(q.durationS, 1);
  t.ok(q.keys < 10_000);
  t.throws(() => parseOptions(['--systems', 'nope'], { etcdOnPath: false }), /unknown system/);
  t.throws(() => parseOptions(['--workload', 'scan'], { etcdOnPath: false }), /unknown workload/);
  t.throws(() => parseOptions(['--read-ratio', '2'], { etcdOnPath: false }));
});

t.test('prometheus counters and derived metrics', async (t) => {
  const text = `# HELP x\n# TYPE consensus_peer_messages_sent_total counter
consensus_peer_messages_sent_total{replica="n1",peer="n2"} 10
consensus_peer_messages_sent_total{replica="n1",peer="n3"} 5
consensus_fsyncs_total{replica="n1"} 4
etcd_disk_wal_fsync_duration_seconds_count 7\n`;
  const m = parsePrometheus(text);
  t.equal(m.get('consensus_peer_messages_sent_total'), 15);
  t.equal(m.get('consensus_fsyncs_total'), 4);
  t.equal(m.get('etcd_disk_wal_fsync_duration_seconds_count'), 7);
  const d = deriveMetrics({ fsyncs: 10, entriesPersisted: 10, peerMessagesSent: 0 }, { fsyncs: 20, entriesPersisted: 110, peerMessagesSent: 400 }, 100);
  t.same(d, { entriesPerFsync: 10, peerMessagesPerRequest: 4 });
  t.same(deriveMetrics(null, null, 5), { entriesPerFsync: null, peerMessagesPerRequest: null });
});

t.test('percentiles and median', async (t) => {
  t.equal(percentile([1, 2, 3, 4], 0.5), 2);
  t.equal(percentile([1, 2, 3, 4], 0.99), 4);
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 2, 3]), 2.5);
});

t.test('failover analysis', async (t) => {
  const start = 1_000_000;
  const ops: [number, number, number][] = [
    [start + 10, start + 15, 200],
    [start + 500, start + 2500, 503], // failed after the kill
    [start + 990, start + 1005, 200], // invoked before the kill, acknowledged after it
    [start + 1200, start + 1900, 200], // first write sent after the kill: 900 ms
    [start + 1300, start + 1300, -1],
  ];
  const r = analyzeFailover({ startMs: start, endMs: start + 3000, ops }, start + 1000, { system: 's', nodes: 3, ratePerS: 10, durationS: 3, killedReplica: 'n1' });
  t.equal(r.killAtMs, 1000);
  t.equal(r.recoveryMs, 900);
  t.equal(r.writesOk, 3);
  t.equal(r.writesFailed, 1);
  t.equal(r.writesNotSent, 1);
  t.equal(r.buckets.length, 30);
  t.equal(r.buckets[19]!.okPerS, 10);
});

t.test('--target: the leader, one follower, or every replica', async (t) => {
  const { loadUrls } = await import('./runner.js');
  const sys = { targetUrl: 'http://b', urls: ['http://a', 'http://b', 'http://c'] };
  t.same(loadUrls(sys, 'leader'), ['http://b']);
  t.same(loadUrls(sys, 'follower'), ['http://a'], 'a replica that is not the leader');
  t.same(loadUrls(sys, 'any'), sys.urls);
  t.same(loadUrls({ targetUrl: 'http://x', urls: ['http://x'] }, 'follower'), ['http://x'], 'one replica: no follower, its only URL');
});
