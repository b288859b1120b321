/**
 * Flow control at the leader (uncommitted.ts, etcd-io/raft's MaxUncommittedEntriesSize): a
 * leader that cannot commit stops taking proposals once its uncommitted tail reaches
 * maxUncommittedBytes, so a healed cluster never has an unbounded tail to replicate before it
 * can commit again (the liveness failures of seeds 1005750 and 4003463).
 */
import t from 'tap';
import { ENTRY_OVERHEAD_BYTES } from './log.js';
import { bytes, TestCluster } from './sim/test-cluster.js';
import { UncommittedBudget } from './uncommitted.js';

const PAYLOAD = 100;
const ENTRY = ENTRY_OVERHEAD_BYTES + PAYLOAD;

t.test('the budget: always one entry when nothing is uncommitted, then up to the bound', async (t) => {
  const budget = new UncommittedBudget(3 * ENTRY);
  t.equal(budget.admits(10 * ENTRY), true, 'an empty tail admits an entry larger than the bound');
  budget.appended(ENTRY);
  t.equal(budget.admits(PAYLOAD), true);
  budget.appended(ENTRY);
  budget.appended(ENTRY);
  t.equal(budget.admits(PAYLOAD), false, 'a full tail refuses');
  budget.committed(2 * ENTRY);
  t.equal(budget.admits(PAYLOAD), true, 'commits make room');
  t.equal(new UncommittedBudget(0).admits(1 << 30), true, '0: no bound');
});

t.test('a leader cut off from its followers refuses proposals beyond maxUncommittedBytes', async (t) => {
  const c = new TestCluster(3, { maxUncommittedBytes: 4 * ENTRY });
  c.campaign('n1');
  c.tickAll(2);
  t.equal(c.leader(), 'n1');
  c.isolate('n1');
  const results = Array.from({ length: 10 }, () => c.node('n1').propose(new Uint8Array(PAYLOAD)));
  const accepted = results.filter((r) => r.ok).length;
  t.equal(accepted, 4, `4 of 10 proposals fit the bound (${accepted})`);
  t.same(results[9], { ok: false, reason: 'overloaded' }, 'the rest are refused as overloaded');
  c.heal();
  c.tickAll(5);
  t.equal(c.node('n1').commitIndex, c.node('n1').lastIndex, 'once healed, the tail commits');
  t.equal(c.node('n1').propose(bytes('again')).ok, true, 'and proposals are taken again');
});

t.test('a new leader counts the uncommitted tail it inherits', async (t) => {
  const c = new TestCluster(3, { maxUncommittedBytes: 4 * ENTRY, checkQuorum: false });
  c.campaign('n1');
  c.tickAll(2);
  // n2 receives n1's proposals but cannot answer: n1 cannot commit them.
  c.drop = (m) => m.from === 'n2' && m.to === 'n1';
  c.cutLink('n1', 'n3');
  for (let k = 0; k < 3; k++) t.equal(c.node('n1').propose(new Uint8Array(PAYLOAD)).ok, true);
  c.stabilize();
  t.equal(c.node('n2').lastIndex, c.node('n1').lastIndex, 'n2 holds the uncommitted tail');
  // n1 crashes; n3 votes for n2 (whose log is longer) but its other answers are lost.
  c.crash('n1');
  c.drop = (m) => m.from === 'n3' && m.type !== 'RequestVoteResponse';
  c.tickAll(30);
  t.equal(c.leader(), 'n2');
  const n2 = c.node('n2');
  t.ok(n2.commitIndex < n2.lastIndex - 3, 'n2 has committed none of the tail');
  // It holds 3 uncommitted entries and its no-op: a fourth entry would pass the bound.
  t.equal(n2.propose(new Uint8Array(PAYLOAD)).ok, false, 'the inherited tail and the no-op fill the bound');
});
