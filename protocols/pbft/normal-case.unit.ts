/**
 * Unit tests of the normal case (OSDI §4.2), named after the paper's predicates and rules.
 */
import t from 'tap';
import { Slot } from './slot.js';
import { TestCluster } from './sim/test-cluster.js';
import { ReplyQuorum } from './reply-quorum.js';
import type { PrePrepare, Reply } from './types.js';

t.test('prepared(m, v, n, i): the pre-prepare and 2f matching Prepares from distinct backups', async (t) => {
  const f = 1;
  const primary = 0;
  const s = new Slot(1);
  s.acceptPrePrepare(0, 'd', []);
  s.prepares.set(1, 'd');
  t.notOk(s.prepared(f, primary), 'one Prepare is not 2f');
  s.prepares.set(0, 'd');
  t.notOk(s.prepared(f, primary), "the primary's Prepare does not count");
  s.prepares.set(2, 'other');
  t.notOk(s.prepared(f, primary), 'a Prepare for another digest does not match');
  s.prepares.set(3, 'd');
  t.ok(s.prepared(f, primary), '2f matching Prepares from backups 1 and 3');
  const noPrePrepare = new Slot(2);
  noPrePrepare.enterView(0);
  for (const r of [1, 2, 3]) noPrePrepare.prepares.set(r, 'd');
  t.notOk(noPrePrepare.prepared(f, primary), 'no pre-prepare, not prepared');
});

t.test('committed-local(m, v, n, i): prepared and 2f+1 matching Commits', async (t) => {
  const s = new Slot(1);
  s.acceptPrePrepare(0, 'd', []);
  s.prepares.set(1, 'd');
  s.prepares.set(2, 'd');
  s.commits.set(0, 'd');
  s.commits.set(1, 'd');
  s.commits.set(2, 'x');
  t.notOk(s.committedLocal(1, 0), 'two matching Commits are not 2f+1');
  s.commits.set(3, 'd');
  t.ok(s.committedLocal(1, 0), 'three matching Commits');
  const unprepared = new Slot(2);
  unprepared.acceptPrePrepare(0, 'd', []);
  for (const r of [0, 1, 2, 3]) unprepared.commits.set(r, 'd');
  t.notOk(unprepared.committedLocal(1, 0), 'Commits alone are not enough: prepared is required');
});

t.test("a slot casts this replica's own votes, and resends exactly those (OSDI §4.2)", async (t) => {
  const primary = new Slot(3);
  const prePrepare = primary.castPrePrepare(2, 'd', [], 2);
  t.same([prePrepare.type, prePrepare.view, prePrepare.sequence, prePrepare.digest, prePrepare.replica], ['PrePrepare', 2, 3, 'd', 2]);
  t.same(primary.q.get('d'), 2, 'the pre-prepare is in Q');
  const backup = new Slot(3);
  backup.acceptPrePrepare(2, 'd', []);
  const prepare = backup.castPrepare(1);
  t.ok(backup.sentPrepare);
  t.equal(backup.prepares.get(1), 'd', 'our Prepare counts among the prepares');
  t.same([prepare.type, prepare.view, prepare.sequence, prepare.digest, prepare.replica], ['Prepare', 2, 3, 'd', 1]);
  t.equal(backup.pView, -1, 'not prepared yet: no P entry');
  const commit = backup.castCommit(1);
  t.ok(backup.sentCommit);
  t.same([backup.pView, backup.pDigest], [2, 'd'], 'the Commit comes with the P entry (TOCS §4.5)');
  t.notOk(backup.commits.has(1), 'our own Commit counts only once durable (ownCommitDurable)');
  t.same(backup.ownPrepare(1), prepare, 'a resent Prepare is the one cast');
  t.same(backup.ownCommit(1), commit, 'a resent Commit is the one cast');
});

