/**
 * The seeded schedule (same seed → same schedule, different seeds differ, never a majority
 * down) and the runner against a fake cluster and a real proxy.
 */
import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { HistoryRecorder, type NemesisEvent } from '../chaos/history.js';
import { FaultProxy } from '../proxy/fault-proxy.js';
import { BYZANTINE_MODES, faultNames, registerFault, type ClusterControl } from './fault-kinds.js';
import { NemesisRunner } from './run-schedule.js';
import { maxConcurrentDown, planSchedule } from './schedule.js';

const ids3 = ['n1', 'n2', 'n3'];
const ids5 = ['n1', 'n2', 'n3', 'n4', 'n5'];
const all = ['partition', 'kill', 'pause', 'restart-wiped', 'delay'];

t.test('the same seed gives the same schedule; different seeds differ', async (t) => {
  const a = planSchedule({ faults: ['partition', 'kill', 'pause'], ids: ids3, timeMs: 60_000, intervalMs: 5000, seed: 7 });
  const b = planSchedule({ faults: ['partition', 'kill', 'pause'], ids: ids3, timeMs: 60_000, intervalMs: 5000, seed: 7 });
  t.same(a, b);
  t.ok(a.faults.length >= 8, `${a.faults.length} faults in 60 s at 5 s intervals`);
  const kinds = new Set(a.faults.map((f) => f.fault));
  t.ok(kinds.size >= 2, `several kinds: ${[...kinds].join(', ')}`);
  const c = planSchedule({ faults: ['partition', 'kill', 'pause'], ids: ids3, timeMs: 60_000, intervalMs: 5000, seed: 8 });
  t.notSame(a.faults, c.faults);
  for (const f of a.faults) {
    t.ok(f.atMs >= 0 && f.atMs + f.durationMs <= 60_000, `fault ${f.id} within the run`);
    t.ok(f.durationMs > 0);
  }
});

t.test('never a majority down at once, over many seeds and sizes', async (t) => {
  for (const ids of [ids3, ids5]) {
    let worst = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const s = planSchedule({ faults: all, ids, timeMs: 60_000, intervalMs: 3000, seed });
      worst = Math.max(worst, maxConcurrentDown(s, ids.length));
      for (const f of s.faults) {
        const overlapping = s.faults.filter((g) => g !== f && g.fault === f.fault && g.atMs < f.atMs + f.durationMs && g.atMs + g.durationMs > f.atMs);
        if ((f.fault === 'partition' || f.fault === 'delay') && overlapping.length > 0) t.fail(`seed ${seed}: overlapping ${f.fault}`);
      }
    }
    t.equal(worst, Math.floor((ids.length - 1) / 2), `${ids.length} nodes: at most ${worst} down or cut off at once`);
  }
  const loose = planSchedule({ faults: ['kill'], ids: ids3, timeMs: 60_000, intervalMs: 2000, seed: 1, allowMajorityDown: true });
  t.ok(maxConcurrentDown(loose, 3) >= 2, 'allowMajorityDown lets more go down');
  const three = planSchedule({ faults: ['partition', 'kill', 'pause'], ids: ids3, timeMs: 60_000, intervalMs: 2000, seed: 4 });
  for (const f of three.faults) {
    const overlap = three.faults.filter((g) => g !== f && g.atMs < f.atMs + f.durationMs && g.atMs + g.durationMs > f.atMs);
    if (overlap.length > 0) t.fail(`3 nodes: fault ${f.id} overlaps ${overlap.map((g) => g.id).join(',')}`);
  }
  t.pass('with 3 nodes, partitions, kills and pauses never overlap');
});

t.test('unknown nemeses are refused; the registry is extensible', async (t) => {
  t.throws(() => planSchedule({ faults: ['meteor-strike'], ids: ids3, timeMs: 10_000, intervalMs: 1000, seed: 1 }), /unknown nemesis/);
  registerFault({
    name: 'test-noop',
    resource: 'shaping',
    impairs: () => 0,
    plan: () => ({ targets: [] }),
    start: async () => ({}),
    stop: async () => ({}),
  });
  t.ok(faultNames().includes('test-noop'));
  const s = planSchedule({ faults: ['test-noop'], ids: ids3, timeMs: 10_000, intervalMs: 1000, seed: 1 });
  t.ok(s.faults.every((f) => f.fault === 'test-noop') && s.faults.length > 0);
});

class FakeCluster implements ClusterControl {
  readonly states = new Map<string, string>(ids3.map((id) => [id, 'up']));
  readonly calls: string[] = [];
  async kill(id: string) {
    this.calls.push(`kill ${id}`);
    this.states.set(id, 'killed');
  }
  pause(id: string) {
    if (this.states.get(id) !== 'up') throw new Error(`${id} not up`);
    this.calls.push(`pause ${id}`);
    this.states.set(id, 'paused');
  }
  resume(id: string) {
    this.calls.push(`resume ${id}`);
    this.states.set(id, 'up');
  }
  async restart(id: string, opts: { wipe?: boolean } = {}) {
    this.calls.push(`restart ${id}${opts.wipe === true ? ' wiped' : ''}`);
    await new Promise((r) => setTimeout(r, 5));
    this.states.set(id, 'up');
  }
  replica(id: string) {
    return { state: this.states.get(id) ?? 'stopped' };
  }
}

