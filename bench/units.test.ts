/**
 * Unit tests of the benchmark's pure parts: key choice, option parsing, metrics, failover
 * analysis, rounds (interleaving and medians) and the goal rows.
 */
import t from 'tap';
import { analyzeFailover } from './failover.js';
import { keyChooser, keyName } from './keyspace.js';
import { median, percentile } from './latency-samples.js';
import { parseOptions } from './options.js';
import { deriveMetrics, parsePrometheus } from './prom-metrics.js';
import { buildRequest, pickOp } from './requests.js';
import { validateResults, type BenchCell } from './results.js';
import { interleavedPlan, medianBy, mergeRounds } from './rounds.js';
import { goalChecks, ratios, runsText, type GoalCheck } from './summary.js';
import { targetGoalChecks } from './target-goals.js';

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

t.test('options: --target lists and --rounds', async (t) => {
  const d = parseOptions([], { etcdOnPath: false });
  t.same([d.targets, d.rounds, d.repetitions], [['leader'], 1, 1], 'defaults: the leader, one round, one repetition');
  const o = parseOptions(['--target', 'leader, follower,any,leader', '--rounds', '3', '--repetitions', '2'], { etcdOnPath: false });
  t.same(o.targets, ['leader', 'follower', 'any'], 'in the order given, spaces and repeats dropped');
  t.same([o.rounds, o.repetitions], [3, 2]);
  t.throws(() => parseOptions(['--target', 'leader,backup'], { etcdOnPath: false }), /'backup' is not one of/);
  t.throws(() => parseOptions(['--target', ','], { etcdOnPath: false }), /at least one/);
  t.throws(() => parseOptions(['--rounds', '0'], { etcdOnPath: false }), /--rounds/);
  t.throws(() => parseOptions(['--rounds', '1.5'], { etcdOnPath: false }), /not an integer/);
});

t.test('rounds: interleaved order, every round on fresh systems', async (t) => {
  const plan = interleavedPlan({ systems: ['raft', 'etcd'], workloads: ['put'], targets: ['leader', 'follower'], rounds: 2 });
  t.same(
    plan.map((s) => `${s.round}:${s.system}:${s.target}`),
    ['1:raft:leader', '1:raft:follower', '1:etcd:leader', '1:etcd:follower', '2:raft:leader', '2:raft:follower', '2:etcd:leader', '2:etcd:follower'],
    'round 1 runs every system and target once before round 2 starts any',
  );
  t.same(plan.map((s) => s.sequence), [1, 2, 3, 4, 5, 6, 7, 8], 'sequence numbers in run order');
  t.equal(interleavedPlan({ systems: ['raft'], workloads: ['put', 'get'], targets: ['any'], rounds: 3 }).length, 6);
});

t.test('rounds: the median item', async (t) => {
  t.equal(medianBy([5, 1, 3], (x) => x), 3);
  t.equal(medianBy([4, 1, 2, 3], (x) => x), 2, 'even count: the lower middle one, a real run');
  t.equal(medianBy([7], (x) => x), 7);
  const tied = [{ v: 1, id: 'a' }, { v: 1, id: 'b' }, { v: 1, id: 'c' }];
  t.equal(medianBy(tied, (x) => x.v).id, 'b', 'ties keep their order');
  t.throws(() => medianBy([], (x: number) => x));
});

/** A made-up cell of one round (as runner.ts measureCell returns it). */
function cell(over: Partial<BenchCell> & Pick<BenchCell, 'system' | 'workload' | 'target' | 'rps'>, round = 1, sequence = 1): BenchCell {
  return {
    nodes: 3, connections: 100, valueBytes: 256, durationS: 10,
    latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 }, errors: 0, non2xx: 0,
    cpu: { systemUserS: 1, systemSysS: 1, systemCores: 0.2, systemMsPerRequest: 0.1, loadgenUserS: 1, loadgenSysS: 0, loadgenCores: 0.1 },
    entriesPerFsync: null, peerMessagesPerRequest: null, requests: over.rps * 10, readRatio: null, keys: 1000, distribution: 'uniform',
    rate: null, rpsRuns: [over.rps], latencySource: 'samples', statusCodes: { '200': over.rps * 10 },
    round, rounds: [{ round, sequence, startedAt: '2026-01-01T00:00:00.000Z', rps: over.rps }],
    ...over,
  };
}

