import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { PbftReplica } from '../../protocols/pbft/pbft-replica.js';
import { SimKeyRing } from '../../protocols/pbft/sim/sim-crypto.js';
import { testConfig } from '../../protocols/pbft/sim/test-cluster.js';
import type { SlotPhase } from '../../protocols/pbft/types.js';
import { DEBUG_LOG_TAIL } from '../debug/debug-state.js';
import { pbftDebugState } from './pbft-debug-state.js';

t.test('the dashboard log is the core slotPhases tail, oldest first, digests shortened', async (t) => {
  const core = new PbftReplica(testConfig(4, 1), new SimKeyRing(1, 4).cryptoFor(1), new SeededRng(1));
  const slots: SlotPhase[] = Array.from({ length: 25 }, (_, k) => ({ sequence: k + 1, view: 0, phase: k < 23 ? 'committed' : 'pre-prepared', executed: k < 22, digest: `${k}`.padStart(64, 'f') }));
  const state = pbftDebugState('n2', core.status(), ['n1', 'n2', 'n3', 'n4'], slots);
  t.equal(state.log.length, DEBUG_LOG_TAIL);
  t.same(state.log[0], { seq: 6, view: 0, phase: 'committed', executed: true, digest: 'ffffffff' });
  t.same(state.log.at(-1), { seq: 25, view: 0, phase: 'pre-prepared', executed: false, digest: 'ffffffff' });
  t.equal(state.primary, 'n1');
  t.same(pbftDebugState('n2', core.status(), ['n1', 'n2', 'n3', 'n4'], core.slotPhases()).log, [], 'a fresh replica has an empty log');
});
