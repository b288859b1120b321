/** Leadership transfer (dissertation §3.10) and its TimeoutNow election. */
import t from 'tap';
import { allMessages, bytes, ofType, requestVote, TestCluster } from './sim/test-cluster.js';
import type { RaftMessage } from './types.js';

/** A 3-replica cluster with n1 leader and its no-op committed everywhere. */
function stable(overrides = {}): TestCluster {
  const c = new TestCluster(3, overrides);
  c.campaign('n1');
  c.tickAll(1);
  return c;
}

t.test('leadership transfer: target is brought up to date before TimeoutNow (§3.10)', async (t) => {
  const c = stable();
  c.cutLink('n1', 'n3');
  for (let k = 0; k < 5; k++) t.ok(c.node('n1').propose(bytes(`w${k}`)).ok);
  c.stabilize();
  t.ok(c.node('n3').lastIndex < c.node('n1').lastIndex, 'n3 is behind');
  c.heal();
  const targetLastAtTimeoutNow: number[] = [];
  c.drop = (m: RaftMessage) => {
    if (m.type === 'TimeoutNow') targetLastAtTimeoutNow.push(c.node('n3').lastIndex);
    return false;
  };
  t.same(c.node('n1').transferLeadership('n3'), { ok: true, target: 'n3' });
  const first = c.processReady('n1');
  t.same(ofType(first ? allMessages(first) : [], 'TimeoutNow'), [], 'no TimeoutNow while the target lags');
  c.stabilize();
  t.same(targetLastAtTimeoutNow, [6], 'exactly one TimeoutNow, once the target held all 6 entries');
  t.equal(c.leader(), 'n3', 'the target is leader');
  t.equal(c.node('n3').term, 2);
  t.equal(c.node('n1').role, 'follower');
  t.equal(c.node('n1').status().transferTarget, null);
  const votes = ofType(c.sent, 'RequestVote').filter((m) => m.from === 'n3');
  t.ok(votes.length > 0 && votes.every((m) => m.leadershipTransfer === true && !m.preVote), 'flagged real votes');
  const timeoutNow = ofType(c.sent, 'TimeoutNow');
  t.same(timeoutNow, [{ type: 'TimeoutNow', from: 'n1', to: 'n3', term: 1 }]);
});

t.test('leadership transfer: an up-to-date target gets TimeoutNow at once; null picks the most up-to-date follower', async (t) => {
  const c = stable();
  c.cutLink('n1', 'n2');
  c.node('n1').propose(bytes('x'));
  c.stabilize();
  t.same(c.node('n1').transferLeadership(null), { ok: true, target: 'n3' }, 'n3 holds more than n2');
  const rd = c.processReady('n1');
  t.equal(ofType(rd ? allMessages(rd) : [], 'TimeoutNow').length, 1, 'sent in the next Ready');
  c.heal();
  c.stabilize();
  t.equal(c.leader(), 'n3');
});

t.test('leadership transfer: proposals refused during transfer', async (t) => {
  const c = stable();
  c.cutLink('n1', 'n3');
  c.node('n1').propose(bytes('x'));
  c.stabilize();
  t.same(c.node('n1').transferLeadership('n3'), { ok: true, target: 'n3' });
  t.equal(c.node('n1').status().transferTarget, 'n3', 'status exposes the target');
  t.same(c.node('n1').propose(bytes('y')), { ok: false, reason: 'transferring', leader: 'n1' });
  c.tickAll(3);
  t.same(c.node('n1').propose(bytes('z')), { ok: false, reason: 'transferring', leader: 'n1' }, 'still refused');
  t.equal(c.node('n1').lastIndex, 2, 'nothing was appended');
});

t.test('leadership transfer aborts after an election timeout', async (t) => {
  const c = stable();
  c.cutLink('n1', 'n3'); // the target can never catch up
  c.node('n1').propose(bytes('x'));
  c.stabilize();
  t.ok(c.node('n1').transferLeadership('n3').ok);
  c.tickAll(9);
  t.equal(c.node('n1').status().transferTarget, 'n3', 'still transferring after 9 ticks');
  c.tickAll(1);
  t.equal(c.node('n1').role, 'leader', 'n2 keeps n1 leader');
  t.equal(c.node('n1').status().transferTarget, null, 'abandoned after electionTimeoutTicks (10)');
  t.ok(c.node('n1').propose(bytes('again')).ok, 'proposals accepted again');
  t.same(ofType(c.sent, 'TimeoutNow'), [], 'no TimeoutNow was ever sent');
});