t.test("the Ready reports every batch executed and every checkpoint taken, the same at every replica", async (t) => {
  const c = new TestCluster(4, { checkpointInterval: 4, watermarkWindow: 8, maxBatchRequests: 1 });
  for (let k = 1; k <= 9; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, 'v', 0));
  c.run();
  const executed = c.executedBatches[0] ?? [];
  t.same(executed.map((e) => e.sequence), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'n = 1..9, in order');
  t.equal(executed[8]?.digest, c.cores[0]?.executedAt(9), 'with the digest executed');
  const checkpoints = c.checkpoints[0] ?? [];
  t.same(checkpoints.map((x) => x.sequence), [4, 8], 'a checkpoint every K = 4');
  t.equal(checkpoints[1]?.digest, c.cores[0]?.checkpointDigest(8), 'with the state digest');
  for (let i = 1; i < 4; i++) {
    t.same(c.executedBatches[i], executed, `replica ${i} executed the same batches`);
    t.same(c.checkpoints[i], checkpoints, `replica ${i} has the same checkpoints`);
  }
});

t.test('normal case: request -> pre-prepare -> prepare -> commit -> reply, executed in order everywhere', async (t) => {
  const c = new TestCluster(4);
  for (let k = 1; k <= 10; k++) c.replicas[1]?.submit(c.request('c1', k, `k${k}`, `v${k}`, 1));
  c.run();
  for (let i = 0; i < 4; i++) {
    t.equal(c.cores[i]?.status().lastExecuted, c.cores[0]?.status().lastExecuted, `replica ${i} executed as far`);
    t.same(c.executed[i]?.map((e) => e.request.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `replica ${i} executed in order`);
    t.equal(c.cores[i]?.get('k10'), 'v10');
  }
  const replies = c.replies[1] ?? [];
  t.equal(new Set(replies.filter((r) => r.seq === 10).map((r) => r.from)).size, 3, 'the origin got a Reply from each other replica');
});

t.test('batching: the primary puts many requests in one PrePrepare and keeps several n in flight', async (t) => {
  const c = new TestCluster(4, { maxBatchRequests: 4 });
  for (let k = 1; k <= 16; k++) c.replicas[0]?.submit(c.request('c1', k, 'k', `v${k}`, 0));
  c.pump(0);
  const prePrepares = c.queue.filter((e) => e.message.type === 'PrePrepare' && e.to === 1).map((e) => e.message as PrePrepare);
  t.same(prePrepares.map((m) => m.batch.length), [4, 4, 4, 4], 'four batches of four');
  t.same(prePrepares.map((m) => m.sequence), [1, 2, 3, 4], 'four sequence numbers in flight at once');
  c.run();
  t.equal(c.cores[3]?.status().lastExecuted, 4);
  t.equal(c.executed[3]?.length, 16);
});

t.test('exactly-once: a retransmitted request is not executed twice and gets the first result', async (t) => {
  const c = new TestCluster(4);
  c.replicas[1]?.submit({ clientId: 'c', seq: 1, operation: { op: 'cas', key: 'k', expected: null, value: 'a' }, origin: 1 });
  c.run();
  c.replicas[1]?.submit({ clientId: 'c', seq: 1, operation: { op: 'cas', key: 'k', expected: null, value: 'a' }, origin: 1 });
  c.run();
  const results = (c.executed[1] ?? []).map((e) => e.result);
  t.same(results, [{ kind: 'cas', ok: true }, { kind: 'cas', ok: true }], 'the retry answers from the session, not a failed cas');
  t.equal(c.cores[0]?.status().lastExecuted, 1, 'the retry was not ordered again');
});

t.test('a backup accepts a PrePrepare only for its view, from the primary, with a matching digest, once per (v, n)', async (t) => {
  const c = new TestCluster(4);
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'v', 0));
  c.pump(0);
  const original = c.queue.find((e) => e.to === 1 && e.message.type === 'PrePrepare')?.message as PrePrepare;
  c.queue = [];
  const backup = c.cores[1];
  const before = backup?.status().rejectedInvalid ?? 0;
  // A second batch for the same (v, n), properly authenticated by the primary: must be refused.
  const primaryCrypto = c.crypto(0);
  const other = c.request('c', 2, 'k', 'other', 0);
  const { authenticatedBytes, encodeBatch } = await import('./canonical.js');
  const conflicting: PrePrepare = { ...original, batch: [other], digest: primaryCrypto.digest(encodeBatch([other])) };
  const sealed = { ...conflicting, auth: primaryCrypto.mac(1, authenticatedBytes(conflicting)) };
  backup?.step(0, original);
  backup?.step(0, sealed);
  t.equal(backup?.status().rejectedInvalid, before + 1, 'the second digest for (v, n) is refused');
  const wrongView = { ...original, view: 1 };
  backup?.step(0, { ...wrongView, auth: primaryCrypto.mac(1, authenticatedBytes(wrongView)) });
  const badDigest = { ...original, digest: 'ffff' };
  backup?.step(0, { ...badDigest, auth: primaryCrypto.mac(1, authenticatedBytes(badDigest)) });
  t.equal(backup?.status().rejectedInvalid, before + 3, 'a wrong view and a digest not matching the batch are refused');
});

