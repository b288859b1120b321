/**
 * Rules that keep PBFT safe and live when replicas crash and restart (found by hunting fresh
 * simulation seeds; each test names the seed that found it):
 *
 * - a replica's own Commit counts toward committed-local only once it is durable (3001169);
 * - a replica that already sent its Prepare for n answers a peer that resends its own, even when
 *   it is not prepared in this view (3001389);
 * - the batches a verified NewView needs are held whatever the fetch bound, and each view change
 *   starts with none held (3003344);
 * - a replica resends its votes for n in the new view even when it executed n in an earlier one
 *   (62954458).
 */
import t from 'tap';
import { batchWireBytesMax } from './canonical.js';
import { TestCluster } from './sim/test-cluster.js';
import type { Batches, Prepare } from './types.js';

t.test("committed-local counts the replica's own Commit only once it is durable (seed 3001169)", async (t) => {
  const c = new TestCluster(4);
  c.filter = (e) => e.to !== 3; // replica 3 is fed by hand below
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'v', 0));
  c.run();
  t.not(c.cores[0]?.executedAt(1), null, 'replicas 0, 1 and 2 committed n = 1');
  const r3 = c.cores[3];
  if (r3 === undefined) throw new Error('no replica 3');
  const toThree = c.sent.filter((e) => e.to === 3);
  for (const e of toThree) if (e.message.type === 'PrePrepare' || e.message.type === 'Prepare') r3.step(e.from, e.message);
  const rd = r3.ready();
  t.ok(rd.messages.some((m) => m.message.type === 'Commit'), 'replica 3 prepared: its Commit is in the Ready being persisted');
  for (const e of toThree) if (e.message.type === 'Commit' && e.from !== 2) r3.step(e.from, e.message);
  t.equal(r3.executedAt(1), null, 'two Commits of others and its own, not yet durable: not committed-local');
  t.equal(r3.status().lastExecuted, 0);
  r3.advance(rd);
  t.not(r3.executedAt(1), null, 'its Commit is durable: now it executes');
});

t.test('a replica answers a resent Prepare with its own even when not prepared in this view (seed 3001389)', async (t) => {
  const c = new TestCluster(7); // f = 2: prepared needs 4 Prepares of backups
  c.filter = (e) => e.message.type !== 'Prepare' && e.message.type !== 'Commit';
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'v', 0));
  c.run();
  const prepareOf2 = c.sent.find((e) => e.from === 2 && e.to === 1 && e.message.type === 'Prepare')?.message as Prepare;
  t.ok(prepareOf2 !== undefined, 'replica 2 sent its Prepare (lost)');
  const r1 = c.cores[1];
  if (r1 === undefined) throw new Error('no replica 1');
  r1.step(2, prepareOf2);
  c.pump(1);
  const before = c.sent.length;
  r1.step(2, prepareOf2); // replica 2 resends: it lacks ours
  c.pump(1);
  const answers = c.sent.slice(before).filter((e) => e.from === 1 && e.to === 2 && e.message.type === 'Prepare');
  t.equal(c.cores[1]?.slotPhases()[0]?.phase, 'pre-prepared', 'replica 1 is not prepared (its own Prepare and one other)');
  t.equal(answers.length, 1, 'yet it sends its Prepare back to replica 2');
});

t.test('a NewView whose fetched batches pass the fetch bound still installs (seed 3003344)', async (t) => {
  // One 150-character put per batch is ~650 wire bytes; the bound on held batches is
  // 4 x maxCarriedBatchBytes = 2,800 bytes, four batches; the NewView needs seven fetched.
  const budget = 700;
  const c = new TestCluster(4, { checkpointInterval: 8, watermarkWindow: 8, maxBatchRequests: 1, requestTimeoutTicks: 10, maxCarriedBatchBytes: budget });
  // The whole window prepares everywhere but at replica 3 (no PrePrepares reach it); nothing commits.
  c.filter = (e) => e.message.type !== 'Commit' && !(e.to === 3 && e.message.type === 'PrePrepare');
  for (let k = 1; k <= 8; k++) c.replicas[1]?.submit(c.request('c', k, `k${k}`, `${k}`.repeat(150), 1));
  c.run();
  t.equal(c.cores[1]?.status().lastExecuted, 0);
  c.filter = (e) => e.from !== 0 && e.to !== 0 && !(e.message.type === 'Commit' && e.message.view === 0);
  c.down.add(0);
  c.tick(80);
  const fetched = c.sent.filter((e) => e.to === 3 && e.message.type === 'Batches').flatMap((e) => (e.message as Batches).entries);
  const bytes = new Map(fetched.map((b) => [b.digest, batchWireBytesMax(b.batch)]));
  t.ok([...bytes.values()].reduce((a, b) => a + b, 0) > 4 * budget, `replica 3 fetched more than the bound (${bytes.size} batches)`);
  for (const i of [1, 2, 3]) {
    t.equal(c.cores[i]?.status().view, 1, `replica ${i} is in view 1`);
    t.equal(c.cores[i]?.status().lastExecuted, 8, `replica ${i} executed the whole window`);
  }
});

