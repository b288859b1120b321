/**
 * Raft, Multi-Paxos and PBFT under clock faults (harness/nemesis/clock-fault.ts: steps both ways,
 * rates, strobes, often on the leader or primary), on real replicas whose clocks libfaketime
 * fakes, with their default reads: linearizable, no lost writes (exit 0). Their safety does not
 * depend on time (each protocol README, "What depends on time"); a bad clock may only cost
 * availability. Raft's lease reads, which do depend on it: clock-lease.test.ts. Each run is the
 * real CLI in a child process; see chaos-child.ts for the cleanup.
 */
import t from 'tap';
import { needFaketime } from '../clock/test-support.js';
import { runChaosChild } from './chaos-child.js';

t.test('clock faults against the default reads of Raft, Multi-Paxos and PBFT', async (t) => {
  if (!needFaketime(t)) return;

  for (const [protocol, seed] of [
    ['raft', '26'],
    ['multipaxos', '7'],
    ['pbft', '21'],
  ] as const) {
    await t.test(`${protocol} under clock faults with its default reads: linearizable (exit 0)`, async (t) => {
      // Seed 26 runs the Raft leader's clock at x2.4 until it gained 1.2 s, then strobes it 185 ms
      // ahead every 63 ms, then steps n1's 1.2 s back; seed 7 steps the Multi-Paxos leader's clock
      // 1.1 s forward, then 1.2 s back, then slows it to x0.18; seed 21 steps the PBFT primary's
      // clock 0.8 s back, then slows it to x0.13, then slows n2's to x0.023.
      const run = await runChaosChild(t, ['--protocol', protocol, '--nemesis', 'clock', '--time', '10', '--interval', '1.5', '--seed', seed, '--recovery', '2'], 150_000);
      if (run.code !== 0) t.comment(run.stdout);
      t.equal(run.code, 0, 'exit 0');
      t.equal(run.results['linearizability']?.valid, true, 'linearizable');
      t.equal(run.results['lostWrites']?.valid, true, 'no lost writes');
      const periods = run.results['periods'] as Array<{ fault: string }>;
      t.ok(periods.filter((p) => p.fault === 'clock').length >= 2, `${periods.length} clock faults ran`);
      t.ok(run.results['workload']?.ok > 100, `${run.results['workload']?.ok} ok operations`);
    });
  }
});
