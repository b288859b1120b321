/** Lease reads (dissertation §6.4.1): served within the leader lease, else ReadIndex. */
import t from 'tap';
import { appendEntries, bytes, ofType, requestVote, soloNode, TestCluster } from './sim/test-cluster.js';
import type { RaftConfig } from './types.js';

const LEASE: Partial<RaftConfig> = { leaseReads: true, checkQuorum: true };

/**
 * n1 leads a 3-replica cluster; its no-op is committed and acknowledged. Returns the cluster and
 * the tick (of n1's clock) at which the acknowledged heartbeat round was sent.
 */
function leader(overrides: Partial<RaftConfig> = {}): { c: TestCluster; sentAt: number } {
  const c = new TestCluster(3, { ...LEASE, ...overrides });
  let ticks = 0;
  const n1 = c.node('n1');
  while (n1.role === 'follower') {
    n1.tick();
    ticks++;
  }
  c.stabilize(); // elected at tick `ticks`; its first AppendEntries (round 1) leave then, and are answered
  return { c, sentAt: ticks };
}

t.test('lease read served without a round within the lease', async (t) => {
  const { c } = leader();
  const n1 = c.node('n1');
  n1.propose(bytes('w'));
  c.stabilize();
  n1.leaseRead(1);
  const rd = c.processReady('n1');
  t.same(rd?.readStates, [{ ctx: 1, index: 2 }], 'released in the very next Ready, at commitIndex');
  t.same(ofType(rd?.messages ?? [], 'AppendEntries'), [], 'no heartbeat round');
});

t.test('lease read falls back to ReadIndex outside the lease', async (t) => {
  const { c } = leader();
  const n1 = c.node('n1');
  c.drop = (m) => m.type === 'AppendEntriesResponse'; // nobody acknowledges anything any more
  c.tick('n1', 8); // 10 - 2: the lease is over
  c.stabilize();
  n1.leaseRead(1);
  const rd = c.processReady('n1');
  t.same(rd?.readStates, [], 'not served from the lease');
  t.ok(ofType(rd?.messages ?? [], 'AppendEntries').length === 2, 'a ReadIndex round goes out instead');
  c.drop = () => false;
  n1.leaseRead(2); // the same round's answers confirm it (lease renewed too)
  c.stabilize();
  t.same(c.readStates.get('n1')?.map((r) => r.ctx).sort(), [1, 2], 'confirmed by the round');
});

t.test('lease read waits for the no-op, needs leaseReads and check-quorum, fails on a follower', async (t) => {
  const c = new TestCluster(3, LEASE);
  c.drop = (m) => m.type === 'AppendEntriesResponse';
  c.campaign('n1');
  c.node('n1').leaseRead(1);
  t.same(c.processReady('n1')?.readStates ?? [], [], 'no-op not committed: a ReadIndex read');
  c.drop = () => false;
  c.tickAll(3);
  t.same(c.readStates.get('n1'), [{ ctx: 1, index: 1 }], 'served once the no-op committed');

  for (const overrides of [{ leaseReads: false }, { checkQuorum: false }]) {
    const off = leader(overrides).c;
    off.node('n1').leaseRead(2);
    const rd = off.processReady('n1');
    t.same(rd?.readStates, [], `${JSON.stringify(overrides)}: never from the lease`);
    off.stabilize();
    t.same(off.readStates.get('n1'), [{ ctx: 2, index: 1 }], 'a ReadIndex read instead');
  }

  c.node('n2').leaseRead(3);
  c.processReady('n2');
  t.same(c.readsFailed.get('n2'), [3], 'on a follower it fails at once (the runtime forwards it)');
});

