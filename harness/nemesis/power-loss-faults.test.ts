/**
 * The power-loss nemeses without FUSE: partial power losses keep the schedule's limits (a
 * minority; PBFT at most f), a whole-cluster power failure is planned only in a window no other
 * fault overlaps and nothing overlaps it, and the runner powers off every replica at once, only
 * when all are up and nothing else runs, then restarts them all (a fake cluster and a real proxy).
 */
import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { HistoryRecorder, type NemesisEvent } from '../chaos/history.js';
import { FaultProxy } from '../proxy/fault-proxy.js';
import type { ClusterControl, ScheduledFault } from './fault-kinds.js';
import { needsPowerLossFs } from './power-loss-faults.js';
import { NemesisRunner } from './run-schedule.js';
import { planSchedule } from './schedule.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`);
const whole = (f: ScheduledFault) => f.params?.['wholeCluster'] === true;
const overlaps = (a: ScheduledFault, b: ScheduledFault) => a !== b && a.atMs < b.atMs + b.durationMs && b.atMs < a.atMs + a.durationMs;

t.test('planning: partial power losses keep the limits; whole-cluster ones overlap nothing', async (t) => {
  for (const [n, maxImpaired] of [[3, undefined], [5, undefined], [4, 1]] as const) {
    let wholeSeen = 0;
    let partialSeen = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const s = planSchedule({ faults: ['power-loss', 'kill', 'partition', 'delay'], ids: ids(n), timeMs: 30_000, intervalMs: 1500, seed, ...(maxImpaired === undefined ? {} : { maxImpaired }) });
      const limit = maxImpaired ?? Math.floor((n - 1) / 2);
      for (const f of s.faults) {
        if (f.fault === 'power-loss' && whole(f)) {
          wholeSeen++;
          if (f.targets.join() !== ids(n).join()) t.fail(`seed ${seed}: a whole-cluster power failure of ${f.targets.join(',')}`);
          const other = s.faults.filter((g) => overlaps(f, g));
          if (other.length > 0) t.fail(`seed ${seed}: a whole-cluster power failure overlaps ${other.map((g) => g.fault).join(', ')}`);
        } else if (f.fault === 'power-loss') {
          partialSeen++;
          if (f.targets.length > limit) t.fail(`seed ${seed}: a partial power loss of ${f.targets.length} > ${limit}`);
        }
      }
    }
    t.ok(wholeSeen > 20 && partialSeen > 20, `${n} nodes: ${wholeSeen} whole-cluster and ${partialSeen} partial power failures planned, within the limits`);
  }
  const only = planSchedule({ faults: ['power-loss-all'], ids: ids(3), timeMs: 30_000, intervalMs: 2000, seed: 3 });
  t.ok(only.faults.length >= 3 && only.faults.every(whole), 'power-loss-all: only whole-cluster power failures');
  t.ok(only.faults.every((f) => only.faults.every((g) => !overlaps(f, g))), 'never overlapping');
  t.same(planSchedule({ faults: ['power-loss'], ids: ids(3), timeMs: 8000, intervalMs: 2000, seed: 21 }), planSchedule({ faults: ['power-loss'], ids: ids(3), timeMs: 8000, intervalMs: 2000, seed: 21 }), 'seeded');
  for (let seed = 1; seed <= 100; seed++) {
    const s = planSchedule({ faults: ['power-loss'], ids: ids(3), timeMs: 8000, intervalMs: 2000, seed });
    if (!s.faults[0] || !whole(s.faults[0])) t.fail(`seed ${seed}: the first power failure (in a free window) takes the whole cluster`);
  }
  t.ok(needsPowerLossFs(['kill', 'power-loss']) && needsPowerLossFs(['power-loss-all']) && !needsPowerLossFs(['kill']));
});

