/**
 * Soak mode: the analysis on made-up samples (windows, the 0.8× floor, leader changes seen the
 * way lagging replicas report them, probes, gauges, RSS, snapshots) and its tables, charts and
 * goals; the sampler process against a real 3-replica Raft cluster whose leader is killed; and
 * a short soak through the CLI (2 windows of 2 s), checking soak.json, report.md and
 * report.html. Never asserts speed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { LoadWindow } from './load-protocol.js';
import { LoadWindows, reportWindows } from './load-windows.js';
import { parseOptions } from './options.js';
import { parseVmRss } from './proc-rss.js';
import { batchPutRequest } from './requests.js';
import { analyzeSoak, leadership } from './soak-analysis.js';
import { soakCharts } from './soak-charts.js';
import { soakGoalChecks } from './soak-goals.js';
import { renderSoakMarkdown } from './soak-md.js';
import type { ReplicaSamples, SamplerResult, StatusSample } from './soak-protocol.js';
import { validateSoak, type SoakReport } from './soak-results.js';
import { SamplerProcess } from './soak-sampler-client.js';
import { readStatus } from './soak-status.js';
import { systemDefinition } from './systems/registry.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const T0 = 1_000_000_000;
const at = (s: number): number => T0 + Math.round(s * 1000);
const range = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let s = from; s < to - 1e-9; s += step) out.push(Math.round(s * 1000) / 1000);
  return out;
};
const mdTable = (header: string[], rows: string[][]): string => [header.join(' | '), ...rows.map((r) => r.join(' | '))].join('\n');

function replica(id: string, status: StatusSample[], extra: Partial<ReplicaSamples> = {}): ReplicaSamples {
  return { id, url: `http://127.0.0.1:1/${id}`, pid: 100, selfId: id, probes: [], status, statusErrors: 0, rss: [], gauges: null, leaderCounter: { start: 1, end: 2 }, ...extra };
}

/** n1 leads term 2 until it dies at 25 s; n2 leads term 3 from 26 s; n3 lags behind both. */
function fakeRaftSoak(): SoakReport {
  const n1: StatusSample[] = [[at(-3), 'n3', 1, 0, 100], ...range(-2, 25, 1).map((s): StatusSample => [at(s), 'n1', 2, 0, 100])];
  const n2: StatusSample[] = range(-3, 52, 1).map((s): StatusSample => {
    const snapshot = s >= 15 ? 50_000 : 0;
    if (s < -2) return [at(s), 'n3', 1, snapshot, 100];
    if (s < 25) return [at(s), 'n1', 2, snapshot, 100];
    if (s < 26) return [at(s), null, 3, snapshot, 100];
    return [at(s), 'n2', 3, snapshot, 100];
  });
  const n3: StatusSample[] = range(-3, 52, 1).map((s): StatusSample => [at(s + 0.5), s < 27 ? (s < -2 ? 'n3' : 'n1') : 'n2', s < 27 ? (s < -2 ? 1 : 2) : 3, 0, 100]);
  const probes = (id: string): [number, number][] =>
    range(0, 50, 0.1).map((s): [number, number] => {
      if (id === 'n1' && s >= 25) return [at(s), -1];
      if (id === 'n2' && s === 15) return [at(s), 80];
      return [at(s), 2];
    });
  const sampler: SamplerResult = {
    startMs: at(-4),
    endMs: at(53),
    probePath: '/health',
    replicas: [
      replica('n1', n1, { probes: probes('n1'), rss: range(0, 25, 1).map((s): [number, number] => [at(s), (100 + 2 * s) * 2 ** 20]), leaderCounter: { start: 1, end: null } }),
      replica('n2', n2, {
        probes: probes('n2'),
        rss: range(0, 51, 1).map((s): [number, number] => [at(s), (s === 30 ? 260 : 200) * 2 ** 20]),
        gauges: range(1, 51, 1).map((s): [number, number, number] => [at(s), s === 16 ? 0.01 : 0.002, s === 16 ? 0.06 : 0.004]),
      }),
      replica('n3', n3, { probes: probes('n3'), rss: range(0, 51, 1).map((s): [number, number] => [at(s), 180 * 2 ** 20]) }),
    ],
    others: [{ id: 'loadgen', pid: 7, rss: range(0, 51, 1).map((s): [number, number] => [at(s), 50 * 2 ** 20]) }],
    selfLag: range(1, 51, 1).map((s): [number, number] => [at(s), 3]),
  };
  const oks = [1000, 1000, 700, 1000, 1000];
  const windows: LoadWindow[] = oks.map((ok, index) => ({ index, ok, non2xx: 0, errors: index === 2 ? 30 : 0, latencyMs: { p50: 5, p99: 20, max: 40 } }));
  return analyzeSoak({
    meta: { system: 'raft', nodes: 3, workload: 'put', connections: 100, target: 'any', keys: 100_000, valueBytes: 256, round: 1, repetition: 1, windowS: 10 },
    load: { startMs: T0, durationS: 50.8, ok: 4700, windows },
    sampler,
    probeIntervalMs: 100,
    leaderCounter: 'consensus_leader_changes_total',
  });
}