t.test('lease is shortened by the drift bound', async (t) => {
  for (const drift of [1, 2, 4]) {
    const { c } = leader({ leaseDriftTicks: drift });
    const n1 = c.node('n1');
    c.drop = (m) => m.type === 'AppendEntriesResponse';
    // The acknowledged round left at the election; the lease lasts 10 - drift ticks from then.
    n1.tick(10 - drift - 1);
    n1.leaseRead(1);
    t.same(c.processReady('n1')?.readStates, [{ ctx: 1, index: 1 }], `drift ${drift}: served ${10 - drift - 1} ticks in`);
    n1.tick(1);
    n1.leaseRead(2);
    t.same(c.processReady('n1')?.readStates ?? [], [], `drift ${drift}: refused ${10 - drift} ticks in`);
  }
  t.throws(() => new TestCluster(1, { leaseDriftTicks: 0 }), /leaseDriftTicks/, 'the bound is at least one tick');
});

t.test('the lease counts from when the heartbeat was sent, not from its answer', async (t) => {
  const { c } = leader();
  const n1 = c.node('n1');
  c.tick('n1', 3); // a heartbeat round leaves 3 ticks after the election...
  c.processReady('n1');
  const late = c.takePending();
  n1.tick(5); // ...and its answers take 5 ticks to come back
  for (const m of late) c.node(m.to).step(m);
  c.flush();
  for (const m of c.takePending()) if (m.to === 'n1') n1.step(m);
  t.equal(n1.role, 'leader');
  // The answers are 0 ticks old, but the round was sent 5 ticks ago: 3 ticks of lease remain.
  n1.tick(2);
  n1.leaseRead(1);
  t.same(c.processReady('n1')?.readStates, [{ ctx: 1, index: 1 }], '7 ticks after the send: served');
  c.takePending();
  n1.tick(1);
  n1.leaseRead(2);
  t.same(c.processReady('n1')?.readStates ?? [], [], '8 ticks after the send (3 after the answers): refused');
});

t.test('tick(elapsed): a leader that missed two election timeouts steps down at once', async (t) => {
  const { c } = leader();
  const n1 = c.node('n1');
  c.tick('n1', 2);
  c.stabilize(); // everyone answered recently
  n1.tick(25);
  t.equal(n1.role, 'follower', 'check-quorum: the second period heard from nobody');
  t.throws(() => n1.tick(-1), /tick/);
  t.throws(() => n1.tick(1.5), /tick/);
});

t.test('a restarted replica stays in a leader lease for an election timeout (leaseReads)', async (t) => {
  const { c } = leader({ preVote: false });
  c.crash('n3');
  c.restart('n3');
  const n3 = c.node('n3');
  n3.step({ type: 'RequestVote', from: 'n2', to: 'n3', term: 7, lastLogIndex: 9, lastLogTerm: 1, preVote: false });
  t.equal(n3.term, 1, 'it may have acknowledged a lease just before crashing: disregarded');
  n3.tick(10);
  n3.step({ type: 'RequestVote', from: 'n2', to: 'n3', term: 7, lastLogIndex: 9, lastLogTerm: 1, preVote: false });
  t.equal(n3.term, 7, 'an election timeout later it votes');
});

t.test('boot lease: a restarted replica disregards votes for one election timeout after it starts, then no longer', async (t) => {
  // The boot lease stands in for a heartbeat acknowledged just before the crash; it must end
  // with the first election timeout, or the replica would disregard votes whenever it has no
  // leader but heard one recently.
  const disk = { hardState: { currentTerm: 3, votedFor: null, commitIndex: 0 }, entries: [] };
  const node = soloNode('n2', ['n1', 'n2', 'n3'], { leaseReads: true, checkQuorum: true, preVote: false }, disk);
  node.step(requestVote('n3', 'n2', { term: 4 }));
  t.equal(node.term, 3, 'inside the boot lease: disregarded');
  node.tick(25); // more than an election timeout: the boot lease is over (it may campaign meanwhile)
  const term = node.term;
  node.step(appendEntries('n1', 'n2', { term }));
  node.step(requestVote('n3', 'n2', { term: term + 1, leadershipTransfer: true })); // leader forgotten, heard recently
  t.equal(node.leader, null);
  node.step(requestVote('n1', 'n2', { term: term + 2 }));
  t.equal(node.term, term + 2, 'no leader and no boot lease any more: the vote request is processed');
});