t.test('rounds: merged to the median round per (system, workload, target, connections)', async (t) => {
  const perRound = [
    cell({ system: 'raft', workload: 'put', target: 'leader', rps: 900, latencyMs: { p50: 9, p90: 9, p99: 9, max: 9 } }, 1, 1),
    cell({ system: 'raft', workload: 'put', target: 'follower', rps: 800 }, 1, 2),
    cell({ system: 'raft', workload: 'put', target: 'leader', rps: 1000, latencyMs: { p50: 5, p90: 6, p99: 7, max: 8 } }, 2, 3),
    cell({ system: 'raft', workload: 'put', target: 'follower', rps: 700 }, 2, 4),
    cell({ system: 'raft', workload: 'put', target: 'leader', rps: 1100 }, 3, 5),
    cell({ system: 'raft', workload: 'put', target: 'follower', rps: 750 }, 3, 6),
  ];
  const merged = mergeRounds(perRound);
  t.same(merged.map((c) => c.target), ['leader', 'follower'], 'one cell per target, in the order they first ran');
  const [leader, follower] = merged as [BenchCell, BenchCell];
  t.same([leader.rps, leader.round, leader.latencyMs.p99], [1000, 2, 7], "the median round's numbers, all of them from that round");
  t.same(leader.rpsRuns, [900, 1000, 1100], "every round's req/s, in round order");
  t.same(leader.rounds.map((r) => [r.round, r.sequence]), [[1, 1], [2, 3], [3, 5]], 'the round order recorded');
  t.same([follower.rps, follower.round], [750, 3]);
  t.same(validateResults(merged), [], 'merged cells have the documented shape');
  t.same(validateResults([{ ...leader, round: 9 }]), ['cell 0: round is not one of rounds']);
  t.equal(mergeRounds([cell({ system: 'raft', workload: 'put', target: 'any', rps: 5 }), cell({ system: 'raft', workload: 'put', target: 'any', rps: 6, connections: 1 })]).length, 2, 'connections are part of the key');
  t.match(runsText(leader), /^900; 1,000; 1,100 \(round 2 reported\)$/);
});

t.test('goal rows: follower puts and spread gets against the leader, on the medians', async (t) => {
  const rounds3 = (c: BenchCell): BenchCell => ({ ...c, rounds: [1, 2, 3].map((round) => ({ round, sequence: round, startedAt: '', rps: c.rps })) });
  const cells = [
    cell({ system: 'raft', workload: 'put', target: 'leader', rps: 10_000 }),
    cell({ system: 'raft', workload: 'put', target: 'follower', rps: 9_000 }),
    cell({ system: 'raft', workload: 'get', target: 'leader', rps: 20_000 }),
    cell({ system: 'raft', workload: 'get', target: 'any', rps: 25_000 }),
    cell({ system: 'etcd', workload: 'put', target: 'leader', rps: 5_000 }),
    cell({ system: 'etcd', workload: 'put', target: 'follower', rps: 4_000 }),
    cell({ system: 'etcd', workload: 'get', target: 'any', rps: 6_000 }), // no leader cell: no row
    cell({ system: 'hello', workload: 'put', target: 'leader', rps: 14_000, nodes: 1 }),
    cell({ system: 'hello', workload: 'put', target: 'follower', rps: 14_000, nodes: 1 }), // one replica: no follower
    cell({ system: 'raft', workload: 'put', target: 'follower', rps: 1_000, connections: 1 }), // not the highest connections
  ].map(rounds3);
  const rows = targetGoalChecks(cells);
  t.equal(rows.length, 3, 'a row per system with both cells and more than one replica');
  const find = (re: RegExp): GoalCheck | undefined => rows.find((g) => re.test(g.goal));
  t.match(find(/^raft puts through a follower ≥ 0\.85× .*100 connections/), { met: true, value: /^0\.90× \(--target follower 9,000 vs --target leader 10,000 req\/s, medians of 3 rounds\)$/ });
  t.match(find(/^etcd puts through a follower/), { met: false, value: /^0\.80×/ });
  t.match(find(/^raft linearizable gets spread over all replicas ≥ 1\.5×/), { met: false, value: /^1\.25× \(--target any 25,000 vs --target leader 20,000/ });
  t.same(targetGoalChecks(cells.filter((c) => c.target === 'leader')), [], 'no rows without the other target');
});

t.test("issue 7's goals and ratios compare systems at the same target", async (t) => {
  const cells = [
    cell({ system: 'raft', workload: 'put', target: 'follower', rps: 1_000 }),
    cell({ system: 'raft', workload: 'put', target: 'leader', rps: 10_000 }),
    cell({ system: 'etcd', workload: 'put', target: 'leader', rps: 4_000 }),
    cell({ system: 'etcd', workload: 'put', target: 'follower', rps: 4_000 }),
  ];
  t.match(goalChecks(cells).find((g) => /≥ 2× etcd$/.test(g.goal)), { met: true, value: /^2\.50×/ }, 'judged on the leader cells');
  const onlyAny = cells.map((c) => ({ ...c, target: 'any' as const })).slice(1, 3);
  t.match(goalChecks(onlyAny)[0], { goal: /\(--target any\)$/ }, 'another target is named');
  t.same(ratios(cells).map((r) => [r.target, r.numerator, r.denominator, r.rps]), [['follower', 'raft', 'etcd', 0.25], ['leader', 'raft', 'etcd', 2.5]]);
});