class FakeCluster implements ClusterControl {
  readonly states = new Map<string, string>(ids(3).map((id) => [id, 'up']));
  readonly calls: string[] = [];
  async kill(id: string) {
    this.calls.push(`kill ${id}`);
    this.states.set(id, 'killed');
  }
  pause(id: string) {
    this.calls.push(`pause ${id}`);
    this.states.set(id, 'paused');
  }
  resume(id: string) {
    this.states.set(id, 'up');
  }
  async restart(id: string) {
    this.calls.push(`restart ${id}`);
    await new Promise((r) => setTimeout(r, 5));
    this.states.set(id, 'up');
  }
  replica(id: string) {
    return { state: this.states.get(id) ?? 'stopped' };
  }
  async powerOffAll(targets: readonly string[]) {
    this.calls.push(`power-off ${targets.join(',')}`);
    for (const id of targets) this.states.set(id, 'killed');
    return Object.fromEntries(targets.map((id) => [id, { droppedBytes: 4096, droppedFiles: 1, undoneOps: 0, undoErrors: 0 }]));
  }
}

t.test('the runner: a whole-cluster power failure runs alone, with every replica up', async (t) => {
  const proxy = await FaultProxy.start({ ids: ids(3) });
  t.teardown(() => proxy.close());
  const cluster = new FakeCluster();
  const recorder = new HistoryRecorder();
  const runner = new NemesisRunner({ ids: ids(3), cluster, proxy, findLeader: async () => 'n2', rng: new SeededRng(1) }, recorder);
  await runner.run({
    seed: 0,
    timeMs: 1000,
    intervalMs: 100,
    faults: [
      { id: 1, atMs: 0, fault: 'pause', targets: ['n3'], durationMs: 300 },
      // n3 is paused: the whole-cluster failure waits up to half its duration, then is skipped.
      { id: 2, atMs: 20, fault: 'power-loss', targets: ids(3), durationMs: 100, params: { wholeCluster: true } },
      { id: 3, atMs: 400, fault: 'power-loss-all', targets: ids(3), durationMs: 200, params: { wholeCluster: true } },
      // the cluster is down: nothing else may start meanwhile
      { id: 4, atMs: 450, fault: 'kill', targets: ['n1'], durationMs: 50 },
      { id: 5, atMs: 700, fault: 'power-loss', targets: ['leader'], durationMs: 100 },
    ],
  });
  const nemesis = recorder.entries.filter((e): e is NemesisEvent => e.process === 'nemesis');
  t.same(
    nemesis.map((e) => e.f),
    ['start-pause', 'skip-power-loss', 'stop-pause', 'start-power-loss-all', 'skip-kill', 'stop-power-loss-all', 'start-power-loss', 'stop-power-loss'],
  );
  t.same(cluster.calls, ['pause n3', 'power-off n1,n2,n3', 'restart n1', 'restart n2', 'restart n3', 'power-off n2', 'restart n2'], 'all at once, all restarted; then the leader alone');
  t.match(nemesis.find((e) => e.f === 'start-power-loss-all')!.value, { nodes: ids(3), wholeCluster: true, lost: { n1: { droppedBytes: 4096 } } });
});

t.test('without power-loss filesystems the fault records why it cannot run', async (t) => {
  const proxy = await FaultProxy.start({ ids: ids(3) });
  t.teardown(() => proxy.close());
  const fake = new FakeCluster();
  const cluster: ClusterControl = {
    kill: (id) => fake.kill(id),
    pause: (id) => fake.pause(id),
    resume: (id) => fake.resume(id),
    restart: (id) => fake.restart(id),
    replica: (id) => fake.replica(id),
  };
  const recorder = new HistoryRecorder();
  const runner = new NemesisRunner({ ids: ids(3), cluster, proxy, findLeader: async () => null, rng: new SeededRng(1) }, recorder);
  await runner.run({ seed: 0, timeMs: 200, intervalMs: 100, faults: [{ id: 1, atMs: 0, fault: 'power-loss', targets: ['n1'], durationMs: 50 }] });
  const start = recorder.entries.find((e): e is NemesisEvent => e.process === 'nemesis' && e.f === 'start-power-loss');
  t.match(start?.value, { error: /needs the replicas on the power-loss filesystem/ });
});