t.test('slotPhases: each n shows the phase it reached here (pre-prepared, prepared, committed) and execution', async (t) => {
  const c = new TestCluster(4, { maxBatchRequests: 1 });
  c.replicas[0]?.submit(c.request('c', 1, 'a', '1', 0));
  c.run();
  // n = 2: replica 1 gets the PrePrepare and only replica 3's Prepare: pre-prepared at 3, prepared at 1.
  c.filter = (e) => (e.message.type === 'PrePrepare' && (e.to === 1 || e.to === 3)) || (e.message.type === 'Prepare' && e.from === 3 && e.to === 1);
  c.replicas[0]?.submit(c.request('c', 2, 'b', '2', 0));
  c.run();
  const at1 = c.cores[1]?.slotPhases() ?? [];
  t.same(at1.map((s) => [s.sequence, s.view, s.phase, s.executed]), [[1, 0, 'committed', true], [2, 0, 'prepared', false]]);
  t.equal(at1[0]?.digest, c.cores[1]?.executedAt(1), 'the executed digest');
  t.same(c.cores[3]?.slotPhases().map((s) => s.phase), ['committed', 'pre-prepared']);
  t.same(c.cores[2]?.slotPhases().map((s) => s.sequence), [1], 'no pre-prepare for 2 at replica 2: not listed');
  t.same(c.cores[1]?.slotPhases(1).map((s) => s.sequence), [2], 'the newest `limit` only');
});

t.test('REPLY (OSDI §4.1), batched: one per (origin, executed batch) with every result; f+1 per request still rules out a wrong-reply replica', async (t) => {
  const c = new TestCluster(4, { maxBatchRequests: 4 }, new Map([[3, 'wrong-reply' as const]]));
  for (let k = 1; k <= 3; k++) c.replicas[0]?.submit(c.request('c', k, `k${k}`, `v${k}`, 1)); // gateway: replica 1
  c.run();
  const replies = c.sent.filter((e) => e.message.type === 'Reply' && e.to === 1).map((e) => e.message as Reply);
  t.same(replies.map((m) => m.replica).sort(), [0, 2, 3], 'one Reply from each other replica for the one batch');
  for (const m of replies) t.same(m.replies.map((e) => e.seq), [1, 2, 3], `replica ${m.replica}: the three results in one message`);
  t.ok(replies.find((m) => m.replica === 3)?.replies.every((e) => e.result.kind !== 'put'), 'the wrong-reply replica lies about every entry');
  for (let seq = 1; seq <= 3; seq++) {
    const quorum = new ReplyQuorum(1, 2);
    const own = c.executed[1]?.find((e) => e.request.seq === seq);
    let accepted = own === undefined ? null : quorum.add(1, ReplyQuorum.resultKey(own.result));
    for (const r of c.replies[1] ?? []) if (r.seq === seq && accepted === null) accepted = quorum.add(r.from, ReplyQuorum.resultKey(r.result));
    t.equal(accepted, 'put', `request ${seq}: f+1 matching replies give the correct result`);
  }
});
