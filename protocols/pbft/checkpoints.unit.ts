/**
 * Checkpoints, watermarks and garbage collection (OSDI §4.3).
 */
import t from 'tap';
import { authenticatedBytes } from './canonical.js';
import { CheckpointCollector } from './checkpoint-collector.js';
import { TestCluster } from './sim/test-cluster.js';
import type { Checkpoint, Prepare } from './types.js';

const cp = (replica: number, sequence: number, digest: string): Checkpoint => ({ type: 'Checkpoint', sequence, digest, replica, auth: new Uint8Array(0) });

t.test('checkpoint stability: 2f+1 matching Checkpoints from distinct replicas are the proof', async (t) => {
  const c = new CheckpointCollector(3);
  t.equal(c.add(cp(0, 4, 'a')), null);
  t.equal(c.add(cp(1, 4, 'b')), null, 'a different digest does not match');
  t.equal(c.add(cp(0, 4, 'a')), null, 'the same replica twice counts once');
  t.equal(c.add(cp(2, 4, 'a')), null);
  const proof = c.add(cp(3, 4, 'a'));
  t.same(proof?.map((x) => x.replica).sort(), [0, 2, 3], 'stable with 0, 2, 3');
});

t.test("being behind is believed from f+1 replicas' checkpoints, not from one (TOCS §6.2)", async (t) => {
  const c = new CheckpointCollector(3);
  c.add(cp(3, 1_000_000, 'lie'));
  t.equal(c.vouchedSequence(2), 0, 'one replica alone (it may be the faulty one) vouches for nothing');
  c.add(cp(1, 8, 'a'));
  t.equal(c.vouchedSequence(2), 8, 'two replicas have checkpointed 8 or beyond');
  c.add(cp(2, 16, 'b'));
  c.add(cp(1, 16, 'b'));
  t.equal(c.vouchedSequence(2), 16, "each replica's highest checkpoint counts");
  t.equal(c.vouchedSequence(3), 16);
  t.equal(c.vouchedSequence(4), 0, 'replica 0 sent none');
});

t.test('checkpoints: every K executed, stable everywhere, log garbage-collected, h and H move', async (t) => {
  const c = new TestCluster(4, { checkpointInterval: 4, watermarkWindow: 8, maxBatchRequests: 1 });
  for (let k = 1; k <= 9; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, 'v', 0));
  c.run();
  for (let i = 0; i < 4; i++) {
    const s = c.cores[i]?.status();
    t.equal(s?.lastExecuted, 9);
    t.equal(s?.lastStableCheckpoint, 8, `replica ${i}: checkpoint 8 is stable`);
    t.equal(s?.lowWatermark, 8);
    t.equal(s?.highWatermark, 16, 'H = h + L');
    t.equal(c.cores[i]?.executedAt(8), null, 'the log at and below h is gone');
    t.not(c.cores[i]?.executedAt(9), null, 'the log above h stays');
    const disk = c.disks[i] as Map<string, unknown>;
    t.notOk([...disk.keys()].some((k) => k === 's/8' || k === 's/3'), 'and so are its records');
    t.ok(disk.has('cp'), 'the stable checkpoint is on disk');
  }
  const digests = new Set(c.cores.map((r) => r.checkpointDigest(8)));
  t.equal(digests.size, 1, 'every replica has the same state digest at 8');
});

t.test('watermarks: the primary assigns n only up to H; backups drop messages outside (h, H]', async (t) => {
  const c = new TestCluster(4, { checkpointInterval: 2, watermarkWindow: 4, maxBatchRequests: 1 });
  // Backups 1..3 never answer: nothing commits, so h stays 0 and H = 4.
  c.filter = (e) => e.from === 0 && e.message.type === 'PrePrepare' && e.to === 1;
  for (let k = 1; k <= 10; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, 'v', 0));
  c.run();
  t.equal(c.cores[0]?.status().lastAssigned, 4, 'no sequence number beyond H = 4');
  const crypto = c.crypto(2);
  const backup = c.cores[1];
  const before = backup?.status().rejectedInvalid ?? 0;
  for (const sequence of [0, 5]) {
    const p: Prepare = { type: 'Prepare', view: 0, sequence, digest: 'd', replica: 2, auth: new Uint8Array(0) };
    backup?.step(2, { ...p, auth: crypto.mac(1, authenticatedBytes(p)) });
  }
  t.equal(backup?.status().rejectedInvalid, before + 2, 'n = 0 (<= h) and n = 5 (> H) are dropped');
});

