/**
 * Durability (TOCS §4.6 requirement, contract: ready.persist): a replica restored from what it
 * persisted never contradicts what it sent before, and rebuilds its state.
 */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { authenticatedBytes } from './canonical.js';
import { PbftReplica } from './pbft-replica.js';
import { TestCluster } from './sim/test-cluster.js';
import type { PrePrepare, Prepare } from './types.js';

t.test('restore: state, stable checkpoint and executed batches after it come back', async (t) => {
  const c = new TestCluster(4, { checkpointInterval: 4, watermarkWindow: 8, maxBatchRequests: 1 });
  for (let k = 1; k <= 6; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, `v${k}`, 0));
  c.run();
  c.restart(2);
  const s = c.cores[2]?.status();
  t.equal(s?.lastStableCheckpoint, 4);
  t.equal(s?.lastExecuted, 6, 'batches 5 and 6 replayed on top of checkpoint 4');
  t.equal(c.cores[2]?.get('k6'), 'v6');
  c.replicas[0]?.submit(c.request('c', 7, 'k7', 'v7', 0));
  c.run();
  t.equal(c.cores[2]?.get('k7'), 'v7', 'and it keeps going');
});

t.test('restore: a backup never sends a Prepare for a different digest at (v, n) after a crash', async (t) => {
  const c = new TestCluster(4);
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'first', 0));
  c.pump(0);
  const pp = c.queue.find((e) => e.to === 1 && e.message.type === 'PrePrepare')?.message as PrePrepare;
  c.queue = [];
  c.replicas[1]?.step(0, pp);
  c.pump(1);
  c.restart(1);
  // The (faulty) primary now offers another batch for the same (v, n).
  const other = c.request('c', 2, 'k', 'second', 0);
  const { encodeBatch } = await import('./canonical.js');
  const crypto0 = c.crypto(0);
  const conflicting = { ...pp, batch: [other], digest: crypto0.digest(encodeBatch([other])) };
  c.queue = [];
  c.replicas[1]?.step(0, { ...conflicting, auth: crypto0.mac(1, authenticatedBytes(conflicting)) });
  c.pump(1);
  const prepares = c.sent.filter((e) => e.from === 1 && e.message.type === 'Prepare').map((e) => (e.message as Prepare).digest);
  t.equal(new Set(prepares).size, 1, 'only the first digest was ever prepared');
});

t.test('restore: a replica in a view change resends the same ViewChange', async (t) => {
  const c = new TestCluster(4, { requestTimeoutTicks: 5 });
  c.down.add(0);
  c.replicas[1]?.submit(c.request('c', 1, 'k', 'v', 1));
  c.down.add(2);
  c.down.add(3);
  c.tick(10);
  t.equal(c.cores[1]?.status().viewChanging, true);
  const before = c.sent.filter((e) => e.from === 1 && e.message.type === 'ViewChange').at(-1)?.message;
  c.restart(1);
  t.equal(c.cores[1]?.status().view, 1);
  t.equal(c.cores[1]?.status().viewChanging, true);
  c.tick(5);
  const after = c.sent.filter((e) => e.from === 1 && e.message.type === 'ViewChange').at(-1)?.message;
  t.same(after, before, 'the same signed ViewChange');
});

t.test('restore from nothing is a fresh replica', async (t) => {
  const c = new TestCluster(4);
  const r = PbftReplica.restore(c.config(0), c.crypto(0), new SeededRng(1), []);
  t.equal(r.status().lastExecuted, 0);
  t.equal(r.status().view, 0);
});