t.test('analysis of a made-up soak with a leader change', async (t) => {
  const s = fakeRaftSoak();
  t.same(validateSoak([s]), [], 'the report has the documented shape');
  t.same(s.windows.map((w) => w.rps), [100, 100, 70, 100, 100], 'req/s per window from the load generator');
  t.match(s.throughput, { minRps: 70, medianRps: 100, maxRps: 100, worstIndex: 2, worstToMedian: 0.7, allAboveFloor: false });
  t.equal(s.rps, 92.5, 'overall req/s over the measured duration');

  const l = s.leadership;
  t.equal(l.initial, 'n1', 'a change during the warm-up only moves the starting leader');
  t.equal(l.changes, 1, 'one leader change: a lagging replica still naming n1 does not count again');
  t.same(l.events, [{ tS: 26, from: 'n1', to: 'n2', epoch: 3 }]);
  t.same([l.epochStart, l.epochEnd, l.counterDelta], [2, 3, 1], 'epochs and the counter (the dead n1 has no end value)');

  t.same(s.snapshots, [{ replica: 'n2', tS: 15, index: 50_000 }], 'snapshot seen when its index moves');
  const n2 = s.replicas.find((r) => r.id === 'n2')!;
  t.same([n2.probe.maxMs, n2.probe.maxAtS, n2.probe.windows[1]!.maxMs, n2.probe.windows[0]!.maxMs], [80, 15, 80, 2], 'the probe stall lands in its window');
  t.same(s.stalls, [{ replica: 'n2', tS: 15, ms: 80 }], 'probes ≥ 50 ms listed');
  t.same([n2.gauges?.maxMs, n2.gauges?.maxAtS, n2.gauges?.windows[1]?.p99Ms, n2.gauges?.windows[0]?.maxMs], [60, 16, 10, 4], 'prom-client gauges per window');
  const n1 = s.replicas.find((r) => r.id === 'n1')!;
  t.equal(n1.probe.windows[2]!.failed, 50, 'failed probes of the dead replica counted, not timed');
  t.equal(n1.gauges, null, 'no gauges where none were exported');
  t.same([n1.rss.startMB, n1.rss.peakMB, n1.rss.endMB], [100, 148, 148]);
  t.same([n2.rss.startMB, n2.rss.peakMB, n2.rss.endMB], [200, 260, 200]);
  t.equal(n2.keysAtStart, 100);
  t.same(s.others[0]!.rss.peakMB, 50, 'the load generator is measured apart');
  t.same(s.sampler.selfLagMaxMs, [3, 3, 3, 3, 3]);
});

t.test('stalls: the slowest are kept when there are too many to list', async (t) => {
  const probes: [number, number][] = range(0, 60, 0.1).map((s, i): [number, number] => [at(s), s >= 59.9 ? 900 : 50 + (i % 7)]);
  const s = analyzeSoak({
    meta: { system: 'raft', nodes: 1, workload: 'put', connections: 1, target: 'leader', keys: 1, valueBytes: 1, round: 1, repetition: 1, windowS: 60 },
    load: { startMs: T0, durationS: 60, ok: 60, windows: [{ index: 0, ok: 60, non2xx: 0, errors: 0, latencyMs: { p50: 1, p99: 1, max: 1 } }] },
    sampler: { startMs: T0, endMs: at(60), probePath: '/health', replicas: [replica('n1', [], { probes })], others: [], selfLag: [] },
    probeIntervalMs: 100,
    leaderCounter: null,
  });
  t.equal(s.stallsTotal, 600);
  t.equal(s.stalls.length, 500, 'at most 500 listed');
  t.same(s.stalls[s.stalls.length - 1], { replica: 'n1', tS: 59.9, ms: 900 }, 'the worst one, last in time, is among them');
  t.ok(s.stalls.every((x, i) => i === 0 || x.tS >= s.stalls[i - 1]!.tS), 'in time order');
});

