/**
 * The bandwidth nemesis without a kernel: what the planner draws, and what the runner does with a
 * fake BandwidthControl (netns: tc tbf) and with the fault proxy (loopback). The real tbf is
 * measured in harness/hosts/bandwidth.test.ts.
 */
import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { HistoryRecorder, type NemesisEvent } from '../chaos/history.js';
import { FaultProxy } from '../proxy/fault-proxy.js';
import { faultKind, type BandwidthControl } from './fault-kinds.js';
import { upCluster } from './test-support.js';
import { NemesisRunner } from './run-schedule.js';
import { planSchedule } from './schedule.js';

const ids3 = ['n1', 'n2', 'n3'];

t.test('bandwidth faults: 20–200 KiB/s on one replica or all, impairing nothing', async (t) => {
  let planned = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const s = planSchedule({ faults: ['bandwidth', 'kill'], ids: ids3, timeMs: 30_000, intervalMs: 2000, seed });
    for (const f of s.faults.filter((x) => x.fault === 'bandwidth')) {
      planned += 1;
      const b = Number(f.params?.['bytesPerSec']);
      if (!(b >= 20 * 1024 && b <= 200 * 1024)) t.fail(`seed ${seed}: ${b} bytes/s`);
      if (!(f.targets.length === 1 || f.targets.length === 3)) t.fail(`seed ${seed}: targets ${f.targets}`);
    }
  }
  t.ok(planned > 50, `${planned} bandwidth faults planned`);
  t.equal(faultKind('bandwidth').impairs({ targets: ['n1'] }, 3), 0);
});

t.test('with hosts of their own the kernel limits, heal clears; on loopback the proxy throttles', async (t) => {
  const calls: string[] = [];
  const bandwidth: BandwidthControl = {
    limit: async (ids, b) => void calls.push(`limit ${ids.join(',')} ${b}`),
    clearAll: async () => void calls.push('clear'),
  };
  const recorder = new HistoryRecorder();
  const kernel = new NemesisRunner({ ids: ids3, cluster: upCluster, bandwidth, findLeader: async () => 'n1', rng: new SeededRng(1) }, recorder);
  await kernel.run({ seed: 0, timeMs: 200, intervalMs: 100, faults: [{ id: 1, atMs: 0, fault: 'bandwidth', targets: ['n2'], durationMs: 30, params: { bytesPerSec: 50_000 } }] });
  await kernel.heal();
  t.same(calls.slice(0, 2), ['limit n2 50000', 'clear'], 'limited, then cleared when the fault ends');
  t.equal(calls[calls.length - 1], 'clear', 'and by heal');
  const start = recorder.entries.find((e): e is NemesisEvent => e.process === 'nemesis' && e.f === 'start-bandwidth');
  t.match(start?.value, { nodes: ['n2'], bytesPerSec: 50_000, by: 'tc tbf' });

  const proxy = await FaultProxy.start({ ids: ids3 });
  t.teardown(() => proxy.close());
  const viaProxy = new HistoryRecorder();
  const loop = new NemesisRunner({ ids: ids3, cluster: upCluster, proxy, findLeader: async () => 'n1', rng: new SeededRng(1) }, viaProxy);
  await loop.run({ seed: 0, timeMs: 100, intervalMs: 100, faults: [{ id: 1, atMs: 0, fault: 'bandwidth', targets: ['n1'], durationMs: 10, params: { bytesPerSec: 30_000 } }] });
  const s = viaProxy.entries.find((e): e is NemesisEvent => e.process === 'nemesis' && e.f === 'start-bandwidth');
  t.match(s?.value, { nodes: ['n1'], bytesPerSec: 30_000, by: 'proxy' });
});
