/** Leader election: Raft §5.2, §5.4.1, §5.1, pre-vote (dissertation §9.6), check-quorum. */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { RaftNode } from './raft-node.js';
import {
  allMessages,
  cycle,
  emptyDisk,
  logOfTerms,
  ofType,
  requestVote,
  soloNode,
  TEST_CONFIG,
  TestCluster,
  type Disk,
} from './sim/test-cluster.js';
import type { RequestVoteResponse } from './types.js';

const THREE = ['n1', 'n2', 'n3'];
const NO_PREVOTE = { preVote: false, checkQuorum: false };

function voteAnswer(node: RaftNode, disk?: Disk): RequestVoteResponse | undefined {
  return ofType(allMessages(cycle(node, disk)), 'RequestVoteResponse')[0];
}

t.test('election safety: at most one leader per term', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const c = new TestCluster(5, NO_PREVOTE, {}, seed);
    const rng = new SeededRng(seed);
    c.drop = () => rng.chance(0.2);
    const leaders = new Map<number, string>();
    const violations: string[] = [];
    // Two replicas campaign in the same term, then everyone runs with lossy links.
    c.tick('n1', 20);
    c.tick('n2', 20);
    for (let tick = 0; tick < 200; tick++) {
      c.tickAll(1);
      for (const id of c.ids) {
        const node = c.node(id);
        if (node.role !== 'leader') continue;
        const known = leaders.get(node.term) ?? id;
        if (known !== id) violations.push(`${known} and ${id} lead term ${node.term}`);
        leaders.set(node.term, id);
      }
    }
    t.same(violations, [], `seed ${seed}: one leader per term`);
    t.ok(leaders.size > 0, `seed ${seed}: some leader was elected`);
  }
});

t.test('one vote per term (§5.2)', async (t) => {
  const disk = emptyDisk();
  const n3 = soloNode('n3', THREE, NO_PREVOTE, disk);
  n3.step(requestVote('n1', 'n3', { term: 1 }));
  t.equal(voteAnswer(n3, disk)?.voteGranted, true, 'first candidate of the term gets the vote');
  n3.step(requestVote('n2', 'n3', { term: 1 }));
  t.equal(voteAnswer(n3, disk)?.voteGranted, false, 'a second candidate of the same term does not');
  n3.step(requestVote('n1', 'n3', { term: 1 }));
  t.equal(voteAnswer(n3, disk)?.voteGranted, true, 'a retried request from the same candidate is granted again');
  t.same(disk.hardState, { currentTerm: 1, votedFor: 'n1', commitIndex: 0 }, 'the vote is on disk');

  const restarted = soloNode('n3', THREE, NO_PREVOTE, disk);
  restarted.step(requestVote('n2', 'n3', { term: 1 }));
  t.equal(voteAnswer(restarted, disk)?.voteGranted, false, 'the vote survives a restart');
  restarted.step(requestVote('n2', 'n3', { term: 2 }));
  t.equal(voteAnswer(restarted, disk)?.voteGranted, true, 'a new term brings a new vote');
});

t.test("candidate's log must be up to date to win (§5.4.1)", async (t) => {
  const voterDisk = (): Disk => ({ hardState: { currentTerm: 2, votedFor: null, commitIndex: 0 }, entries: logOfTerms([1, 1, 2]) });
  const cases = [
    { lastLogIndex: 5, lastLogTerm: 1, granted: false, why: 'lower last term loses even when longer' },
    { lastLogIndex: 2, lastLogTerm: 2, granted: false, why: 'same last term but shorter loses' },
    { lastLogIndex: 3, lastLogTerm: 2, granted: true, why: 'same last term and as long wins' },
    { lastLogIndex: 1, lastLogTerm: 3, granted: true, why: 'higher last term wins even when shorter' },
  ];
  for (const c of cases) {
    const voter = soloNode('n3', THREE, NO_PREVOTE, voterDisk());
    voter.step(requestVote('n1', 'n3', { term: 3, lastLogIndex: c.lastLogIndex, lastLogTerm: c.lastLogTerm }));
    t.equal(voteAnswer(voter)?.voteGranted, c.granted, c.why);
  }

  // In a cluster: the replica missing an entry cannot become leader.
  const long = (): Disk => ({ hardState: { currentTerm: 1, votedFor: null, commitIndex: 0 }, entries: logOfTerms([1, 1]) });
  const short: Disk = { hardState: { currentTerm: 1, votedFor: null, commitIndex: 0 }, entries: logOfTerms([1]) };
  const c = new TestCluster(3, NO_PREVOTE, { n1: short, n2: long(), n3: long() });
  c.campaign('n1');
  t.not(c.node('n1').role, 'leader', 'the stale replica loses');
  t.equal(c.node('n1').term, 2, 'it did campaign');
  c.campaign('n2');
  t.equal(c.leader(), 'n2', 'an up-to-date replica wins');
});