t.test('leader changes: etcd member ids, a same-epoch flip-flop, the counter alone', async (t) => {
  const rel = (x: number): number => (x - T0) / 1000;
  const etcd = leadership(
    { replicas: [replica('e1', [[at(1), '222', 7, null, null]], { selfId: '111' }), replica('e2', [[at(2), '222', 7, null, null]], { selfId: '222' })] },
    T0,
    at(10),
    rel,
    new Map([['111', 'e1'], ['222', 'e2']]),
  );
  t.same([etcd.initial, etcd.changes], ['e2', 0], "etcd's leader member id is named after the member");
  const paxos = leadership(
    { replicas: [replica('n1', [[at(1), 'n1', 5, null, null], [at(3), 'n1', 5, null, null]]), replica('n2', [[at(2), 'n3', 5, null, null], [at(4), 'n3', 5, null, null]], { leaderCounter: { start: 0, end: 3 } })] },
    T0,
    at(10),
    rel,
    new Map(),
  );
  t.equal(paxos.changes, 1, 'stale reports flip-flopping between two known pairs count once');
  t.equal(paxos.counterDelta, 3, 'changes between polls show in the counter');
});

t.test('tables, charts and goals of a soak', async (t) => {
  const raft = fakeRaftSoak();
  const etcd: SoakReport = { ...raft, system: 'etcd', rps: 50, leadership: { ...raft.leadership, changes: 0, events: [] } };
  const md = renderSoakMarkdown([raft, etcd], mdTable).join('\n');
  t.match(md, /## Soak/);
  t.match(md, /raft \| put \| 100 \| 5 × 10 s \| 92\.5 \| 70\.0 \| 100 \| 100 \| 0\.70× \(window 3\) \| no/, 'summary row: windows, min/median/max, worst against the floor');
  t.match(md, /n1 → n2 at 26\.0 s \(epoch 3\)/, 'the leader change in words');
  t.match(md, /3 \| 20 \| 70\.0 \| 30 \| 20\.0/, 'per-window table with errors');
  const charts = soakCharts([raft, etcd]);
  t.equal(charts.length, 2 + 2 * 2 + 2, 'throughput, p99; RSS and probe per soak; gauges where exported');
  for (const svg of charts) {
    t.ok(svg.startsWith('<svg') && svg.endsWith('</svg>'), 'an SVG element');
    t.equal((svg.match(/<svg/g) ?? []).length, 1);
    t.notMatch(svg, /NaN|undefined|Infinity/, 'no broken coordinates');
  }
  t.match(charts[0]!, /raft: n1 → n2/, 'the leader change marked on the throughput chart');
  t.match(charts[3]!, /snapshot\/checkpoint 50000/, 'snapshots ticked on the lag chart');
  const goals = soakGoalChecks([raft, etcd]);
  const find = (re: RegExp): (typeof goals)[number] | undefined => goals.find((g) => re.test(g.goal));
  t.equal(find(/no leader change/)?.met, false, 'a leader change fails the goal');
  t.equal(find(/window ≥ 0\.8×/)?.met, false, 'the slow window fails the floor');
  t.match(find(/etcd's/), { met: true, value: /1\.85×/ }, 'soak throughput against etcd');
  t.match(find(/stall/), { met: false, value: /no event-loop gauges exported.*80\.0 ms \(n2 at 15\.0 s\)/ }, 'judged by the probe when not every replica exports gauges');
  t.match(find(/RSS/), { met: false, value: /peak 260 MB \(n2\)/ }, 'RSS goal at 100,000 keys');
  t.equal(goals.filter((g) => g.goal.startsWith('etcd')).length, 0, 'no goals for the baseline itself');
});

t.test("the load generator's windows: by completion time, the partial tail left out", async (t) => {
  const w = new LoadWindows(1000, 2000, 2); // starts at performance.now() = 1000 ms, 2 s windows, 2 complete
  w.response(1500, 200, 3);
  w.response(2999, 200, 5);
  w.response(3000, 200, 7); // the first instant of window 2
  w.response(3100, 503, 1);
  w.error(4000);
  w.response(5000, 200, 9); // after the last complete window: dropped
  w.response(500, 200, 1); // before the start: dropped
  t.same(w.progress(1), { kind: 'window', index: 1, ok: 1, non2xx: 1, errors: 1 });
  t.same(w.result(), [
    { index: 0, ok: 2, non2xx: 0, errors: 0, latencyMs: { p50: 3, p99: 5, max: 5 } },
    { index: 1, ok: 1, non2xx: 1, errors: 1, latencyMs: { p50: 7, p99: 7, max: 7 } },
  ]);
  t.same(new LoadWindows(0, 1000, 2).result()[1], { index: 1, ok: 0, non2xx: 0, errors: 0, latencyMs: { p50: 0, p99: 0, max: 0 } }, 'an empty window is a real zero');
  const txn = JSON.parse(batchPutRequest([0, 1], 'v').body!) as { success: { requestPut: { key: string; value: string } }[] };
  t.same(txn.success.map((o) => Buffer.from(o.requestPut.key, 'base64').toString()), ['k0000000', 'k0000001'], 'an etcd preload txn carries several puts');
});

t.test('every complete window gets its progress line, even when the round ends before its timer fires', async (t) => {
  const start = performance.now();
  const w = new LoadWindows(start, 60_000, 2); // two windows of a minute: no timer fires during the test
  w.response(start + 1, 200, 1);
  const lines: number[] = [];
  const stop = reportWindows(w, start, 60_000, (p) => lines.push(p.index));
  stop(true); // the round is over (a busy machine: autocannon returned before the windows' timers)
  t.same(lines, [0, 1], 'both windows reported, in order, when the round ends');
  const failed: number[] = [];
  reportWindows(w, start, 60_000, (p) => failed.push(p.index))(false);
  t.same(failed, [], 'a round that failed reports nothing more');
});

t.test('status readings, VmRSS, soak options', async (t) => {
  t.same(readStatus('kv', { id: 'n2', leader: 'n2', term: 4, snapshotIndex: 50000, keys: 9 }), { self: 'n2', leader: 'n2', epoch: 4, snapshot: 50000, keys: 9 });
  t.match(readStatus('kv', { id: 'n1', leader: 'n1', ballot: { round: 3, leader: 'n1' }, snapshotSlot: 4096 }), { epoch: 3, snapshot: 4096 });
  t.match(readStatus('kv', { id: 'n1', leader: null, view: 2, lastStableCheckpoint: 256 }), { leader: null, epoch: 2, snapshot: 256 });
  t.same(readStatus('etcd', { header: { member_id: '13', raft_term: '2' }, leader: '0', raftTerm: '2' }), { self: '13', leader: null, epoch: 2, snapshot: null, keys: null });
  t.equal(parseVmRss('Name:\tnode\nVmRSS:\t  123456 kB\nRssAnon: 1 kB\n'), 123456 * 1024);
  const soak = parseOptions(['--soak'], { etcdOnPath: false });
  t.match(soak, { soak: true, durationS: 600, keys: 1_000_000, connections: [100], workloads: ['put'], windowS: 10 });
  t.match(parseOptions(['--soak', '--duration', '120', '--keys', '100000', '--window', '5'], { etcdOnPath: false }), { durationS: 120, keys: 100_000, windowS: 5 });
  t.throws(() => parseOptions(['--window', '5'], { etcdOnPath: false }), /needs --soak/);
  t.throws(() => parseOptions(['--soak', '--duration', '4', '--window', '5'], { etcdOnPath: false }), /at least one window/);
});

t.test('the sampler sees a real leader change (3 Raft replicas, leader killed)', { timeout: 120_000 }, async (t) => {
  const sys = await systemDefinition('raft').start({ nodes: 3 });
  t.teardown(() => sys.stop());
  const replicas = sys.replicas();
  const sampler = await SamplerProcess.start({
    dialect: sys.dialect,
    replicas,
    others: [],
    leaderCounter: sys.leaderCounter,
    probeIntervalMs: 20,
    probeTimeoutMs: 2000,
    statusIntervalMs: 200,
  });
  t.teardown(() => sampler.close());
  const startMs = Date.now();
  const killed = await sys.killLeader!();
  // Until a survivor names another leader (elections take about a second: deadline, no fixed sleep).
  const deadline = Date.now() + 20_000;
  let newLeader: string | null = null;
  while (newLeader === null && Date.now() < deadline) {
    for (const r of replicas.filter((x) => x.id !== killed.replica)) {
      const s = await fetch(`${r.url}/status`, { signal: AbortSignal.timeout(1000) }).then((res) => res.json() as Promise<{ role?: string; id?: string }>, () => null);
      if (s?.role === 'leader') newLeader = s.id ?? null;
    }
    if (newLeader === null) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(newLeader !== null, `a new leader (${newLeader}) after ${killed.replica} was killed`);
  const result = await sampler.stop(); // it polls every replica's status once more as it stops
  const names = new Map(result.replicas.map((r) => [r.selfId ?? r.id, r.id]));
  const l = leadership(result, startMs, Date.now(), (x) => (x - startMs) / 1000, names);
  t.equal(l.initial, killed.replica, 'the killed replica led at the start');
  t.ok(l.changes >= 1, `leader change counted (${l.changes})`);
  t.equal(l.events[0]?.from, killed.replica);
  t.not(l.events[l.events.length - 1]?.to, killed.replica, 'to another replica');
  t.ok((l.epochEnd ?? 0) > (l.epochStart ?? Infinity), 'the term went up');
  t.ok((l.counterDelta ?? 0) >= 1, `the survivors' consensus_leader_changes_total rose (${l.counterDelta})`);
  for (const r of result.replicas) {
    // The killed replica is probed only until the kill: perhaps not at all on a crowded machine.
    if (r.id !== killed.replica) t.ok(r.probes.some(([, ms]) => ms >= 0), `${r.id}: probes answered`);
    t.ok(r.rss.length > 0 && r.rss.every(([, b]) => b > 10 * 2 ** 20), `${r.id}: RSS read from /proc`);
  }
  const dead = result.replicas.find((r) => r.id === killed.replica)!;
  t.ok(dead.probes.some(([sent, ms]) => ms === -1 && sent >= killed.killedAtMs), 'probes of the killed replica fail');
});

t.test('a short soak through the CLI: soak.json, report.md and report.html', { timeout: 180_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'consensus-lab-soak-test-'));
  let child: ChildProcess | null = null;
  t.teardown(async () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const hard = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(hard);
    }
    await rm(out, { recursive: true, force: true });
  });
  const args = ['--import', 'tsx', join(repoRoot, 'bench/bench-cli.ts'), '--soak', '--systems', 'raft', '--duration', '4', '--window', '2', '--keys', '300', '--connections', '4', '--warmup', '0.3', '--out', out];
  child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0, 'bench exits 0', { output });
  t.match(output, /raft window 2: /, 'windows reported as they close');

  const runs = await readdir(out);
  const dir = join(out, runs[0]!);
  const soaks: unknown = JSON.parse(await readFile(join(dir, 'soak.json'), 'utf8'));
  t.same(validateSoak(soaks), [], 'soak.json has the documented shape');
  const s = (soaks as SoakReport[])[0]!;
  t.equal(s.windows.length, 2, 'two complete windows of 2 s');
  t.ok(s.windows.every((w) => w.rps > 0), 'something completed in every window');
  t.equal(s.replicas.length, 3);
  t.equal(Math.max(...s.replicas.map((r) => r.keysAtStart ?? 0)), 300, 'the preload wrote every key before the soak');
  for (const r of s.replicas) {
    t.ok(r.probe.windows.every((w) => w.count > 0), `${r.id}: probed in every window`);
    t.ok((r.rss.peakMB ?? 0) > 10, `${r.id}: RSS measured`);
  }
  // No assertion that nothing changed: on a crowded machine a real election can happen.
  t.ok(s.leadership.initial !== null && s.leadership.epochStart !== null, 'the leader and its term were seen');
  const md = await readFile(join(dir, 'report.md'), 'utf8');
  t.match(md, /## Soak/);
  t.match(md, /\| raft \| put \| 4 \| 2 × 2 s \|/, 'soak summary row');
  t.match(md, /### Soak goals/);
  const html = await readFile(join(dir, 'report.html'), 'utf8');
  for (const title of ['Soak: successful requests per second', 'raft: resident memory (RSS) per replica', 'raft: GET /health response time']) t.match(html, title);
  t.notMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'report.html is self-contained');
});
