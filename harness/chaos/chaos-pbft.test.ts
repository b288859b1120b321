/**
 * The chaos command end to end for PBFT: a short run with a Byzantine replica (often the primary)
 * and a kill must be linearizable with no lost writes. The real CLI in a child process
 * (chaos-child.ts), removed in teardown with its store.
 */
import t from 'tap';
import { runChaosChild } from './chaos-child.js';

t.test('pbft with a Byzantine replica (often the primary) and a kill: linearizable, no lost writes', async (t) => {
  // The byzantine nemesis restarts a replica in a random mode (silent, equivocate, bad-digest,
  // wrong-reply, forge, stale-view); with the kill, at most f = 1 replica is faulty at a time.
  // Seed 6 plans the Byzantine primary first, then a kill. A fault planned after a kill is skipped
  // when the killed replica is still restarting (f = 1 allows no second faulty replica), which on
  // a loaded machine happened to seed 5's only Byzantine period.
  const run = await runChaosChild(t, ['--protocol', 'pbft', '--nemesis', 'byzantine,kill', '--time', '14', '--interval', '3', '--recovery', '4', '--seed', '6'], 120_000);
  if (run.code !== 0) t.comment(run.stdout);
  t.equal(run.code, 0, 'exit 0');
  t.equal(run.results['linearizability']?.valid, true, 'linearizable');
  t.equal(run.results['lostWrites']?.valid, true, 'no lost writes');
  const periods = run.results['periods'] as Array<{ fault: string }>;
  t.ok(periods.some((p) => p.fault === 'byzantine'), `a Byzantine period ran (${periods.map((p) => p.fault).join(', ')})`);
  t.ok(run.results['workload']?.ok > 200, `${run.results['workload']?.ok} ok operations`);
});
