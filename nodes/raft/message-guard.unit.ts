import t from 'tap';
import { isRaftMessage } from './message-guard.js';

t.test('peer frames that are not Raft messages are refused', async (t) => {
  const vote = { type: 'RequestVote', from: 'n1', to: 'n2', term: 3, lastLogIndex: 4, lastLogTerm: 2, preVote: false };
  t.ok(isRaftMessage(vote));
  for (const bad of [null, 42, 'x', [], {}, { ...vote, type: 'Nope' }, { ...vote, from: 7 }, { ...vote, term: -1 },
    { ...vote, to: '' }, { type: 'AppendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, readRound: 0, entries: [{ index: 5 }] }]) {
    t.notOk(isRaftMessage(bad), JSON.stringify(bad));
  }
});
