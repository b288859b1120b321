/**
 * The Ready contract (types.ts): what must be durable before which message may leave (Raft
 * Figure 2 "Persistent state", dissertation §10.2.1), and that the disk always equals the log.
 */
import t from 'tap';
import { InvariantError } from '../common/invariant.js';
import { SeededRng } from '../common/rng.js';
import {
  appendEntries,
  bytes,
  cycle,
  emptyDisk,
  entriesFrom,
  ofType,
  persist,
  requestVote,
  soloNode,
  TestCluster,
  type Disk,
} from './sim/test-cluster.js';
import type { RaftNode } from './raft-node.js';

const THREE = ['n1', 'n2', 'n3'];

t.test('votes and append responses are only sent after persist', async (t) => {
  const voter = soloNode('n2', THREE, { preVote: false });
  voter.step(requestVote('n1', 'n2', { term: 1 }));
  let rd = cycle(voter);
  t.same(rd.hardState, { currentTerm: 1, votedFor: 'n1', commitIndex: 0 }, 'the vote is in this Ready');
  t.same(ofType(rd.messages, 'RequestVoteResponse'), [], 'not among the messages sent at once');
  t.equal(ofType(rd.messagesAfterPersist, 'RequestVoteResponse')[0]?.voteGranted, true, 'but after the persist');

  voter.step(appendEntries('n1', 'n2', { term: 1, entries: entriesFrom(1, [1, 1]) }));
  rd = cycle(voter);
  t.same(rd.entries.map((e) => e.index), [1, 2], 'the entries are in this Ready');
  t.same(ofType(rd.messages, 'AppendEntriesResponse'), [], 'the acknowledgement is not sent at once');
  t.equal(ofType(rd.messagesAfterPersist, 'AppendEntriesResponse')[0]?.matchIndex, 2, 'but after the persist');

  const candidate = soloNode('n1', THREE, { preVote: false });
  while (candidate.role !== 'candidate') candidate.tick();
  rd = cycle(candidate);
  t.same(rd.hardState, { currentTerm: 1, votedFor: 'n1', commitIndex: 0 });
  t.equal(ofType(rd.messagesAfterPersist, 'RequestVote').length, 2, 'RequestVote waits for the new term and self-vote');

  const preCandidate = soloNode('n1', THREE, { preVote: true });
  while (preCandidate.role !== 'precandidate') preCandidate.tick();
  t.equal(ofType(cycle(preCandidate).messages, 'RequestVote').length, 2, 'pre-vote requests change nothing: sent at once');
});

t.test("the leader's AppendEntries may go out before its own persist (dissertation §10.2.1)", async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  c.node('n1').propose(bytes('x'));
  const rd = c.processReady('n1');
  t.equal(rd?.entries.length, 1, 'the entry is being persisted');
  t.equal(ofType(rd?.messages ?? [], 'AppendEntries').length, 2, 'and sent in parallel');
});

t.test('nothing of a new term leaves before the term is durable: a single voter with a learner (seed 703644)', async (t) => {
  // The only voter wins every election at once, with no vote round whose persist would have
  // made its term durable first. If its first AppendEntries of term T left in parallel with the
  // persist and it crashed, it would come back in T - 1, win T again and send other entries at
  // the same indices: the learner would hold an (index, term) another log holds differently.
  const disk = emptyDisk();
  const n1 = soloNode('n1', ['n1'], { preVote: false }, disk);
  while (n1.role !== 'leader') n1.tick();
  cycle(n1, disk);
  t.equal(n1.proposeMembership({ type: 'add-learner', id: 'n2', address: '' }).ok, true);
  while (n1.hasReady()) cycle(n1, disk);
  t.equal(n1.status().membershipCommitted, true, 'n2 is a learner');

  for (const preVote of [false, true]) {
    const restarted = soloNode('n1', ['n1'], { preVote }, disk);
    const term = restarted.term;
    while (restarted.role !== 'leader') restarted.tick();
    t.equal(restarted.term, term + 1, `won term ${term + 1} without a vote round (preVote ${preVote})`);
    const rd = restarted.ready();
    t.equal(rd.hardState?.currentTerm, term + 1, 'the new term is in this Ready');
    t.same(rd.messages, [], 'so nothing goes out before the persist');
    t.ok(ofType(rd.messagesAfterPersist, 'AppendEntries').length > 0, 'the AppendEntries to the learner wait for it');
    persist(disk, rd);
    restarted.advance(rd);
    const matched = { type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: term + 1, success: true } as const;
    restarted.step({ ...matched, matchIndex: restarted.lastIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0, incarnation: 0 });
    restarted.propose(bytes('after'));
    const next = restarted.ready();
    t.ok(ofType(next.messages, 'AppendEntries').length > 0, 'once the term is durable, AppendEntries go out in parallel again');
  }
});

