/** PMMC leader and Multi-Paxos on top: stable leader, adoption, gap filling, backoff, batching, reads. */
import t from 'tap';
import { sameBallot } from './ballot.js';
import { bytes, node, persist, TestCluster, texts, emptyDisk } from './sim/test-cluster.js';
import type { Ballot, P1b, PaxosMessage, PValue, Ready } from './types.js';

const THREE = ['n1', 'n2', 'n3'];
const b = (round: number, leader: string): Ballot => ({ round, leader });
const pv = (ballot: Ballot, slot: number, text: string): PValue => ({
  ballot, slot, command: { kind: 'batch', origin: ballot, payloads: [bytes(text)] },
});
const of = <T extends PaxosMessage['type']>(ms: PaxosMessage[], type: T) =>
  ms.filter((m): m is Extract<PaxosMessage, { type: T }> => m.type === type);

/** Ticks a lone node until its scout starts; returns that Ready (persisted on `disk`). */
function startScout(n: ReturnType<typeof node>): Ready {
  for (let k = 0; k < 40; k++) {
    n.tick();
    if (n.role === 'candidate') break;
  }
  const rd = n.ready();
  return rd;
}

t.test('a stable leader: one phase 1, then phase 2 only', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  const leader = c.node('n1');
  t.equal(leader.role, 'leader');
  for (let k = 0; k < 5; k++) {
    t.ok(leader.propose(bytes(`v${k}`)).ok);
    c.settle();
  }
  c.tickAll(4);
  for (const id of THREE) t.same(c.appliedTexts(id), ['v0', 'v1', 'v2', 'v3', 'v4'], `${id} applied every command in order`);
  t.ok(sameBallot(leader.currentBallot, { round: 1, leader: 'n1' }), 'still the first ballot: no new phase 1');
});

t.test('propose on a follower returns not-leader with the known leader', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  t.same(c.node('n2').propose(bytes('x')), { ok: false, reason: 'not-leader', leader: 'n1' });
});

t.test('batching: proposals between two Readys share one slot', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  const leader = c.node('n1');
  const r1 = leader.propose(bytes('a'));
  const r2 = leader.propose(bytes('b'));
  if (!r1.ok || !r2.ok) throw new Error('not leader');
  t.equal(r1.slot, r2.slot);
  c.settle();
  t.same(texts(c.node('n3').decisionAt(r1.slot)), ['a', 'b']);
});

t.test('pipelining: many slots in flight, bounded by the window', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  const leader = c.node('n1');
  const start = leader.slotOut;
  c.cut.add('n2->n1').add('n3->n1'); // no P2b comes back: nothing is decided
  for (let k = 0; k < 20; k++) {
    leader.propose(bytes(`p${k}`));
    c.settle();
  }
  t.equal(leader.status().inflight, 8, 'window = 8 commanders in flight');
  t.equal(leader.status().slotIn, start + 9, 'the other 12 commands wait in one growing batch (batching under backpressure)');
  c.healAll();
  c.tickAll(10);
  t.equal(c.appliedTexts('n2').length, 20, 'all decided once P2b flow again');
  t.equal(c.applied.get('n2')?.length, 9, 'in 9 slots');
});

t.test('a leader adopts the highest-ballot pvalue per slot', async (t) => {
  const n = node('n1', ['n1', 'n2', 'n3', 'n4', 'n5']);
  const rd = startScout(n);
  n.advance(rd);
  const ballot = n.currentBallot;
  const p1b = (from: string, accepted: PValue[]): P1b => ({ type: 'P1b', from, to: 'n1', request: ballot, ballotNum: ballot, accepted, compactedTo: 0 });
  n.step(p1b('n2', [pv(b(0, 'n2'), 1, 'low')]));
  t.equal(n.role, 'candidate', 'its own P1b (delivered on advance) and n2: two of five');
  n.step(p1b('n3', [pv(b(0, 'n3'), 1, 'high'), pv(b(0, 'n3'), 2, 'two')]));
  t.equal(n.role, 'leader', 'adopted');
  const p2as = of(n.ready().messages, 'P2a');
  const bySlot = new Map(p2as.map((m) => [m.pvalue.slot, m.pvalue]));
  t.same(texts(bySlot.get(1)?.command), ['high'], 'slot 1: the pvalue of the highest ballot (0.n3 > 0.n2)');
  t.same(texts(bySlot.get(2)?.command), ['two']);
  t.ok(p2as.every((m) => sameBallot(m.pvalue.ballot, ballot)), 're-proposed in the new ballot');
});