t.test('the runner starts and stops faults, records nemesis events and heals', async (t) => {
  const proxy = await FaultProxy.start({ ids: ids3 });
  t.teardown(() => proxy.close());
  const cluster = new FakeCluster();
  const recorder = new HistoryRecorder();
  const runner = new NemesisRunner({ ids: ids3, cluster, proxy, findLeader: async () => 'n2', rng: new SeededRng(1) }, recorder);
  const schedule = {
    seed: 0,
    timeMs: 600,
    intervalMs: 100,
    faults: [
      { id: 1, atMs: 10, fault: 'pause', targets: ['leader'], durationMs: 100 },
      // n2 is paused meanwhile: the runtime must not take a second node down in a 3-node
      // cluster, nor cut one off. A fault waits up to half its duration, then is skipped.
      { id: 2, atMs: 20, fault: 'kill', targets: ['n1'], durationMs: 60 },
      { id: 3, atMs: 30, fault: 'partition', targets: ['n3'], durationMs: 300, params: { shape: 'isolate', mode: 'blackhole' } },
      { id: 4, atMs: 350, fault: 'kill', targets: ['n1'], durationMs: 100 },
    ],
  };
  let sawPartition = false;
  const poll = setInterval(() => (sawPartition ||= proxy.link('n1', 'n3').mode === 'blackhole'), 5);
  await runner.run(schedule);
  clearInterval(poll);
  t.ok(sawPartition, 'the partition was applied');
  t.equal(proxy.link('n1', 'n3').mode, 'pass', 'and healed at its end');
  const nemesis = recorder.entries.filter((e): e is NemesisEvent => e.process === 'nemesis');
  const fs = nemesis.map((e) => e.f);
  t.same(fs, ['start-pause', 'skip-kill', 'stop-pause', 'start-partition', 'stop-partition', 'start-kill', 'stop-kill']);
  const at = (f: string) => nemesis.find((e) => e.f === f)!.time;
  t.ok(at('start-partition') >= at('stop-pause'), 'the partition waited for the paused node to resume');
  t.ok(cluster.calls.includes('pause n2'), 'leader resolved to n2');
  t.ok(cluster.calls.includes('kill n1'), 'the later kill runs');
  t.notOk(cluster.calls.includes('kill n2'), 'the paused node was never killed');
  t.ok(nemesis.every((e) => e.type === 'info' && typeof e.time === 'number'));
  const startPartition = nemesis.find((e) => e.f === 'start-partition')!;
  t.match(startPartition.value, { id: 3, shape: 'isolate', nodes: ['n3'] });
  t.equal(cluster.states.get('n1'), 'up', 'the kill was stopped by restarting');
});

t.test('heal() ends running faults early and restarts what is down', async (t) => {
  const proxy = await FaultProxy.start({ ids: ids3 });
  t.teardown(() => proxy.close());
  const cluster = new FakeCluster();
  const recorder = new HistoryRecorder();
  const runner = new NemesisRunner({ ids: ids3, cluster, proxy, findLeader: async () => null, rng: new SeededRng(1) }, recorder);
  const run = runner.run({
    seed: 0,
    timeMs: 10_000,
    intervalMs: 1000,
    faults: [
      { id: 1, atMs: 0, fault: 'restart-wiped', targets: ['n1'], durationMs: 10_000 },
      { id: 2, atMs: 0, fault: 'partition', targets: ['n2'], durationMs: 10_000, params: { shape: 'isolate', mode: 'refuse' } },
      { id: 3, atMs: 5000, fault: 'pause', targets: ['n3'], durationMs: 1000 },
    ],
  });
  await new Promise((r) => setTimeout(r, 50));
  await runner.heal();
  await run;
  t.ok(cluster.calls.includes('restart n1 wiped'), 'wiped restart on heal');
  t.notOk(cluster.calls.includes('pause n3'), 'pending faults never start');
  t.equal(proxy.link('n2', 'n1').mode, 'pass');
  const last = recorder.entries.at(-1) as NemesisEvent;
  t.equal(last.f, 'heal');
  t.ok(runner.periods.every((p) => p.endMs !== null), 'every period is closed');
});

t.test('PBFT: byzantine faults plan a mode, and at most f replicas are faulty at once', async (t) => {
  const ids4 = ['n1', 'n2', 'n3', 'n4'];
  for (let seed = 1; seed <= 50; seed++) {
    const s = planSchedule({ faults: ['byzantine', 'kill', 'pause'], ids: ids4, timeMs: 30_000, intervalMs: 1000, seed, maxImpaired: 1 });
    t.ok(maxConcurrentDown(s, 4) <= 1, `seed ${seed}: at most f = 1 faulty`);
    for (const f of s.faults.filter((x) => x.fault === 'byzantine')) t.ok(BYZANTINE_MODES.includes(f.params?.['mode'] as never), `mode ${f.params?.['mode']}`);
  }
});