t.test('randomized election timeout in [T, 2T) (§5.2)', async (t) => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 50; seed++) {
    const node = soloNode('n1', THREE, NO_PREVOTE, emptyDisk(), seed);
    let ticks = 0;
    while (node.role === 'follower') {
      node.tick();
      ticks++;
    }
    t.ok(ticks >= TEST_CONFIG.electionTimeoutTicks && ticks < 2 * TEST_CONFIG.electionTimeoutTicks, `timeout ${ticks}`);
    seen.add(ticks);
  }
  t.ok(seen.size >= 5, 'timeouts are spread out');
});

t.test('a RequestVote it refuses does not restart the election timeout (Figure 2; seed 62962882)', async (t) => {
  // n1 holds two entries; a stale n2 (one entry) asks for votes in a new term every few ticks,
  // faster than n1's timeout. Only AppendEntries from the leader or a granted vote restart it, so
  // n1 still campaigns within 2T ticks (and could win: n2's log is behind its own).
  const disk: Disk = { hardState: { currentTerm: 1, votedFor: null, commitIndex: 0 }, entries: logOfTerms([1, 1]) };
  const n1 = soloNode('n1', THREE, NO_PREVOTE, disk);
  let ticks = 0;
  for (let term = 2; n1.role === 'follower' && ticks < 2 * TEST_CONFIG.electionTimeoutTicks; term++) {
    n1.step(requestVote('n2', 'n1', { term, lastLogIndex: 1, lastLogTerm: 1 }));
    t.equal(voteAnswer(n1, disk)?.voteGranted, false, `term ${term}: the stale candidate is refused (§5.4.1)`);
    for (let k = 0; k < 3 && n1.role === 'follower'; k++, ticks++) n1.tick();
  }
  t.equal(n1.role, 'candidate', `n1 campaigned after ${ticks} ticks despite a new term every 3 ticks`);
  t.ok(ticks < 2 * TEST_CONFIG.electionTimeoutTicks, 'within its randomized timeout');
});

