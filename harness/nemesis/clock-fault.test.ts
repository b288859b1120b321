/**
 * The clock nemesis without real clocks: what the planner draws (modes, parameters, one clock
 * fault at a time, twice as long, impairing nothing), and what the runner does with a fake
 * ClockControl (start sets the clock as planned, stop resets it, heal resets every clock).
 */
import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { HistoryRecorder, type NemesisEvent } from '../chaos/history.js';
import type { ClockControl, ClockReading } from '../clock/replica-clocks.js';
import { FaultProxy } from '../proxy/fault-proxy.js';
import { CLOCK_MODES } from './clock-fault.js';
import { faultKind } from './fault-kinds.js';
import { upCluster } from './test-support.js';
import { NemesisRunner } from './run-schedule.js';
import { maxConcurrentDown, planSchedule } from './schedule.js';

const ids3 = ['n1', 'n2', 'n3'];

t.test('clock faults: every mode, sane parameters, one at a time, twice as long, impairing nothing', async (t) => {
  const modes = new Set<string>();
  for (let seed = 1; seed <= 200; seed++) {
    const s = planSchedule({ faults: ['clock', 'kill', 'partition'], ids: ids3, timeMs: 60_000, intervalMs: 2000, seed });
    const clocks = s.faults.filter((f) => f.fault === 'clock');
    for (const f of clocks) {
      const p = f.params ?? {};
      modes.add(String(p['mode']));
      if (p['mode'] === 'slow' && !(Number(p['rate']) >= 0.02 && Number(p['rate']) <= 0.5)) t.fail(`seed ${seed}: slow rate ${p['rate']}`);
      if (p['mode'] === 'fast' && !(Number(p['rate']) >= 1.5 && Number(p['rate']) <= 3)) t.fail(`seed ${seed}: fast rate ${p['rate']}`);
      // Every backward step is at most 2 s: a fast clock's gain, a forward step undone by the reset.
      if (p['mode'] === 'fast' && !(Number(p['gainMs']) >= 250 && Number(p['gainMs']) <= 2000)) t.fail(`seed ${seed}: fast gain ${p['gainMs']}`);
      if (p['mode'] === 'bump-forward' && !(Number(p['stepMs']) >= 250 && Number(p['stepMs']) <= 2000)) t.fail(`seed ${seed}: forward step ${p['stepMs']}`);
      if (p['mode'] === 'bump-back' && !(Number(p['stepMs']) <= -250 && Number(p['stepMs']) >= -2000)) t.fail(`seed ${seed}: back step ${p['stepMs']}`);
      if (f.durationMs > 6000) t.fail(`seed ${seed}: a clock fault of ${f.durationMs} ms (at most 2 × 1.5 intervals)`);
      const overlapping = clocks.filter((g) => g !== f && g.atMs < f.atMs + f.durationMs && g.atMs + g.durationMs > f.atMs);
      if (overlapping.length > 0) t.fail(`seed ${seed}: clock faults ${f.id} and ${overlapping[0]!.id} overlap`);
    }
    // Clock faults impair nothing, so kills and partitions still keep a majority.
    if (maxConcurrentDown(s, 3) > 1) t.fail(`seed ${seed}: a majority impaired`);
  }
  t.same([...modes].sort(), [...CLOCK_MODES].sort(), 'every mode is drawn');
  t.equal(faultKind('clock').impairs({ targets: ['n1'] }, 3), 0, 'a clock fault impairs no node');
  const long = planSchedule({ faults: ['clock'], ids: ids3, timeMs: 600_000, intervalMs: 2000, seed: 3 });
  t.ok(long.faults.some((f) => f.durationMs > 3000), 'clock faults last longer than one and a half intervals');
});

/** Records every call; readings are made up. */
class FakeClocks implements ClockControl {
  readonly calls: string[] = [];
  private read(node: string): ClockReading {
    return { node, offsetMs: 0, rate: 1, description: 'x1, +0.00 s' };
  }
  async setRate(id: string, rate: number, forMs?: number) {
    this.calls.push(`rate ${id} ${rate}${forMs === undefined ? '' : ` for ${forMs}`}`);
    return this.read(id);
  }
  async step(id: string, stepMs: number) {
    this.calls.push(`step ${id} ${stepMs}`);
    return this.read(id);
  }
  async strobe(id: string, deltaMs: number, periodMs: number) {
    this.calls.push(`strobe ${id} ${deltaMs}/${periodMs}`);
    return this.read(id);
  }
  async reset(id: string) {
    this.calls.push(`reset ${id}`);
    return this.read(id);
  }
  async resetAll() {
    this.calls.push('reset all');
  }
}


t.test('the runner sets the planned clock, resets it at the end, and heal resets every clock', async (t) => {
  const proxy = await FaultProxy.start({ ids: ids3 });
  t.teardown(() => proxy.close());
  const clocks = new FakeClocks();
  const recorder = new HistoryRecorder();
  const runner = new NemesisRunner({ ids: ids3, cluster: upCluster, proxy, findLeader: async () => 'n3', rng: new SeededRng(1), clocks }, recorder);
  await runner.run({
    seed: 0,
    timeMs: 400,
    intervalMs: 100,
    faults: [
      { id: 1, atMs: 0, fault: 'clock', targets: ['leader'], durationMs: 50, params: { mode: 'slow', rate: 0.1 } },
      { id: 2, atMs: 60, fault: 'clock', targets: ['n1'], durationMs: 50, params: { mode: 'bump-back', stepMs: -500 } },
      { id: 3, atMs: 120, fault: 'clock', targets: ['n2'], durationMs: 50, params: { mode: 'strobe', deltaMs: 200, periodMs: 30 } },
      // Fast until it gained 1 s: at x3, for 500 ms.
      { id: 4, atMs: 180, fault: 'clock', targets: ['n2'], durationMs: 50, params: { mode: 'fast', rate: 3, gainMs: 1000 } },
    ],
  });
  t.same(clocks.calls, ['rate n3 0.1', 'reset n3', 'step n1 -500', 'reset n1', 'strobe n2 200/30', 'reset n2', 'rate n2 3 for 500', 'reset n2']);
  const started = recorder.entries.filter((e): e is NemesisEvent => e.process === 'nemesis' && e.f === 'start-clock');
  t.match(started[0]?.value, { nodes: ['n3'], mode: 'slow', clocks: [{ node: 'n3' }] }, 'the history says which clock and how');

  const long = runner.run({ seed: 0, timeMs: 10_000, intervalMs: 1000, faults: [{ id: 5, atMs: 0, fault: 'clock', targets: ['n1'], durationMs: 10_000, params: { mode: 'slow', rate: 0.5 } }] });
  await new Promise((r) => setTimeout(r, 30));
  await runner.heal();
  await long;
  t.same(clocks.calls.slice(-2), ['rate n1 0.5', 'reset all'], 'heal resets every clock');

  const bare = new HistoryRecorder();
  const without = new NemesisRunner({ ids: ids3, cluster: upCluster, proxy, findLeader: async () => null, rng: new SeededRng(1) }, bare);
  await without.run({ seed: 0, timeMs: 100, intervalMs: 100, faults: [{ id: 1, atMs: 0, fault: 'clock', targets: ['n1'], durationMs: 10, params: { mode: 'slow', rate: 0.5 } }] });
  const start = bare.entries.find((e): e is NemesisEvent => e.process === 'nemesis' && e.f === 'start-clock');
  t.match(start?.value, { error: /libfaketime/ }, 'without clocks the fault records why in the history instead of throwing');
});