t.test('a leadership a crash erased before its persist left no trace: its replica may vote in that term again (seed 808027784)', async (t) => {
  // n1, the only voter, leads term 1 with learner n2. It appends "promote n2" and sends it in
  // parallel with its own write (§10.2.1), then crashes: n2 holds voters {n1, n2}, n1 restarts with
  // voters {n1}. Alone, n1 wins term 2 at once but crashes before term 2 is on disk. Back in term
  // 1, it votes for n2 in term 2, and n2 leads term 2. Election Safety is not broken: n1's term 2
  // was never durable and nothing of it left n1, so no one could tell it from a leader.
  const c = new TestCluster(2, { voters: ['n1'], preVote: false });
  c.campaign('n1');
  c.tickAll(2);
  t.equal(c.node('n1').proposeMembership({ type: 'add-learner', id: 'n2', address: '' }).ok, true);
  c.stabilize();
  c.tickAll(7);
  t.equal(c.node('n1').proposeMembership({ type: 'promote', id: 'n2' }).ok, true);
  const parallel = c.node('n1').ready();
  t.ok(ofType(parallel.messages, 'AppendEntries').length > 0, 'the promote goes out before its persist');
  c.crash('n1');
  for (const m of parallel.messages) c.node('n2').step(m);
  c.processReady('n2');
  t.same(c.node('n2').membership.voters, ['n1', 'n2'], 'n2 holds the promote');

  c.restart('n1');
  const n1 = c.node('n1');
  t.same(n1.membership.voters, ['n1'], 'n1 lost it');
  while (n1.role !== 'leader') n1.tick();
  t.equal(n1.term, 2, 'n1 alone wins term 2');
  const lost = n1.ready();
  t.equal(lost.hardState?.currentTerm, 2);
  t.same(lost.messages, [], 'nothing of term 2 leaves before the persist');
  c.crash('n1');
  c.restart('n1');
  t.equal(c.node('n1').term, 1, 'the crash erased term 2');

  c.campaign('n2');
  c.stabilize();
  t.equal(c.node('n2').role, 'leader');
  t.equal(c.node('n2').term, 2, 'n2 leads term 2 with the vote of n1');
  t.equal(c.disks.get('n1')?.hardState.votedFor, 'n2');
});

t.test('the leader counts itself only for durable entries (dissertation §10.2.1)', async (t) => {
  const single = soloNode('n1', ['n1']);
  while (single.role !== 'leader') single.tick();
  let rd = single.ready();
  t.equal(single.commitIndex, 0, 'the no-op is not durable yet');
  single.advance(rd);
  t.equal(single.commitIndex, 1, 'it commits on advance()');
  single.propose(bytes('x'));
  rd = single.ready();
  t.equal(single.commitIndex, 1);
  single.advance(rd);
  t.equal(single.commitIndex, 2);

  // Five voters: two followers' acks plus the leader's own unsynced copy are not a majority.
  const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const leader = soloNode('n1', five, { preVote: false });
  while (leader.role !== 'candidate') leader.tick();
  for (const voter of ['n2', 'n3']) leader.step({ type: 'RequestVoteResponse', from: voter, to: 'n1', term: 1, voteGranted: true, preVote: false });
  t.equal(leader.role, 'leader');
  rd = leader.ready();
  for (const follower of ['n2', 'n3']) {
    leader.step({ type: 'AppendEntriesResponse', from: follower, to: 'n1', term: 1, success: true, matchIndex: 1, conflictIndex: 0, conflictTerm: 0, readRound: 0, incarnation: 0 });
  }
  t.equal(leader.commitIndex, 0, 'not committed while the leader has not persisted it');
  leader.advance(rd);
  t.equal(leader.commitIndex, 1, 'committed once it has');
});