t.test('a replica that moved on to a view change still resends its votes of the view it left (seed 1531473542)', async (t) => {
  // Primary 0; replica 1 is Byzantine and silent; the request's origin is replica 2. Replica 2's
  // Commit to 0 is lost and 2 gets no Commit at all: 3 executes, 0 has two Commits, 2 times out and
  // starts a view change. Only 3 is ahead, so 0 and 2 cannot fetch n = 1 (f + 1 = 2 must vouch):
  // they are stuck unless 2, changing views, answers 0's resent Commit with its own of view 0.
  const c = new TestCluster(4, {}, new Map([[1, 'silent' as const]]));
  c.filter = (e) => !(e.message.type === 'Commit' && (e.to === 2 || (e.to === 0 && e.from === 2)));
  c.replicas[2]?.submit(c.request('c', 1, 'k', 'v', 2));
  c.run();
  t.not(c.cores[3]?.executedAt(1), null, 'replica 3 executed n = 1');
  t.equal(c.cores[0]?.executedAt(1), null, 'replica 0 did not: it has two Commits');
  for (let k = 0; k < 60 && c.cores[2]?.status().viewChanging !== true; k++) {
    c.replicas[2]?.tick();
    c.run();
  }
  t.equal(c.cores[2]?.status().viewChanging, true, 'replica 2 timed out and changes views');
  c.filter = (e) => e.to !== 2 || e.message.type === 'Commit' || e.message.type === 'Prepare';
  for (let k = 0; k < 10 && c.cores[0]?.executedAt(1) === null; k++) {
    c.replicas[0]?.tick(); // 0 resends its Commit; 2 answers with its own of view 0
    c.run();
  }
  t.not(c.cores[0]?.executedAt(1), null, 'replica 0 executed n = 1 with the Commit of replica 2');
  t.equal(c.cores[2]?.status().viewChanging, true, 'while replica 2 is still changing views');
});

t.test('the primary answers a Fetch with its PrePrepares of this view from there on (seed 1809245894)', async (t) => {
  const c = new TestCluster(4);
  c.filter = (e) => !(e.to === 3 && e.message.type === 'PrePrepare'); // replica 3 lost n = 1's PrePrepare
  c.replicas[0]?.submit(c.request('c', 1, 'k', 'v', 0));
  c.run();
  t.not(c.cores[0]?.executedAt(1), null, 'replicas 0, 1 and 2 executed n = 1');
  t.equal(c.cores[3]?.executedAt(1), null, 'replica 3 has no PrePrepare for it');
  c.filter = () => true;
  const before = c.sent.length;
  c.tick(200); // retransmission intervals go by: replica 3 is behind and asks with a Fetch
  const fetches = c.sent.slice(before).filter((e) => e.from === 3 && e.to === 0 && e.message.type === 'Fetch');
  t.ok(fetches.length > 0, 'replica 3 sent a Fetch to the primary');
  const answered = c.sent.slice(before).filter((e) => e.from === 0 && e.to === 3 && e.message.type === 'PrePrepare');
  t.ok(answered.length > 0, 'the primary resent its PrePrepare of n = 1 to replica 3');
  c.run();
  t.not(c.cores[3]?.executedAt(1), null, 'and replica 3 executes n = 1');
});

t.test('a replica that executed n in an earlier view resends its votes for n in the new view (seed 62954458)', async (t) => {
  // Seven replicas, f = 2: prepared needs 4 Prepares of backups, committed-local 5 Commits. Only
  // replicas 5 and 6 execute n = 1 in view 0 (f of them: too few to vouch for it in a Fetch
  // answer). Primary 0 and replica 4 go down; the rest move to view 1, where n = 1 is chosen
  // again, and replica 6's first Prepare of view 1 to replica 5 is lost. Every live backup's
  // Prepare is needed, so 5 can commit only when 6 sends it again; before the fix neither 5 nor
  // 6 resent votes for an n they had executed, and the cluster waited forever.
  const c = new TestCluster(7);
  const commitOfView0 = (e: { to: number; message: { type: string; view?: number } }) => e.message.type === 'Commit' && e.message.view === 0 && e.to !== 5 && e.to !== 6;
  c.filter = (e) => !commitOfView0(e);
  c.replicas[1]?.submit(c.request('c', 1, 'k', 'v', 1));
  c.run();
  t.same([0, 1, 2, 3, 4, 5, 6].map((i) => c.cores[i]?.status().lastExecuted), [0, 0, 0, 0, 0, 1, 1], 'only replicas 5 and 6 executed n = 1');
  c.down.add(0);
  c.down.add(4);
  let lost = 0;
  c.filter = (e) => {
    const m = e.message;
    if (commitOfView0(e)) return false;
    if (e.from !== 6 || e.to !== 5 || m.type !== 'Prepare' || m.view !== 1 || lost > 0) return true;
    lost++;
    return false;
  };
  const live = [1, 2, 3, 5, 6];
  for (const i of live) c.replicas[i]?.submit(c.request(`c${i}`, 1, `k${i}`, 'v', i));
  for (let k = 0; k < 400 && live.some((i) => (c.cores[i]?.status().lastExecuted ?? 0) < 2); k++) c.tick();
  t.equal(lost, 1, "replica 6's first Prepare of view 1 to replica 5 was lost");
  for (const i of live) {
    t.equal(c.cores[i]?.status().view, 1, `replica ${i} is still in view 1: n = 1 completed there, with no further view change`);
    t.ok((c.cores[i]?.status().lastExecuted ?? 0) >= 2, `replica ${i} has executed n = 1 and the requests after it`);
  }
});
