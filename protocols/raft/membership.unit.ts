/** Membership changes, one server at a time: dissertation ch. 4 (§4.1, §4.2.1, §4.2.2). */
import t from 'tap';
import { applyChange, decodeMembership, encodeMembership, type Membership } from './membership.js';
import { bytes, ofType, TestCluster } from './sim/test-cluster.js';

const BOOT = ['n1', 'n2', 'n3'];

/** n1..n5 exist, n1..n3 are the bootstrap voters, n1 leads with its no-op committed. */
function growable(): TestCluster {
  const c = new TestCluster(5, { voters: BOOT });
  c.campaign('n1');
  c.tickAll(2);
  return c;
}

function addLearner(c: TestCluster, id: string): void {
  const r = c.node('n1').proposeMembership({ type: 'add-learner', id, address: `addr-${id}` });
  if (!r.ok) throw new Error(`add-learner ${id}: ${r.reason}`);
  c.stabilize();
}

function promote(c: TestCluster, id: string): void {
  c.tickAll(7); // catch-up rounds complete with the heartbeat answers
  const r = c.node('n1').proposeMembership({ type: 'promote', id });
  if (!r.ok) throw new Error(`promote ${id}: ${r.reason}`);
  c.stabilize();
}

t.test('configurations encode and decode; malformed ones are refused', async (t) => {
  const m: Membership = { voters: ['a', 'b'], learners: ['c'], addresses: { c: 'x' } };
  t.same(decodeMembership(encodeMembership(m)), m);
  t.equal(decodeMembership(bytes('not json')), null);
  t.equal(decodeMembership(bytes('{"voters":[],"learners":[],"addresses":{}}')), null, 'no voters');
  t.equal(decodeMembership(bytes('{"voters":["a"],"learners":["a"],"addresses":{}}')), null, 'a voter that is also a learner');
  t.equal(applyChange(m, { type: 'add-learner', id: 'a', address: '' }), 'a is already a member');
  t.equal(applyChange(m, { type: 'promote', id: 'a' }), 'a is not a learner');
  t.equal(applyChange({ voters: ['a'], learners: [], addresses: {} }, { type: 'remove', id: 'a' }), 'cannot remove the last voter');
});

t.test('§4.2.1: a learner receives the log but is in no majority and never campaigns', async (t) => {
  const c = growable();
  addLearner(c, 'n4');
  const n1 = c.node('n1');
  t.same(n1.membership.learners, ['n4']);
  t.same(c.node('n4').membership.learners, ['n4'], 'the learner learned the configuration from the log');
  c.isolate('n2');
  c.isolate('n3');
  n1.propose(bytes('x'));
  c.stabilize();
  t.equal(c.node('n4').lastIndex, n1.lastIndex, 'replicated to the learner');
  t.ok(n1.commitIndex < n1.lastIndex, 'leader + learner are not a majority of 3 voters');
  c.heal();
  c.tickAll(4);
  t.equal(n1.commitIndex, n1.lastIndex);
  c.isolate('n4');
  c.tick('n4', 100);
  c.stabilize();
  t.equal(c.node('n4').role, 'follower', 'a learner does not campaign');
  t.equal(c.node('n4').term, n1.term);
});

t.test('§4.2.1: a learner is promoted only once it has caught up', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  c.isolate('n4');
  addLearner(c, 'n4');
  for (let k = 0; k < 5; k++) n1.propose(bytes(`c${k}`));
  c.stabilize();
  c.tickAll(30);
  const refused = n1.proposeMembership({ type: 'promote', id: 'n4' });
  t.match(refused, { ok: false, reason: 'not-caught-up' });
  c.heal();
  promote(c, 'n4');
  t.same(n1.membership.voters, ['n1', 'n2', 'n3', 'n4']);
  t.equal(n1.status().membershipCommitted, true);
  t.equal(c.node('n4').lastIndex, n1.lastIndex);
});

t.test('§4.1: a configuration takes effect when appended, before it commits', async (t) => {
  const c = growable();
  addLearner(c, 'n4');
  promote(c, 'n4');
  const n1 = c.node('n1');
  // 4 voters: a majority is 3. With n3 and n4 cut off, n1 + n2 cannot commit.
  c.isolate('n3');
  c.isolate('n4');
  n1.propose(bytes('needs 3 of 4'));
  c.stabilize();
  t.ok(n1.commitIndex < n1.lastIndex);
  c.heal();
  c.tickAll(4);
  t.equal(n1.commitIndex, n1.lastIndex);
});

t.test('§4.1: one change at a time', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  t.equal(n1.proposeMembership({ type: 'add-learner', id: 'n4', address: '' }).ok, true);
  const second = n1.proposeMembership({ type: 'add-learner', id: 'n5', address: '' });
  t.match(second, { ok: false, reason: 'busy' }, 'the first is not committed yet');
  c.stabilize();
  t.equal(n1.proposeMembership({ type: 'add-learner', id: 'n5', address: '' }).ok, true, 'after its commit');
  t.match(n1.proposeMembership({ type: 'remove', id: 'n9' }), { ok: false, reason: 'busy' });
  c.stabilize();
  t.match(n1.proposeMembership({ type: 'remove', id: 'n9' }), { ok: false, reason: 'invalid' });
  t.match(c.node('n2').proposeMembership({ type: 'remove', id: 'n3' }), { ok: false, reason: 'not-leader', leader: 'n1' });
});

