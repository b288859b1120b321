/** Linearizable reads with ReadIndex (dissertation §6.4). */
import t from 'tap';
import { bytes, ofType, TestCluster } from './sim/test-cluster.js';

t.test("ReadIndex waits for the leader's no-op to commit", async (t) => {
  const c = new TestCluster(3);
  c.drop = (m) => m.type === 'AppendEntriesResponse';
  c.campaign('n1');
  const leader = c.node('n1');
  t.equal(leader.role, 'leader');
  t.equal(leader.commitIndex, 0, 'the no-op is not committed');
  leader.readIndex(1);
  c.tickAll(5);
  t.same(c.readStates.get('n1') ?? [], [], 'the read waits');
  c.drop = () => false;
  c.tickAll(5);
  t.same(c.readStates.get('n1'), [{ ctx: 1, index: 1 }], 'then is served at the no-op');
});

t.test('ReadIndex batches reads into one heartbeat round', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  c.tickAll(1);
  const leader = c.node('n1');
  for (const ctx of [1, 2, 3]) leader.readIndex(ctx);
  const appends = ofType(c.processReady('n1')?.messages ?? [], 'AppendEntries');
  t.equal(appends.length, 2, 'one AppendEntries per follower for three reads');
  t.equal(new Set(appends.map((m) => m.readRound)).size, 1, 'all carrying the same round');
  c.stabilize();
  const index = leader.commitIndex;
  t.same(c.readStates.get('n1'), [1, 2, 3].map((ctx) => ({ ctx, index })), 'all three confirmed together');

  leader.readIndex(4);
  const next = ofType(c.processReady('n1')?.messages ?? [], 'AppendEntries');
  t.ok(next.every((m) => m.readRound === (appends[0]?.readRound ?? 0) + 1), 'a later read starts the next round');
});

t.test('ReadIndex: a majority acking round r confirms every round <= r', async (t) => {
  const c = new TestCluster(5);
  c.campaign('n1');
  c.tickAll(1);
  const leader = c.node('n1');
  leader.readIndex(1);
  c.processReady('n1');
  c.takePending(); // round 1 is lost
  leader.readIndex(2);
  c.processReady('n1');
  c.stabilize();
  t.same((c.readStates.get('n1') ?? []).map((r) => r.ctx), [1, 2], 'acks of round 2 confirm round 1 too');
});

t.test('ReadIndex fails on a deposed leader', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  c.tickAll(1);
  c.isolate('n1');
  c.node('n1').readIndex(7);
  c.tickAll(3);
  t.same(c.readStates.get('n1') ?? [], [], 'an isolated leader cannot confirm the read');
  c.node('n1').step({
    type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 9, success: false,
    matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0, incarnation: 0,
  });
  c.processReady('n1');
  t.same(c.readsFailed.get('n1'), [7], 'deposed: the read fails');
});

t.test('ReadIndex fails when check-quorum makes the leader step down', async (t) => {
  const c = new TestCluster(3, { checkQuorum: true });
  c.campaign('n1');
  c.tickAll(1);
  c.isolate('n1');
  c.node('n1').readIndex(8);
  c.tickAll(25);
  t.equal(c.node('n1').role, 'follower');
  t.same(c.readsFailed.get('n1'), [8]);
});

t.test('ReadIndex on a follower fails at once', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  c.node('n2').readIndex(3);
  c.processReady('n2');
  t.same(c.readsFailed.get('n2'), [3]);
});

t.test('ReadIndex: a single-voter cluster confirms at once', async (t) => {
  const c = new TestCluster(1);
  c.campaign('n1');
  c.tickAll(1);
  c.node('n1').propose(bytes('x'));
  c.stabilize();
  c.node('n1').readIndex(5);
  const rd = c.processReady('n1');
  t.same(rd?.readStates, [{ ctx: 5, index: 2 }]);
});

t.test('ReadIndex: the read index covers every write committed before the request', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  for (let k = 0; k < 5; k++) {
    c.node('n1').propose(bytes(`w${k}`));
    c.stabilize();
    const committed = c.node('n1').commitIndex;
    c.node('n1').readIndex(k);
    c.stabilize();
    t.ok((c.readStates.get('n1')?.at(-1)?.index ?? 0) >= committed, `read ${k} sees index ${committed}`);
  }
});
