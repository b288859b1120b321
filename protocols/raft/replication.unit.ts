/** Log replication and commitment: Raft §5.3, §5.4, §8, and the replication flow control. */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import {
  allMessages,
  appendEntries,
  bytes,
  cycle,
  entriesFrom,
  logOfTerms,
  ofType,
  soloNode,
  TestCluster,
  text,
  type Disk,
} from './sim/test-cluster.js';
import { sameEntry } from './sim/sim-checker.js';
import type { RaftNode } from './raft-node.js';
import type { AppendEntriesResponse, LogEntry, RaftConfig, RaftMessage } from './types.js';

const THREE = ['n1', 'n2', 'n3'];

/** A lone replica restored from `disk` and made leader of the next term by crafted votes. */
function soloLeader(voters: string[], disk: Disk, overrides: Partial<RaftConfig> = {}): RaftNode {
  const node = soloNode(voters[0] as string, voters, { preVote: false, checkQuorum: false, ...overrides }, disk);
  while (node.role !== 'candidate') node.tick();
  for (const voter of voters.slice(1)) node.step({ type: 'RequestVoteResponse', from: voter, to: node.id, term: node.term, voteGranted: true, preVote: false });
  cycle(node);
  return node;
}

function ack(from: string, term: number, matchIndex: number): AppendEntriesResponse {
  return { type: 'AppendEntriesResponse', from, to: 'n1', term, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0, incarnation: 0 };
}

function followerDisk(terms: number[], currentTerm: number, commitIndex = 0): Disk {
  return { hardState: { currentTerm, votedFor: null, commitIndex }, entries: entriesFrom(1, terms) };
}

function answer(messages: RaftMessage[]): AppendEntriesResponse | undefined {
  return ofType(messages, 'AppendEntriesResponse')[0];
}

/** A 3-replica cluster with n1 elected and its no-op committed everywhere. */
function stableCluster(overrides = {}): TestCluster {
  const c = new TestCluster(3, overrides);
  c.campaign('n1');
  c.tickAll(3);
  return c;
}

t.test('log matching: append rejected when prev entry term differs (§5.3)', async (t) => {
  const node = soloNode('n2', THREE, {}, followerDisk([1, 1, 2], 2));
  node.step(appendEntries('n1', 'n2', { term: 3, prevLogIndex: 3, prevLogTerm: 3, entries: entriesFrom(4, [3]) }));
  const rd = cycle(node);
  const response = answer(rd.messagesAfterPersist);
  t.equal(response?.success, false, 'AppendEntries receiver rule 2');
  t.equal(response?.conflictTerm, 2, 'hint: the term we hold at prevLogIndex');
  t.equal(response?.conflictIndex, 3, 'hint: the first index of that term');
  t.equal(node.lastIndex, 3, 'the log is untouched');
  t.same(rd.entries, []);
});

t.test('log matching: append rejected when the log is too short (§5.3)', async (t) => {
  const node = soloNode('n2', THREE, {}, followerDisk([1], 1));
  node.step(appendEntries('n1', 'n2', { term: 2, prevLogIndex: 5, prevLogTerm: 2 }));
  const response = answer(cycle(node).messagesAfterPersist);
  t.equal(response?.success, false);
  t.equal(response?.conflictIndex, 2, 'hint: our lastIndex + 1');
  t.equal(response?.conflictTerm, 0);
});

t.test('log matching: a matching append is accepted and reports the last matching index (§5.3)', async (t) => {
  const node = soloNode('n2', THREE, {}, followerDisk([1, 1], 1));
  node.step(appendEntries('n1', 'n2', { term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: entriesFrom(3, [2, 2]) }));
  const rd = cycle(node);
  t.same(rd.entries.map((e) => e.index), [3, 4]);
  t.same(answer(rd.messagesAfterPersist)?.matchIndex, 4);
});