t.test('§4.1: no change until the leader has committed an entry of its own term (raft-dev, 2015)', async (t) => {
  const c = new TestCluster(3);
  c.drop = (m) => m.type === 'AppendEntries' && m.entries.length > 0; // the no-op never arrives
  c.campaign('n1');
  t.equal(c.leader(), 'n1');
  t.match(c.node('n1').proposeMembership({ type: 'add-learner', id: 'n4', address: '' }), { ok: false, reason: 'busy' });
  c.drop = () => false;
  c.tickAll(5);
  t.equal(c.node('n1').proposeMembership({ type: 'add-learner', id: 'n4', address: '' }).ok, true);
});

t.test('§4.2.2: a removed follower is in no majority and does not disrupt the cluster', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  const r = n1.proposeMembership({ type: 'remove', id: 'n3' });
  t.equal(r.ok, true);
  c.stabilize();
  t.same(n1.membership.voters, ['n1', 'n2']);
  c.isolate('n3');
  c.tick('n3', 100); // it never learned it was removed, and times out
  c.heal();
  c.tickAll(30);
  t.equal(c.leader(), 'n1', 'still the leader');
  t.equal(n1.term, c.node('n2').term, 'no term was disturbed');
  c.isolate('n2');
  n1.propose(bytes('needs n2'));
  c.stabilize();
  t.ok(n1.commitIndex < n1.lastIndex, 'a majority of {n1, n2} is both');
});

t.test('§4.2.2: a removed leader steps down once the change commits, and hands over (§3.10)', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  const r = n1.proposeMembership({ type: 'remove', id: 'n1' });
  t.equal(r.ok, true);
  t.equal(n1.role, 'leader', 'it keeps leading while the change is uncommitted');
  const before = c.sent.length;
  c.stabilize();
  t.equal(n1.role, 'follower');
  t.ok(ofType(c.sent.slice(before), 'TimeoutNow').length === 1, 'TimeoutNow to a voter of the new configuration');
  const leader = c.leader();
  t.ok(leader === 'n2' || leader === 'n3', `new leader ${leader}`);
  t.same(c.node(leader as string).membership.voters, ['n2', 'n3']);
  c.tickAll(50);
  t.equal(n1.role, 'follower', 'n1 never campaigns again');
});

t.test('§4.1: a truncated configuration entry is undone', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  // n1 appends a change that reaches nobody, then is cut off; n2 and n3 elect a leader without it.
  c.isolate('n1');
  t.equal(n1.proposeMembership({ type: 'add-learner', id: 'n4', address: '' }).ok, true);
  c.stabilize();
  t.same(n1.membership.learners, ['n4'], 'in force on n1 once appended');
  t.same(c.node('n2').membership.learners, [], 'n2 never got it');
  c.tickAll(40);
  const leader = c.leader();
  t.ok(leader === 'n2' || leader === 'n3', `new leader ${leader}`);
  c.heal();
  c.tickAll(5);
  t.equal(n1.role, 'follower');
  t.same(n1.membership.learners, [], 'the uncommitted entry was truncated, and with it the configuration');
  t.equal(n1.lastIndex, c.node(leader as string).lastIndex);
});

t.test('configurations survive a restart: from the log and from a snapshot', async (t) => {
  const c = growable();
  addLearner(c, 'n4');
  promote(c, 'n4');
  c.crash('n2');
  c.restart('n2');
  t.same(c.node('n2').membership.voters, ['n1', 'n2', 'n3', 'n4'], 'from the log');
  c.tickAll(3);
  const n2 = c.node('n2');
  c.compact('n2', n2.commitIndex);
  c.crash('n2');
  c.restart('n2');
  t.same(c.node('n2').membership.voters, ['n1', 'n2', 'n3', 'n4'], 'from the snapshot (dissertation §5.1)');
  t.equal(c.node('n2').snapshotIndex, n2.commitIndex);
});

t.test('InstallSnapshot carries the configuration to a new member', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  for (let k = 0; k < 5; k++) n1.propose(bytes(`c${k}`));
  c.stabilize();
  c.tickAll(2);
  c.isolate('n4');
  addLearner(c, 'n4');
  c.compact('n1', n1.commitIndex);
  n1.propose(bytes('after'));
  c.stabilize();
  c.heal();
  c.tickAll(4);
  const n4 = c.node('n4');
  t.equal(c.installed.get('n4')?.length, 1, 'n4 got a snapshot');
  t.same(n4.membership.learners, ['n4']);
  t.equal(n4.lastIndex, n1.lastIndex);
  c.crash('n4');
  c.restart('n4');
  t.same(c.node('n4').membership.learners, ['n4'], 'and keeps it across a restart');
});

t.test('3 → 5 → 3 with writes in between: one leader per term, everything committed stays', async (t) => {
  const c = growable();
  const n1 = c.node('n1');
  for (const id of ['n4', 'n5']) {
    addLearner(c, id);
    n1.propose(bytes(`w-${id}`));
    promote(c, id);
  }
  t.same(n1.membership.voters, ['n1', 'n2', 'n3', 'n4', 'n5']);
  for (const id of ['n2', 'n3']) {
    t.equal(n1.proposeMembership({ type: 'remove', id }).ok, true);
    n1.propose(bytes(`w-${id}-gone`));
    c.stabilize();
    c.tickAll(2);
  }
  t.same(n1.membership.voters, ['n1', 'n4', 'n5']);
  c.crash('n1');
  c.tickAll(40);
  const leader = c.leader() as string;
  t.ok(leader === 'n4' || leader === 'n5', `leader ${leader} of the new configuration`);
  const applied = c.appliedOf(leader).filter((e) => e.kind === 'command').map((e) => new TextDecoder().decode(e.data as Uint8Array));
  t.same(applied, ['w-n4', 'w-n5', 'w-n2-gone', 'w-n3-gone']);
});