t.test('gap filling proposes no-ops', async (t) => {
  const n = node('n1', THREE);
  const rd = startScout(n);
  n.advance(rd);
  const ballot = n.currentBallot;
  n.step({ type: 'P1b', from: 'n2', to: 'n1', request: ballot, ballotNum: ballot, accepted: [pv(b(0, 'n2'), 3, 'three')], compactedTo: 0 });
  t.equal(n.role, 'leader');
  const p2as = of(n.ready().messages, 'P2a').filter((m) => m.to === 'n2');
  t.same(p2as.map((m) => [m.pvalue.slot, m.pvalue.command.kind]), [[1, 'noop'], [2, 'noop'], [3, 'batch']]);
  const r = n.propose(bytes('next'));
  t.ok(r.ok && r.slot === 4, 'new commands go after the highest slot found');
});

t.test('a preempted leader backs off', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  const old = c.node('n1');
  c.isolate('n1');
  c.elect('n2'); // ballot 2.n2
  c.healAll();
  // n1 still believes it leads; its next heartbeat is answered with ballot_num 2.n2.
  old.propose(bytes('stale'));
  c.tickAll(1);
  t.equal(old.role, 'follower', 'preempted');
  t.equal(c.node('n2').role, 'leader', 'no duel: n1 does not start a new scout at once');
  c.tickAll(5);
  t.equal(c.node('n2').role, 'leader', 'n1 follows the new leader heartbeats');
  t.equal(old.leader, 'n2');
  t.notOk(c.appliedTexts('n2').includes('stale'), 'the stale proposal was never decided');
});

t.test('P1b/P2b only after persist', async (t) => {
  const acceptor = node('n2', THREE);
  const ballot = b(1, 'n1');
  acceptor.step({ type: 'P1a', from: 'n1', to: 'n2', ballot, fromSlot: 1 });
  let rd = acceptor.ready();
  t.same(rd.persist.ballotNum, ballot, 'the promise is in persist');
  t.same(of(rd.messages, 'P1b'), [], 'no P1b before the persist');
  t.equal(of(rd.messagesAfterPersist, 'P1b').length, 1, 'P1b after the persist');
  acceptor.advance(rd);
  acceptor.step({ type: 'P2a', from: 'n1', to: 'n2', pvalue: pv(ballot, 1, 'x') });
  rd = acceptor.ready();
  t.equal(rd.persist.accepted.length, 1, 'the acceptance is in persist');
  t.same(of(rd.messages, 'P2b'), []);
  t.equal(of(rd.messagesAfterPersist, 'P2b').length, 1);
  acceptor.advance(rd);
  // A would-be leader's own P1a go out only once its own promise is durable.
  const candidate = node('n1', THREE);
  const first = startScout(candidate);
  t.ok(first.persist.ballotNum !== null, 'own promise persisted');
  t.equal(of(first.messages, 'P1a').length, 0);
  t.equal(of(first.messagesAfterPersist, 'P1a').length, 2);
});

t.test('a restarted replica never reuses a ballot', async (t) => {
  const disk = emptyDisk();
  const n = node('n1', THREE, 1, disk);
  const rd = startScout(n);
  persist(disk, rd);
  const used = n.currentBallot;
  const again = node('n1', THREE, 2, disk);
  const rd2 = startScout(again);
  t.ok(again.currentBallot.round > used.round, `new ballot ${again.currentBallot.round} > ${used.round}`);
  t.ok(rd2.persist.ballotNum !== null);
});

t.test('readIndex confirms leadership with a quorum', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  const leader = c.node('n1');
  leader.propose(bytes('w'));
  c.settle();
  c.cut.add('n2->n1').add('n3->n1');
  leader.readIndex(1);
  c.settle();
  t.same(c.readStates.get('n1'), [], 'no quorum answered: not released');
  c.cut.delete('n2->n1');
  c.tickAll(2);
  const rs = c.readStates.get('n1') ?? [];
  t.equal(rs.length, 1, 'released once a majority (with itself) answered the round');
  t.ok((rs[0]?.slot ?? 0) >= 1, 'at or after the last write');
  c.node('n2').readIndex(2);
  c.settle();
  t.same(c.readsFailed.get('n2'), [2], 'a follower fails reads at once');
});

t.test('a read pending when leadership is lost fails', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  c.isolate('n1');
  c.node('n1').readIndex(9);
  c.settle();
  c.elect('n2');
  c.healAll();
  c.tickAll(2);
  t.same(c.readsFailed.get('n1'), [9]);
});