t.test('state transfer: a replica that missed everything fetches the stable checkpoint state and what follows', async (t) => {
  const c = new TestCluster(4, { checkpointInterval: 2, watermarkWindow: 4, maxBatchRequests: 1, maxTransferBytes: 16 });
  c.down.add(3);
  for (let k = 1; k <= 9; k++) {
    c.replicas[0]?.submit(c.request('c', k, `k${k}`, `v${k}`, 0));
    c.run();
  }
  t.equal(c.cores[0]?.status().lastStableCheckpoint, 8);
  c.down.delete(3);
  c.tick(40);
  const s = c.cores[3]?.status();
  t.equal(s?.lastExecuted, 9, 'caught up to the last executed batch');
  t.ok((s?.stateTransfers ?? 0) >= 1, 'through a checkpoint state (chunked, 16 bytes per chunk)');
  t.equal(c.cores[3]?.get('k5'), 'v5');
  t.equal(c.cores[3]?.checkpointDigest(8), c.cores[0]?.checkpointDigest(8));
});

t.test('catch-up: a replica behind by less than K, with its own checkpoint not yet stable, fetches promptly (TOCS §6.2)', async (t) => {
  // L = K: a replica whose checkpoint 4 is not stable has the window (0, 4] and cannot execute
  // 5..7 even when it fetches them; nobody resends Checkpoint 4 once it is stable elsewhere.
  const c = new TestCluster(4, { checkpointInterval: 4, watermarkWindow: 4, maxBatchRequests: 1, requestTimeoutTicks: 20 });
  c.filter = (e) => !(e.to === 3 && e.message.type === 'Checkpoint');
  for (let k = 1; k <= 4; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, `v${k}`, 0));
  c.run();
  t.equal(c.cores[3]?.status().lastExecuted, 4);
  t.equal(c.cores[3]?.status().lastStableCheckpoint, 0, 'replica 3 never saw the others\u2019 Checkpoints for 4');
  t.equal(c.cores[0]?.status().lastStableCheckpoint, 4);
  c.filter = (e) => e.to !== 3 && e.from !== 3; // replica 3 is partitioned away
  for (let k = 5; k <= 7; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, `v${k}`, 0));
  c.run();
  t.equal(c.cores[0]?.status().lastExecuted, 7);
  c.filter = () => true; // heal; the cluster is idle from now on: no next checkpoint will come
  c.tick(3 * 5); // three retransmission intervals (retransmitTicks = 20 / 4)
  const s = c.cores[3]?.status();
  t.equal(s?.lastStableCheckpoint, 4, 'the Fetch reply carried the proof of checkpoint 4: its own state there is stable now');
  t.equal(s?.lastExecuted, 7, 'and it executed the committed batches 5..7 fetched from f+1 replicas');
  t.equal(s?.stateTransfers, 0, 'without a state transfer');
  t.equal(c.cores[3]?.get('k7'), 'v7');
});

t.test('catch-up: a replica in an older view that sees commits beyond its last executed fetches them', async (t) => {
  const c = new TestCluster(4, { checkpointInterval: 8, watermarkWindow: 16, maxBatchRequests: 1, requestTimeoutTicks: 20 });
  c.filter = (e) => e.to !== 3 && e.from !== 3; // replica 3 misses a view change and what follows
  c.down.add(0);
  c.replicas[1]?.submit(c.request('c', 1, 'k1', 'v1', 1));
  c.tick(40);
  t.equal(c.cores[1]?.status().view, 1, 'replicas 1 and 2 moved to view 1 without replica 3 ...');
  c.down.delete(0);
  c.tick(20);
  for (let k = 2; k <= 4; k++) c.replicas[1]?.submit(c.request('c', k, `k${k}`, `v${k}`, 1));
  c.run();
  t.equal(c.cores[1]?.status().lastExecuted, 4, '... and, with replica 0 back, executed 1..4 in view 1');
  t.equal(c.cores[3]?.status().view, 0, 'replica 3 is still in view 0');
  c.filter = () => true;
  c.replicas[1]?.submit(c.request('c', 5, 'k5', 'v5', 1)); // replica 3 sees view-1 traffic for n = 5
  c.run();
  c.tick(3 * 5);
  t.equal(c.cores[3]?.status().lastExecuted, 5, 'it fetched 1..4 from f+1 replicas and then executed 5');
  t.equal(c.cores[3]?.get('k4'), 'v4');
});