t.test('conflicting entries are truncated, committed ones never (§5.3 receiver rule 3)', async (t) => {
  const disk = followerDisk([1, 1, 2, 2], 2, 2);
  const node = soloNode('n2', THREE, {}, disk);
  node.step(appendEntries('n1', 'n2', { term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: entriesFrom(3, [3]) }));
  const rd = cycle(node, disk);
  t.equal(rd.truncateFrom, 3, 'the disk drops the conflicting suffix');
  t.same(rd.entries.map((e) => `${e.index}@${e.term}`), ['3@3']);
  t.same(disk.entries.map((e) => e.term), [1, 1, 3], 'disk == memory');

});

t.test('leader completeness (§5.4.1): an AppendEntries that would truncate a committed entry is ignored, not thrown on', async (t) => {
  // No correct leader sends it (§5.4.3); a peer with a bug may, and a replica never crashes on
  // input from outside (docs/design.md §3.7). The whole message is dropped before the log changes.
  const disk = followerDisk([1, 1, 2], 2, 3);
  const committed = soloNode('n2', THREE, {}, disk);
  t.doesNotThrow(() => committed.step(appendEntries('n1', 'n2', { term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: entriesFrom(3, [3, 3]) })));
  const rd = cycle(committed, disk);
  t.equal(rd.truncateFrom, null, 'nothing truncated');
  t.same(rd.entries, [], 'nothing appended');
  t.same(ofType(allMessages(rd), 'AppendEntriesResponse'), [], 'no answer: it is not from a correct leader');
  t.equal(committed.lastIndex, 3);
  t.equal(committed.entryAt(3)?.term, 2, 'the committed entry stays');
  t.equal(committed.commitIndex, 3);
});

t.test('stale or duplicated AppendEntries never truncate (§5.3 receiver rule 3)', async (t) => {
  const node = soloNode('n2', THREE, {}, followerDisk([1, 1, 1, 1, 1], 1));
  node.step(appendEntries('n1', 'n2', { term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: entriesFrom(2, [1]) }));
  const rd = cycle(node);
  t.equal(node.lastIndex, 5, 'entries after the stale message are kept');
  t.equal(rd.truncateFrom, null);
  t.equal(answer(rd.messagesAfterPersist)?.matchIndex, 2, 'only what the message proves is reported as matching');
});

t.test('follower commitIndex = min(leaderCommit, last new entry) (§5.3 receiver rule 5)', async (t) => {
  const node = soloNode('n2', THREE, {}, followerDisk([1, 1, 1, 1, 1], 1));
  node.step(appendEntries('n1', 'n2', { term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 5 }));
  t.equal(node.commitIndex, 2, 'entries 3..5 may be stale: only 2 is known to match');
  node.step(appendEntries('n1', 'n2', { term: 1, prevLogIndex: 5, prevLogTerm: 1, entries: [], leaderCommit: 4 }));
  t.equal(node.commitIndex, 4);
  node.step(appendEntries('n1', 'n2', { term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [], leaderCommit: 1 }));
  t.equal(node.commitIndex, 4, 'commitIndex never decreases');
});

t.test('a leader appends a no-op entry on election (§8)', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  const leader = c.node('n1');
  const last = leader.entryAt(leader.lastIndex);
  t.equal(last?.kind, 'noop');
  t.equal(last?.term, leader.term);
  t.equal(leader.commitIndex, leader.lastIndex, 'and commits it');
});

t.test('heartbeats carry leaderCommit so followers learn commits', async (t) => {
  const c = stableCluster();
  c.node('n1').propose(bytes('x'));
  c.stabilize();
  const index = c.node('n1').lastIndex;
  t.equal(c.node('n1').commitIndex, index, 'the leader committed');
  c.tickAll(3);
  const heartbeats = ofType(c.sent, 'AppendEntries').filter((m) => m.entries.length === 0 && m.leaderCommit === index);
  t.ok(heartbeats.length > 0, 'empty AppendEntries carry the commit index');
  for (const id of c.ids) t.equal(c.node(id).commitIndex, index, `${id} learned it`);
  for (const id of c.ids) t.equal(text(c.appliedOf(id).at(-1)), 'x', `${id} applied it`);
});