t.test('leadership transfer: the answers of a non-leader and of bad targets', async (t) => {
  const c = stable();
  t.same(c.node('n2').transferLeadership('n3'), { ok: false, reason: 'not-leader' });
  t.same(c.node('n1').transferLeadership('n1'), { ok: false, reason: 'already-leader' });
  t.same(c.node('n1').transferLeadership('n9'), { ok: false, reason: 'unknown-target' });
  const solo = new TestCluster(1);
  solo.campaign('n1');
  t.same(solo.node('n1').transferLeadership(null), { ok: false, reason: 'no-target' });
});

t.test('TimeoutNow election bypasses pre-vote and leases', async (t) => {
  const c = stable({ preVote: true, checkQuorum: true });
  // A plain RequestVote of a higher term is disregarded by a follower in its leader lease (§4.2.3).
  c.node('n3').step(requestVote('n2', 'n3', { term: 5, lastLogIndex: 1, lastLogTerm: 1 }));
  t.equal(c.node('n3').term, 1, 'the lease keeps n3 in term 1');
  c.processReady('n3');
  c.takePending();

  t.ok(c.node('n1').transferLeadership('n2').ok);
  c.stabilize();
  t.equal(c.leader(), 'n2', 'n3 granted the vote while in the lease of n1');
  t.equal(c.node('n2').term, 2);
  const fromN2 = ofType(c.sent, 'RequestVote').filter((m) => m.from === 'n2');
  t.same(fromN2.filter((m) => m.preVote), [], 'no pre-vote round');
  t.ok(fromN2.every((m) => m.leadershipTransfer === true), 'the requests carry the flag');
  t.same(ofType(c.sent, 'RequestVoteResponse').filter((m) => m.to === 'n2').map((m) => m.voteGranted), [true, true]);
});

t.test('TimeoutNow: ignored from an earlier term and by a candidate; a later term is adopted', async (t) => {
  const c = stable();
  c.node('n2').step({ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 0 });
  t.equal(c.node('n2').role, 'follower', 'a stale TimeoutNow changes nothing');
  c.node('n2').step({ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 1 });
  t.equal(c.node('n2').role, 'candidate', 'current term: campaign at once');
  t.equal(c.node('n2').term, 2);
  c.node('n2').step({ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 2 });
  t.equal(c.node('n2').term, 2, 'a candidate ignores it');
  c.node('n3').step({ type: 'TimeoutNow', from: 'n1', to: 'n3', term: 4 });
  t.equal(c.node('n3').role, 'candidate');
  t.equal(c.node('n3').term, 5, 'adopts term 4, then campaigns in 5');
  c.node('n3').step({ type: 'TimeoutNow', from: 'n1', to: 'n3', term: 'x' } as unknown as RaftMessage);
  t.equal(c.node('n3').term, 5, 'a malformed TimeoutNow is ignored');
});

t.test('leadership transfer: TimeoutNow voids the lease for the rest of the term', async (t) => {
  const c = stable({ leaseReads: true });
  c.cutLink('n1', 'n3');
  c.drop = (m) => m.type === 'TimeoutNow'; // lost: the transfer will abort
  t.ok(c.node('n1').transferLeadership('n2').ok);
  c.tickAll(10);
  t.equal(c.node('n1').status().transferTarget, null, 'aborted');
  t.equal(c.node('n1').role, 'leader');
  c.processReady('n1');
  c.node('n1').leaseRead(1);
  const rd = c.processReady('n1');
  t.same(rd?.readStates ?? [], [], 'no lease read: a late TimeoutNow could still elect n2 past the leases');
  c.stabilize();
  t.same(c.readStates.get('n1')?.map((r) => r.ctx), [1], 'served by a ReadIndex round instead');
});
