/**
 * The power-loss nemesis end to end, for Raft (Multi-Paxos and PBFT: power-loss-protocols.test.ts):
 * the real chaos CLI, real replicas, each on its own power-loss filesystem (harness/lazyfs), the
 * run of power-loss-checks.ts. With --unsafe-no-fsync the replicas lose everything since their
 * start, so the run must be caught (exit 1); without it no acknowledged write may be lost (exit 0).
 * Without FUSE the command must stop with what to install. Needs root and FUSE: skipped elsewhere,
 * a failure when FAULTS_REQUIRED=1.
 */
import t from 'tap';
import { requireLazyFs } from '../lazyfs/test-support.js';
import { runChaosChild } from './chaos-child.js';
import { expectValidPowerLossRun, powerLossArgs } from './power-loss-checks.js';

t.test('without FUSE the power-loss nemesis stops with what to install, never a silent skip', async (t) => {
  const r = await runChaosChild(t, powerLossArgs('raft'), 60_000, { ...process.env, PATH: '/nonexistent' });
  t.equal(r.code, 3, 'exit 3: the harness could not run');
  t.match(r.stdout, /fusermount3 is missing \(Debian package fuse3\)/);
  t.match(r.stdout, /apt-get install fuse3 libfuse3-dev pkg-config gcc/);
  t.notMatch(r.stdout, /verdict:/, 'no verdict without the faults asked for');
});

t.test('power loss', async (t) => {
  if (!(await requireLazyFs(t))) return;

  t.test('--unsafe-no-fsync under power loss is caught', async (t) => {
    const r = await runChaosChild(t, powerLossArgs('raft', ['--unsafe-no-fsync']), 120_000);
    if (r.code !== 1) t.comment(r.stdout);
    t.equal(r.code, 1, 'exit 1');
    t.ok(r.results['powerLoss']?.wholeCluster >= 1, 'a whole-cluster power failure ran');
    t.ok(r.results['linearizability']?.valid === false || r.results['lostWrites']?.valid === false, 'not linearizable, or acknowledged writes lost');
    t.match(r.stdout, /verdict: INVALID/);
    t.match(r.stdout, /power loss: \d+ power failures? \(\d+ of the whole cluster/, 'the summary shows the power failures');
  });

  t.test('raft under power loss: linearizable, no acknowledged write lost', async (t) => {
    await expectValidPowerLossRun(t, 'raft');
  });
});