t.test('commit rule: leader never commits an entry of a previous term by counting (§5.4.2, Figure 8)', async (t) => {
  // Figure 8 (c): S1 leads term 4 with 2@2 (from term 2) on a majority, its own 3@4 nowhere else.
  const disk = (terms: number[]): Disk => ({ hardState: { currentTerm: 3, votedFor: null, commitIndex: 1 }, entries: logOfTerms(terms) });
  const s1 = soloLeader(['n1', 'n2', 'n3', 'n4', 'n5'], disk([1, 2]));
  t.equal(s1.term, 4);
  for (const follower of ['n2', 'n3', 'n4']) s1.step(ack(follower, 4, 2));
  t.equal(s1.commitIndex, 1, '2@2 is on S1, S2, S3, S4 but is not committed by counting');
  s1.step(ack('n2', 4, 3));
  t.equal(s1.commitIndex, 1, '3@4 on S1 and S2 only: still nothing');
  s1.step(ack('n3', 4, 3));
  t.equal(s1.commitIndex, 3, 'once 3@4 is on a majority it commits, and 2@2 with it (Figure 8 (e))');

  // Figure 8 (d): why. Before 3@4 spreads, S1 crashes; S5 wins term 5 and overwrites 2@2.
  const c = new TestCluster(5, { preVote: false, checkQuorum: false }, {
    n1: disk([1, 2]), n2: disk([1, 2]), n3: disk([1, 2]), n4: disk([1]), n5: disk([1, 3]),
  });
  c.drop = (m) => m.type === 'AppendEntries';
  c.campaign('n1');
  t.equal(c.leader(), 'n1');
  t.equal(c.node('n1').commitIndex, 1);
  c.crash('n1');
  c.drop = () => false;
  c.campaign('n5');
  c.tickAll(10);
  t.equal(c.leader(), 'n5', 'S5 (last term 3) is more up to date than S2-S4 (last term 2)');
  for (const id of ['n2', 'n3', 'n4', 'n5']) t.equal(c.node(id).entryAt(2)?.term, 3, `${id} now holds 2@3`);
});

t.test('leader completeness: a new leader holds every committed entry (§5.4)', async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const rng = new SeededRng(seed);
    const c = new TestCluster(5, {}, {}, seed);
    c.campaign('n1');
    const committed: LogEntry[] = [];
    for (let round = 0; round < 8; round++) {
      const leader = c.leader();
      if (leader === null) {
        c.tickAll(5);
        continue;
      }
      // Commit a few entries, with one follower cut off so logs differ.
      const lagging = c.ids[rng.int(5)] as string;
      if (lagging !== leader) c.isolate(lagging);
      for (let k = 0; k < 3; k++) c.node(leader).propose(bytes(`s${seed}r${round}k${k}`));
      c.stabilize();
      c.heal();
      const node = c.node(leader);
      for (let i = committed.length + 1; i <= node.commitIndex; i++) committed.push(node.entryAt(i) as LogEntry);
      // Depose the leader; someone else takes over.
      c.crash(leader);
      c.tickAll(40);
      c.restart(leader);
      const next = c.leader();
      t.ok(next !== null, `seed ${seed} round ${round}: a new leader`);
      if (next === null) continue;
      const missing = committed.filter((e) => !sameEntry(c.node(next).entryAt(e.index), e));
      t.same(missing, [], `seed ${seed} round ${round}: ${next} holds all ${committed.length} committed entries`);
    }
  }
});

t.test('batching: proposals between two ready() calls share one AppendEntries', async (t) => {
  const c = stableCluster();
  const leader = c.node('n1');
  for (let k = 0; k < 10; k++) leader.propose(bytes(`p${k}`));
  const rd = c.processReady('n1');
  const appends = ofType(rd?.messages ?? [], 'AppendEntries');
  t.equal(appends.length, 2, 'one message per follower');
  for (const m of appends) t.equal(m.entries.length, 10, `${m.to} gets all ten entries at once`);
  c.stabilize();
  t.equal(c.node('n2').commitIndex, leader.lastIndex);
});

