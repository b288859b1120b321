/** A core must never crash on, or be misled by, what peers send (docs/design.md §2.4). */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { isWellFormed } from './message-guard.js';
import { appendEntries, ofType, requestVote, soloNode, TestCluster } from './sim/test-cluster.js';
import type { RaftMessage } from './types.js';

const THREE = ['n1', 'n2', 'n3'];

t.test('messages addressed to another replica, or claiming to come from this one, are ignored', async (t) => {
  const node = soloNode('n2', THREE);
  node.step(requestVote('n1', 'n3', { term: 5 }));
  node.step(appendEntries('n1', 'n3', { term: 5 }));
  node.step(requestVote('n2', 'n2', { term: 5 }));
  node.step(appendEntries('n2', 'n2', { term: 5 }));
  t.equal(node.term, 0);
  t.equal(node.hasReady(), false);
});

t.test('dissertation §4.1: RPCs from servers outside the configuration are processed', async (t) => {
  // A server joining an existing cluster does not know its configuration yet: it must take the
  // leader's AppendEntries (peers are authenticated by the transport, not by the configuration).
  const node = soloNode('n4', THREE);
  node.step(appendEntries('n5', 'n4', { term: 5 }));
  t.equal(node.term, 5);
  t.equal(node.leader, 'n5');
});

t.test('malformed messages are ignored, never thrown on', async (t) => {
  const node = soloNode('n2', THREE);
  const bad = [
    { type: 'Nonsense', from: 'n1', to: 'n2', term: 1 },
    { ...requestVote('n1', 'n2', {}), term: -1 },
    { ...requestVote('n1', 'n2', {}), term: 1.5 },
    { ...requestVote('n1', 'n2', {}), lastLogIndex: '3' },
    appendEntries('n1', 'n2', { prevLogIndex: Number.NaN }),
    appendEntries('n1', 'n2', { entries: [{ index: 5, term: 1, kind: 'noop', data: null }] }),
    appendEntries('n1', 'n2', { term: 1, entries: [{ index: 1, term: 2, kind: 'noop', data: null }] }),
    appendEntries('n1', 'n2', { entries: [{ index: 1, term: 1, kind: 'command', data: 'text' as unknown as Uint8Array }] }),
    { ...appendEntries('n1', 'n2', {}), entries: 'x' },
  ] as unknown as RaftMessage[];
  for (const m of bad) t.doesNotThrow(() => node.step(m), JSON.stringify(m));
  t.equal(node.term, 0, 'none of them had any effect');
  t.equal(node.lastIndex, 0);
});

t.test('duplicated, reordered and lost messages leave the logs consistent', async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const rng = new SeededRng(seed);
    const c = new TestCluster(3, {}, {}, seed);
    c.campaign('n1');
    c.drop = () => rng.chance(0.1);
    for (let round = 0; round < 30; round++) {
      const leader = c.leader();
      if (leader !== null) c.node(leader).propose(new Uint8Array([seed, round]));
      // Replay a random earlier message: a duplicate arriving late and out of order.
      const old = c.sent[rng.int(c.sent.length)];
      if (old !== undefined) c.node(old.to).step(old);
      c.tickAll(1);
    }
    c.drop = () => false;
    c.tickAll(30);
    const leader = c.leader();
    t.ok(leader !== null, `seed ${seed}: a leader`);
    const applied = c.ids.map((id) => c.appliedOf(id).map((e) => `${e.index}@${e.term}`));
    const longest = applied.reduce((a, b) => (b.length > a.length ? b : a));
    for (const log of applied) t.same(log, longest.slice(0, log.length), `seed ${seed}: applied logs are prefixes of each other`);
    t.ok(longest.length > 10, `seed ${seed}: commands were committed (${longest.length})`);
  }
});

t.test('fast back-off (§5.3): a rejection that does not move nextIndex back is stale or false, and ignored', async (t) => {
  // A follower's hint is at most the prevLogIndex it rejected, and never at or below a match it
  // acknowledged in this term (Log Matching). A follower with a bug that claimed a longer match
  // than it holds then rejects every probe at matchIndex + 1; answering each rejection with the
  // same probe at once is a message storm with no tick in between (found by fuzz.test.ts).
  const c = new TestCluster(3);
  c.campaign('n1');
  for (let k = 0; k < 4; k++) c.node('n1').propose(new Uint8Array([k]));
  c.stabilize();
  c.drop = (m) => m.to === 'n2'; // n2 misses the next two entries
  for (let k = 0; k < 2; k++) c.node('n1').propose(new Uint8Array([9, k]));
  c.stabilize();
  c.drop = () => false;
  const leader = c.node('n1');
  const lie = { type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: leader.term, readRound: 0, incarnation: 0 } as const;
  const claimed = leader.lastIndex - 1; // n2 holds lastIndex - 2
  leader.step({ ...lie, success: true, matchIndex: claimed, conflictIndex: 0, conflictTerm: 0 });
  t.equal(leader.status().progress?.['n2']?.matchIndex, claimed, 'the leader believes the lie');
  t.doesNotThrow(() => c.tickAll(5), 'the next heartbeat is rejected, and the rejection is not answered at once');
  t.ok(c.node('n2').lastIndex < leader.lastIndex, 'n2 stays behind (it lied), but no storm');
});

t.test('terms and indices above 2^52 are refused by the message guard (the core counts up from them)', async (t) => {
  const node = soloNode('n2', THREE);
  const huge = 2 ** 52 + 1;
  t.notOk(isWellFormed(requestVote('n1', 'n2', { term: huge })));
  t.notOk(isWellFormed(appendEntries('n1', 'n2', { term: 1, prevLogIndex: Number.MAX_SAFE_INTEGER })));
  t.ok(isWellFormed(requestVote('n1', 'n2', { term: 2 ** 52 })), '2^52 itself is fine');
  node.step(requestVote('n1', 'n2', { term: huge }));
  t.equal(node.term, 0, 'ignored');
});