t.test('Ready.truncateFrom and entries keep the disk equal to the in-memory log', async (t) => {
  let truncations = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const rng = new SeededRng(seed);
    const disk = emptyDisk();
    const node = soloNode('n2', THREE, {}, disk, seed);
    let term = 1;
    for (let step = 0; step < 60; step++) {
      // A leader of a random later term sends a random suffix after a random matching prefix.
      if (rng.chance(0.3)) term++;
      const prev = rng.int(node.lastIndex + 1);
      const prevTerm = prev === 0 ? 0 : (node.entryAt(prev)?.term ?? 0);
      const count = rng.int(4);
      const entries = entriesFrom(prev + 1, Array<number>(count).fill(Math.max(term, prevTerm)));
      node.step(appendEntries('n1', 'n2', { term: Math.max(term, prevTerm), prevLogIndex: prev, prevLogTerm: prevTerm, entries }));
      if (rng.chance(0.5)) {
        // Sometimes a second message arrives while the Ready is being persisted.
        const rd = node.ready();
        if (rd.truncateFrom !== null) truncations++;
        persist(disk, rd);
        if (rng.chance(0.5)) node.step(appendEntries('n1', 'n2', { term: Math.max(term, prevTerm), prevLogIndex: 0, prevLogTerm: 0, entries: entriesFrom(1, [term]) }));
        node.advance(rd);
      }
    }
    while (node.hasReady()) if (cycle(node, disk).truncateFrom !== null) truncations++;
    const memory = Array.from({ length: node.lastIndex }, (_, k) => node.entryAt(k + 1));
    t.same(disk.entries, memory, `seed ${seed}: disk == memory (${memory.length} entries)`);
  }
  t.ok(truncations > 20, `the disk had to truncate (${truncations} times)`);
});

t.test('restart: term, vote and log come from disk; committed entries are re-applied', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  for (const word of ['a', 'b', 'c']) c.node('n1').propose(bytes(word));
  c.stabilize();
  c.tickAll(3);
  const before = c.node('n2').status();
  c.crash('n2');
  c.restart('n2');
  const after = c.node('n2');
  t.equal(after.term, before.term);
  t.equal(after.status().votedFor, before.votedFor);
  t.equal(after.lastIndex, before.lastLogIndex);
  t.equal(after.role, 'follower', 'a restarted replica is a follower');
  t.equal(after.commitIndex, before.commitIndex, 'the persisted commitIndex is restored');
  const rd = c.processReady('n2');
  t.same(rd?.committed.map((e) => e.index), [1, 2, 3, 4], 'and the first Ready re-applies the committed entries');
});

t.test('only one Ready is outstanding: hasReady() is false until advance()', async (t) => {
  const node = soloNode('n1', ['n1']);
  while (node.role !== 'leader') node.tick();
  const rd = node.ready();
  node.propose(bytes('x'));
  t.equal(node.hasReady(), false);
  t.throws(() => node.ready(), InvariantError, 'a second ready() is a runtime bug');
  t.throws(() => node.advance({ ...rd }), InvariantError, 'advance() takes the Ready it was given');
  node.advance(rd);
  t.equal(node.hasReady(), true);
});

t.test('committed entries are handed out once, in order', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  for (let k = 0; k < 20; k++) {
    c.node('n1').propose(bytes(`w${k}`));
    if (k % 3 === 0) c.stabilize();
  }
  c.stabilize();
  c.tickAll(3);
  for (const id of c.ids) {
    const indexes = c.appliedOf(id).map((e) => e.index);
    t.same(indexes, Array.from({ length: 21 }, (_, k) => k + 1), `${id} applied 1..21 exactly once`);
  }
});

t.test('nothing to do means no Ready', async (t) => {
  const node: RaftNode = soloNode('n1', THREE);
  t.equal(node.hasReady(), false, 'a fresh follower');
  const disk: Disk = emptyDisk();
  node.step(appendEntries('n1', 'n1', {}));
  t.equal(node.hasReady(), false, 'a message from itself is ignored');
  t.same(disk, emptyDisk());
});