t.test('batching: maxAppendBytes bounds one AppendEntries, but it always carries an entry', async (t) => {
  // An entry counts 24 bytes of overhead plus its data: two 10-byte entries fit in 100 bytes.
  const c = stableCluster({ maxAppendBytes: 100, maxInflightAppends: 8 });
  const leader = c.node('n1');
  for (let k = 0; k < 6; k++) leader.propose(bytes('0123456789'));
  leader.propose(new Uint8Array(1000));
  const appends = ofType(c.processReady('n1')?.messages ?? [], 'AppendEntries').filter((m) => m.to === 'n2');
  t.same(appends.map((m) => m.entries.length), [2, 2, 2, 1], 'pairs, and the oversized entry alone');
  c.stabilize();
  t.equal(c.node('n2').lastIndex, leader.lastIndex);
});

t.test('pipelining: several AppendEntries in flight', async (t) => {
  const c = stableCluster({ maxAppendBytes: 1, maxInflightAppends: 3 });
  const leader = c.node('n1');
  const before = leader.lastIndex;
  for (let k = 0; k < 5; k++) leader.propose(bytes(`p${k}`));
  const first = ofType(c.processReady('n1')?.messages ?? [], 'AppendEntries').filter((m) => m.to === 'n2');
  t.same(first.map((m) => m.prevLogIndex), [before, before + 1, before + 2], 'three messages go out without waiting');
  t.equal(leader.status().progress?.n2?.inflight, 3, 'the window is full');
  t.equal(c.processReady('n1'), null, 'nothing more until an answer comes back');
  c.stabilize();
  t.equal(c.node('n2').lastIndex, leader.lastIndex, 'acks reopen the window until everything is sent');
  t.equal(leader.commitIndex, leader.lastIndex);
});

t.test('pipelining: a follower in probe state gets one AppendEntries at a time', async (t) => {
  const disk: Disk = { hardState: { currentTerm: 1, votedFor: null, commitIndex: 0 }, entries: logOfTerms([1, 1, 1, 1]) };
  const leader = soloLeader(THREE, disk, { maxAppendBytes: 1, maxInflightAppends: 4 });
  t.same(leader.status().progress?.n2, { matchIndex: 0, nextIndex: 5, inflight: 0 }, 'the no-op probe went out');
  for (let k = 0; k < 4; k++) leader.propose(bytes(`p${k}`));
  const toN2 = () => ofType(cycle(leader).messages, 'AppendEntries').filter((m) => m.to === 'n2');
  t.same(toN2(), [], 'new entries wait for the answer to the probe');
  leader.step({ type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 2, success: false, matchIndex: 0, conflictIndex: 3, conflictTerm: 0, readRound: 0, incarnation: 0 });
  t.same(toN2().map((m) => m.prevLogIndex), [2], 'a rejection: one new probe where the hint says');
  leader.step(ack('n2', 2, 3));
  t.same(toN2().map((m) => m.prevLogIndex), [3, 4, 5, 6], 'a match: the follower is pipelined');
  t.equal(leader.status().progress?.n2?.inflight, 4);
});

t.test('pipelining: a lost AppendEntries with a full window is recovered at the heartbeat', async (t) => {
  const c = stableCluster({ maxAppendBytes: 1, maxInflightAppends: 2 });
  const leader = c.node('n1');
  c.drop = (m) => m.type === 'AppendEntries' && m.to === 'n2' && m.entries.length > 0;
  for (let k = 0; k < 4; k++) leader.propose(bytes(`p${k}`));
  c.stabilize();
  t.equal(leader.status().progress?.n2?.inflight, 2, 'the window is full of lost messages');
  c.drop = () => false;
  c.tickAll(6);
  t.equal(c.node('n2').lastIndex, leader.lastIndex, 'the heartbeat exposed the gap and replication resumed');
});

