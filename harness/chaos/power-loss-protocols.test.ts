/**
 * The power-loss nemesis end to end for Multi-Paxos and PBFT (Raft, and the unsafe switch:
 * power-loss.test.ts): the run of power-loss-checks.ts must lose no acknowledged write (exit 0).
 * Needs root and FUSE: skipped elsewhere, a failure when FAULTS_REQUIRED=1.
 */
import t from 'tap';
import { requireLazyFs } from '../lazyfs/test-support.js';
import { expectValidPowerLossRun } from './power-loss-checks.js';

t.test('power loss', async (t) => {
  if (!(await requireLazyFs(t))) return;
  for (const protocol of ['multipaxos', 'pbft']) {
    t.test(`${protocol} under power loss: linearizable, no acknowledged write lost`, async (t) => {
      await expectValidPowerLossRun(t, protocol);
    });
  }
});