t.test('a candidate that hears from the leader of its term becomes a follower (§5.2)', async (t) => {
  const node = soloNode('n2', THREE, NO_PREVOTE);
  for (let k = 0; k < 20 && node.role !== 'candidate'; k++) node.tick();
  t.equal(node.role, 'candidate');
  node.step({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
  t.equal(node.role, 'follower');
  t.equal(node.leader, 'n1');
  t.equal(node.term, 1);
});

t.test('a higher term in a response makes a leader step down (§5.1)', async (t) => {
  const c = new TestCluster(3, NO_PREVOTE);
  c.campaign('n1');
  t.equal(c.leader(), 'n1');
  c.node('n1').step({
    type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 7, success: false,
    matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0, incarnation: 0,
  });
  t.equal(c.node('n1').role, 'follower');
  t.equal(c.node('n1').term, 7);
  t.equal(c.node('n1').leader, null);
});

t.test('pre-vote does not disrupt a stable leader (§9.6)', async (t) => {
  const c = new TestCluster(3);
  c.campaign('n1');
  t.equal(c.leader(), 'n1');
  const term = c.node('n1').term;
  // n3 loses the leader but still reaches n2, which hears from the leader all the time.
  c.cutLink('n1', 'n3');
  c.tickAll(100);
  const preVotes = ofType(c.sent, 'RequestVote').filter((m) => m.from === 'n3');
  t.ok(preVotes.length > 0 && preVotes.every((m) => m.preVote), 'n3 only ever asked for pre-votes');
  t.equal(c.leader(), 'n1', 'the leader kept its job');
  for (const id of c.ids) t.equal(c.node(id).term, term, `${id} kept term ${term}`);
});

t.test('pre-vote: partitioned node does not inflate its term', async (t) => {
  for (const preVote of [true, false]) {
    const c = new TestCluster(3, { preVote });
    c.campaign('n1');
    const term = c.node('n1').term;
    c.isolate('n3');
    c.tickAll(100);
    if (preVote) t.equal(c.node('n3').term, term, 'with pre-vote the isolated node stays in its term');
    else t.ok(c.node('n3').term > term + 3, 'without pre-vote it keeps incrementing its term');
    c.heal();
    c.tickAll(50);
    if (preVote) {
      t.equal(c.leader(), 'n1', 'on rejoining it does not depose the leader');
      t.equal(c.node('n1').term, term, 'nor change the term');
    }
    t.ok(c.leader() !== null, 'the cluster has a leader after healing');
  }
});

t.test('pre-vote: granting a pre-vote changes no state and needs no persist', async (t) => {
  const node = soloNode('n2', THREE);
  node.step(requestVote('n1', 'n2', { term: 1, preVote: true }));
  const rd = cycle(node);
  t.equal(rd.hardState, null, 'nothing to persist');
  t.same(ofType(rd.messages, 'RequestVoteResponse').map((m) => [m.voteGranted, m.term, m.preVote]), [[true, 1, true]]);
  t.equal(rd.messagesAfterPersist.length, 0);
  t.equal(node.term, 0, 'term unchanged');
  t.equal(node.status().votedFor, null, 'no vote recorded');
});

t.test('pre-vote: a follower that hears from its leader refuses pre-votes', async (t) => {
  const node = soloNode('n2', THREE);
  node.step({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
  cycle(node);
  node.step(requestVote('n3', 'n2', { term: 2, preVote: true }));
  t.equal(ofType(cycle(node).messages, 'RequestVoteResponse')[0]?.voteGranted, false, 'refused within the lease');
  for (let k = 0; k < TEST_CONFIG.electionTimeoutTicks; k++) node.tick();
  node.step(requestVote('n3', 'n2', { term: 2, preVote: true }));
  const answers = ofType(allMessages(cycle(node)), 'RequestVoteResponse');
  t.equal(answers.at(-1)?.voteGranted, true, 'granted once the leader has been silent for an election timeout');
});

t.test('pre-vote: a rejected pre-vote response with a higher term steps the node down', async (t) => {
  const node = soloNode('n1', THREE);
  for (let k = 0; k < 20 && node.role === 'follower'; k++) node.tick();
  t.equal(node.role, 'precandidate');
  t.equal(node.term, 0, 'a pre-candidate keeps its term');
  node.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: 5, voteGranted: false, preVote: true });
  t.equal(node.role, 'follower');
  t.equal(node.term, 5);
});

t.test('pre-vote: a pre-vote majority starts a real election', async (t) => {
  const node = soloNode('n1', THREE);
  for (let k = 0; k < 20 && node.role === 'follower'; k++) node.tick();
  const rd = cycle(node);
  t.same(ofType(rd.messages, 'RequestVote').map((m) => [m.to, m.term, m.preVote]), [['n2', 1, true], ['n3', 1, true]]);
  node.step({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: 1, voteGranted: true, preVote: true });
  t.equal(node.role, 'candidate');
  t.equal(node.term, 1);
  const next = cycle(node);
  t.same(next.hardState, { currentTerm: 1, votedFor: 'n1', commitIndex: 0 });
  t.same(ofType(next.messagesAfterPersist, 'RequestVote').map((m) => [m.to, m.term, m.preVote]), [['n2', 1, false], ['n3', 1, false]]);
});

t.test('check-quorum: isolated leader steps down', async (t) => {
  for (const checkQuorum of [true, false]) {
    const c = new TestCluster(3, { checkQuorum });
    c.campaign('n1');
    c.isolate('n1');
    c.tick('n1', 2 * TEST_CONFIG.electionTimeoutTicks);
    c.stabilize();
    if (checkQuorum) t.equal(c.node('n1').role, 'follower', 'with check-quorum it steps down');
    else t.equal(c.node('n1').role, 'leader', 'without it, it would lead on alone');
  }
});

t.test('check-quorum: a leader that hears from a majority keeps leading', async (t) => {
  const c = new TestCluster(5);
  c.campaign('n1');
  c.isolate('n4');
  c.isolate('n5');
  c.tickAll(5 * TEST_CONFIG.electionTimeoutTicks);
  t.equal(c.leader(), 'n1');
});

t.test('a follower within its leader lease disregards a RequestVote of a higher term (dissertation §4.2.3)', async (t) => {
  const node = soloNode('n2', THREE, { checkQuorum: true });
  node.step({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
  cycle(node);
  node.step(requestVote('n3', 'n2', { term: 2 }));
  t.equal(node.term, 1, 'term not updated');
  t.equal(allMessages(cycle(node)).length, 0, 'no answer');
});