t.test('fast back-off with conflict hints', async (t) => {
  const disk = (terms: number[], currentTerm: number): Disk => ({ hardState: { currentTerm, votedFor: null, commitIndex: 2 }, entries: logOfTerms(terms) });
  const probesTo = (c: TestCluster, to: string) =>
    ofType(c.sent, 'AppendEntries').filter((m) => m.to === to && m.term === c.node('n1').term).length;
  const rejectionsFrom = (c: TestCluster, from: string) =>
    ofType(c.sent, 'AppendEntriesResponse').filter((m) => m.from === from && !m.success).length;

  // The follower holds 50 entries of a term the leader never saw: one rejection skips them all.
  const stale = new TestCluster(3, { preVote: false }, {
    n1: disk([1, 1, 3, 3, 3], 3), n2: disk([1, 1, ...Array<number>(50).fill(2)], 3), n3: disk([1, 1, 3, 3, 3], 3),
  });
  stale.campaign('n1');
  t.equal(stale.leader(), 'n1');
  t.equal(rejectionsFrom(stale, 'n2'), 1, 'one rejection instead of 50');
  t.ok(probesTo(stale, 'n2') <= 3, 'a couple of probes');
  t.equal(stale.node('n2').entryAt(3)?.term, 3, 'the stale suffix is replaced');

  // The follower's conflicting term also exists on the leader: resume after the leader's last entry of it.
  const shared = new TestCluster(3, { preVote: false }, {
    n1: disk([1, 2, 4, 4], 4), n2: disk([1, 2, 2, 2, 2, 2], 4), n3: disk([1, 2, 4, 4], 4),
  });
  shared.campaign('n1');
  t.equal(shared.leader(), 'n1');
  t.equal(rejectionsFrom(shared, 'n2'), 1, 'one rejection');
  t.same([1, 2, 3, 4].map((i) => shared.node('n2').entryAt(i)?.term), [1, 2, 4, 4]);

  // A short follower: the hint is its last index + 1.
  const short = new TestCluster(3, { preVote: false }, {
    n1: disk([1, 1, 1, 1, 1, 1, 1, 1], 1), n2: disk([1, 1], 1), n3: disk([1, 1, 1, 1, 1, 1, 1, 1], 1),
  });
  short.campaign('n1');
  t.equal(rejectionsFrom(short, 'n2'), 1, 'one rejection for six missing entries');
  t.equal(short.node('n2').lastIndex, short.node('n1').lastIndex);
});

t.test('responses from an earlier term are ignored', async (t) => {
  const c = stableCluster();
  const leader = c.node('n1');
  const before = JSON.stringify(leader.status());
  leader.step({ type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 0, success: true, matchIndex: 99, conflictIndex: 0, conflictTerm: 0, readRound: 0, incarnation: 0 });
  leader.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: 0, voteGranted: true, preVote: false });
  t.equal(JSON.stringify(leader.status()), before);
  t.equal(allMessages(leader.ready()).length, 0);
});

t.test('a follower restarted with an empty log (higher incarnation) is caught up from index 1', async (t) => {
  const disk: Disk = { hardState: { currentTerm: 1, votedFor: null, commitIndex: 0 }, entries: logOfTerms([1, 1, 1]) };
  const leader = soloLeader(THREE, disk);
  leader.step(ack('n2', 2, 4));
  cycle(leader);
  t.equal(leader.status().progress?.n2?.matchIndex, 4, 'n2 matched everything');
  const reject = (incarnation: number): AppendEntriesResponse => ({
    type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 2, success: false, matchIndex: 0,
    conflictIndex: 1, conflictTerm: 0, readRound: 0, incarnation,
  });
  leader.step(reject(0));
  t.equal(leader.status().progress?.n2?.matchIndex, 4, 'a rejection from the same life below matchIndex is stale: ignored');
  leader.step(reject(7));
  t.equal(leader.status().progress?.n2?.matchIndex, 0, 'a new incarnation: the match is re-learned');
  const sent = ofType(cycle(leader).messages, 'AppendEntries').filter((m) => m.to === 'n2');
  t.same(sent.map((m) => m.prevLogIndex), [0], 'the wiped follower is sent the log from the start');
  leader.step(ack('n2', 2, 4));
  t.equal(leader.status().progress?.n2?.matchIndex, 0, 'an ack from the old incarnation is ignored');
  t.equal(leader.commitIndex, 4, 'commitIndex never goes back');
});

