/** Log compaction and InstallSnapshot: Raft §7, Figure 13. */
import t from 'tap';
import { InvariantError } from '../common/invariant.js';
import { isWellFormed } from './message-guard.js';
import { allMessages, bytes, cycle, emptyDisk, entriesFrom, ofType, snapshotBytes, soloNode, storeSnapshot, TestCluster, text, type Disk } from './sim/test-cluster.js';
import type { InstallSnapshot, InstallSnapshotResponse, RaftMessage } from './types.js';

const THREE = ['n1', 'n2', 'n3'];

function installSnapshot(fields: Partial<Omit<InstallSnapshot, 'type' | 'from' | 'to'>>): InstallSnapshot {
  return {
    type: 'InstallSnapshot', from: 'n1', to: 'n2', term: 3, lastIncludedIndex: 3, lastIncludedTerm: 3,
    chunk: 0, chunks: 1, data: bytes('state'), readRound: 0,
    membership: { voters: THREE, learners: [], addresses: {} }, ...fields,
  };
}

function snapshotAnswer(messages: RaftMessage[]): InstallSnapshotResponse | undefined {
  return ofType(messages, 'InstallSnapshotResponse')[0];
}

/** A 3-replica cluster, n1 leader, with `count` commands committed and applied everywhere. */
function clusterWith(count: number, snapshotChunkBytes = 1 << 20): TestCluster {
  const c = new TestCluster(3);
  c.snapshotChunkBytes = snapshotChunkBytes;
  c.campaign('n1');
  for (let k = 1; k <= count; k++) c.node('n1').propose(bytes(`c${k}`));
  c.stabilize();
  c.tickAll(3);
  return c;
}

t.test('compaction drops entries covered by the snapshot (§7)', async (t) => {
  const c = clusterWith(5); // 1: no-op, 2..6: c1..c5
  const n2 = c.node('n2');
  t.equal(n2.commitIndex, 6);
  t.throws(() => n2.compact(7, 1), InvariantError, 'never beyond the log');
  const n1 = c.node('n1');
  n1.propose(bytes('uncommitted'));
  c.processReady('n1'); // 7 is on n1's disk, not yet committed
  t.equal(n1.lastIndex, 7);
  t.throws(() => n1.compact(7, 1), InvariantError, 'never beyond the applied (so committed) index');
  c.stabilize();
  t.ok(c.compact('n2', 4), 'a snapshot at applied index 4');
  t.equal(n2.snapshotIndex, 4);
  t.equal(n2.status().snapshotIndex, 4, 'status() reports it');
  t.equal(n2.entryAt(4), undefined, 'entries up to the snapshot are gone');
  t.equal(text(n2.entryAt(5)), 'c4', 'the entries after it remain');
  t.equal(n2.lastIndex, 7);
  const rd = c.processReady('n2');
  t.equal(rd?.compactTo, 4, 'the Ready tells the runtime to delete entries <= 4 on disk');
  t.same(rd?.entries, [], 'nothing is rewritten');
  t.same(c.disks.get('n2')?.entries.map((e) => e.index), [5, 6, 7]);
  t.notOk(n2.compact(3, 1), 'a snapshot not past the current one changes nothing');
  t.notOk(n2.hasReady());
  // The log still works at its new start: AppendEntries checks prevLogTerm at the snapshot index.
  c.node('n1').propose(bytes('c6'));
  c.stabilize();
  t.equal(text(n2.entryAt(8)), 'c6');
  t.equal(n2.commitIndex, 8);
});

t.test('a follower behind the snapshot gets InstallSnapshot chunk by chunk', async (t) => {
  const c = clusterWith(2, 4);
  c.isolate('n3');
  for (let k = 3; k <= 6; k++) c.node('n1').propose(bytes(`c${k}`));
  c.stabilize();
  t.equal(c.node('n1').commitIndex, 7);
  const state = bytes('0123456789'); // the leader's state machine as of index 6: 10 bytes
  t.ok(c.compact('n1', 6, state));
  c.stabilize();
  const before = c.sent.length;
  c.heal();
  c.tickAll(6);
  const chunks = ofType(c.sent.slice(before), 'InstallSnapshot').filter((m) => m.to === 'n3');
  t.same(chunks.map((m) => [m.chunk, m.chunks, m.data.byteLength]), [[0, 3, 4], [1, 3, 4], [2, 3, 2]],
    'the stored chunks in order, each with the bytes the runtime filled in');
  t.ok(chunks.every((m) => m.lastIncludedIndex === 6 && m.lastIncludedTerm === c.node('n1').term));
  const installed = c.installed.get('n3') ?? [];
  t.equal(installed.length, 1, 'n3 installed it once');
  t.same([installed[0]?.index, installed[0]?.chunks, installed[0]?.data], [6, 3, state], 'the whole snapshot, its chunks stored');
  t.equal(c.disks.get('n3')?.snapshot?.index, 6, 'and saved it');
  const n3 = c.node('n3');
  t.equal(n3.snapshotIndex, 6);
  t.equal(n3.lastIndex, 7, 'then normal replication after it');
  t.same(c.appliedOf('n3').map((e) => e.index), [7], 'entries after the snapshot are applied after it');
  t.equal(c.node('n1').status().progress?.n3?.matchIndex, 7);
});

t.test('a lost chunk is resent and the transfer resumes', async (t) => {
  const c = clusterWith(2, 4);
  c.isolate('n3');
  for (let k = 3; k <= 6; k++) c.node('n1').propose(bytes(`c${k}`));
  c.stabilize();
  t.ok(c.compact('n1', 6, bytes('0123456789')));
  c.stabilize();
  let dropped = 0;
  c.drop = (m) => m.type === 'InstallSnapshot' && m.chunk === 1 && dropped++ === 0;
  const before = c.sent.length;
  c.heal();
  c.tickAll(12);
  const sent = ofType(c.sent.slice(before), 'InstallSnapshot').filter((m) => m.to === 'n3').map((m) => m.chunk);
  t.same(sent, [0, 1, 1, 2], 'the lost chunk is sent again (on the heartbeat timeout), then the rest');
  t.equal(c.node('n3').snapshotIndex, 6);
  t.equal(c.node('n3').commitIndex, 7);

  // Follower side: a chunk other than the next one expected is answered with the one expected.
  const disk = emptyDisk();
  const node = soloNode('n2', THREE, {}, disk);
  node.step(installSnapshot({ chunk: 0, chunks: 3, data: bytes('0123') }));
  const first = cycle(node, disk);
  t.same(snapshotAnswer(allMessages(first)), {
    type: 'InstallSnapshotResponse', from: 'n2', to: 'n1', term: 3, lastIncludedIndex: 3, nextChunk: 1, done: false, readRound: 0, incarnation: 0,
  });
  t.same(first.snapshotChunks, [{ index: 3, chunk: 0, data: bytes('0123') }], 'the chunk is handed to the runtime to store');
  node.step(installSnapshot({ chunk: 2, chunks: 3, data: bytes('89') }));
  const skip = cycle(node, disk);
  t.equal(snapshotAnswer(skip.messages)?.nextChunk, 1, 'resume from chunk 1 (at once: nothing durable is claimed)');
  t.same([skip.snapshot, skip.snapshotChunks], [null, []], 'nothing stored or installed from a gap');
  node.step(installSnapshot({ chunk: 0, chunks: 3, data: bytes('0123') }));
  t.equal(snapshotAnswer(cycle(node, disk).messages)?.nextChunk, 1, 'a duplicate is not taken twice');
  node.step(installSnapshot({ chunk: 1, chunks: 3, data: bytes('4567') }));
  cycle(node, disk);
  node.step(installSnapshot({ chunk: 2, chunks: 3, data: bytes('89') }));
  const rd = cycle(node, disk);
  t.same(rd.snapshot, {
    index: 3, term: 3, chunks: 3, membership: { voters: THREE, learners: [], addresses: {} },
  }, 'the snapshot carries its configuration (dissertation §5.1)');
  t.same(snapshotBytes(disk, 3), bytes('0123456789'), 'and its chunks are all stored');
  t.equal(snapshotAnswer(rd.messagesAfterPersist)?.done, true);
  t.equal(snapshotAnswer(rd.messages), undefined, 'the answer waits until the snapshot is durable');
});

t.test('a transfer survives a new term: the same leader resumes where it stopped (seed 286248153)', async (t) => {
  // Without pre-vote and check-quorum, a removed server's RequestVotes raise the term every
  // election timeout (dissertation §4.2.3). If each new term restarted the transfer, a snapshot of
  // more chunks than fit in one term would never complete, and a leader that needs this follower
  // for a majority would never commit again.
  const disk = emptyDisk();
  const node = soloNode('n2', THREE, { preVote: false, checkQuorum: false }, disk);
  node.step(installSnapshot({ chunk: 0, chunks: 3, data: bytes('0123') }));
  cycle(node, disk);
  node.step(installSnapshot({ chunk: 1, chunks: 3, data: bytes('4567') }));
  cycle(node, disk);
  node.step({ type: 'RequestVote', from: 'n3', to: 'n2', term: 4, lastLogIndex: 0, lastLogTerm: 0, preVote: false });
  cycle(node, disk);
  t.equal(node.term, 4, 'a disruptive candidate raised the term');
  node.step(installSnapshot({ term: 5, chunk: 0, chunks: 3, data: bytes('0123') }));
  const resumed = cycle(node, disk);
  t.equal(snapshotAnswer(allMessages(resumed))?.nextChunk, 2, 'n1, leader again in term 5, is asked for chunk 2, not 0');
  t.same(resumed.snapshotChunks, [], 'chunk 0 is not stored twice');
  node.step(installSnapshot({ term: 5, chunk: 2, chunks: 3, data: bytes('89') }));
  const rd = cycle(node, disk);
  t.equal(rd.snapshot?.index, 3, 'the snapshot completes with the chunks of both terms');
  t.same(snapshotBytes(disk, 3), bytes('0123456789'));
  t.equal(snapshotAnswer(rd.messagesAfterPersist)?.done, true);

  // Another leader's snapshot, or another snapshot, starts over.
  const other = soloNode('n2', THREE, { preVote: false, checkQuorum: false }, emptyDisk());
  other.step(installSnapshot({ chunk: 0, chunks: 3, data: bytes('0123') }));
  cycle(other);
  other.step({ ...installSnapshot({ term: 4, chunk: 1, chunks: 3, data: bytes('4567') }), from: 'n3' });
  t.equal(snapshotAnswer(allMessages(cycle(other)))?.nextChunk, 0, 'from another leader, chunk 0 is needed again');
});

t.test('InstallSnapshot discards a conflicting log (§7 Figure 13 rules 6–7)', async (t) => {
  // Rule 7: the log has index 3 with another term: the whole log goes.
  const disk: Disk = { hardState: { currentTerm: 2, votedFor: null, commitIndex: 1 }, entries: entriesFrom(1, [1, 1, 2, 2]) };
  const node = soloNode('n2', THREE, {}, disk);
  node.step(installSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 3 }));
  const rd = cycle(node, disk);
  t.same(rd.snapshot, { index: 3, term: 3, chunks: 1, membership: { voters: THREE, learners: [], addresses: {} } }, 'rule 8: the runtime resets its state machine from it');
  t.same(snapshotBytes(disk, 3), bytes('state'));
  t.equal(rd.compactTo, 3);
  t.equal(rd.truncateFrom, 4, 'rule 7: the conflicting entry after it is deleted too');
  t.same(rd.committed, [], 'nothing before the snapshot is applied');
  t.same(disk.entries, [], 'the disk log is empty');
  t.equal(node.lastIndex, 3);
  t.equal(node.commitIndex, 3);
  t.equal(node.status().lastLogTerm, 3, 'the last term is the snapshot term');
  t.equal(snapshotAnswer(rd.messagesAfterPersist)?.done, true);
  node.step({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 3, prevLogIndex: 3, prevLogTerm: 3, entries: entriesFrom(4, [3]), leaderCommit: 4, readRound: 0 });
  const next = cycle(node, disk);
  t.equal(ofType(allMessages(next), 'AppendEntriesResponse')[0]?.success, true, 'AppendEntries matches at the snapshot index');
  t.same(next.committed.map((e) => e.index), [4]);

  // Rule 6: the log holds the snapshot's last entry: the entries after it are kept.
  const disk6: Disk = { hardState: { currentTerm: 2, votedFor: null, commitIndex: 1 }, entries: entriesFrom(1, [1, 1, 2, 2, 2]) };
  const keep = soloNode('n2', THREE, {}, disk6);
  keep.step(installSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 2 }));
  const rd6 = cycle(keep, disk6);
  t.equal(rd6.compactTo, 3);
  t.equal(rd6.truncateFrom, null);
  t.same(disk6.entries.map((e) => e.index), [4, 5], 'rule 6: retain the entries following it');
  t.equal(keep.lastIndex, 5);
  t.equal(keep.commitIndex, 3);
});

t.test('InstallSnapshot with an older snapshot than the follower\'s is ignored', async (t) => {
  const disk: Disk = { hardState: { currentTerm: 3, votedFor: null, commitIndex: 5 }, entries: entriesFrom(1, [1, 1, 2, 3, 3, 3]) };
  const node = soloNode('n2', THREE, {}, disk);
  cycle(node, disk);
  node.step(installSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 3 }));
  const rd = cycle(node, disk);
  t.equal(rd.snapshot, null, 'not installed: it covers nothing we have not committed');
  t.equal(rd.compactTo, null);
  t.equal(node.lastIndex, 6, 'the log is untouched');
  t.equal(node.commitIndex, 5);
  const answer = snapshotAnswer(rd.messagesAfterPersist);
  t.same([answer?.done, answer?.lastIncludedIndex], [true, 4], 'answered done: we hold all of it');
  // A stale leader's InstallSnapshot is refused with our term (Figure 13 rule 1).
  node.step(installSnapshot({ term: 2, lastIncludedIndex: 6, lastIncludedTerm: 2 }));
  const stale = cycle(node, disk);
  t.same([stale.snapshot, snapshotAnswer(stale.messagesAfterPersist)?.term], [null, 3]);
});

t.test('an AppendEntries below the snapshot matches up to the snapshot only (§7)', async (t) => {
  // Snapshot at 3 (committed); 4..5 of term 2 are uncommitted and may conflict with the leader.
  const disk: Disk = { hardState: { currentTerm: 2, votedFor: null, commitIndex: 3 }, entries: entriesFrom(4, [2, 2]) };
  storeSnapshot(disk, { index: 3, term: 2 }, bytes('sm@3'));
  const node = soloNode('n2', THREE, {}, disk);
  cycle(node, disk);
  node.step({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 3, prevLogIndex: 1, prevLogTerm: 1, entries: entriesFrom(2, [1, 2]), leaderCommit: 3, readRound: 4 });
  const answer = ofType(cycle(node, disk).messagesAfterPersist, 'AppendEntriesResponse')[0];
  t.same([answer?.success, answer?.matchIndex, answer?.readRound], [true, 3, 4], 'it matches the leader up to its snapshot, not beyond');
  t.equal(node.lastIndex, 5, 'nothing it cannot check is touched');
});

t.test('restart from snapshot plus log tail', async (t) => {
  const c = clusterWith(5);
  t.ok(c.compact('n2', 4, bytes('sm@4')));
  c.flush();
  c.crash('n2');
  c.restart('n2');
  const n2 = c.node('n2');
  t.equal(n2.snapshotIndex, 4);
  t.equal(n2.lastIndex, 6);
  t.equal(n2.commitIndex, 6);
  const rd = c.processReady('n2');
  t.same(rd?.committed.map((e) => e.index), [5, 6], 'only the tail is re-applied; the runtime restored 1..4 from the snapshot');
  c.node('n1').propose(bytes('c6'));
  c.stabilize();
  t.equal(n2.commitIndex, 7, 'and it keeps replicating');

  // A crash between saving the snapshot and the Ready deleting the covered entries.
  const torn: Disk = { hardState: { currentTerm: 2, votedFor: null, commitIndex: 2 }, entries: entriesFrom(1, [1, 1, 2, 2, 2]) };
  storeSnapshot(torn, { index: 3, term: 2 }, bytes('sm@3'));
  const node = soloNode('n2', THREE, {}, torn);
  t.same([node.snapshotIndex, node.lastIndex, node.commitIndex], [3, 5, 3], 'commitIndex is at least the snapshot');
  const first = cycle(node, torn);
  t.equal(first.compactTo, 3, 'the covered entries left on disk are deleted');
  t.same(torn.entries.map((e) => e.index), [4, 5]);

  // An installed snapshot saved, its log batch lost: a conflicting log is discarded on restart.
  const split: Disk = { hardState: { currentTerm: 2, votedFor: null, commitIndex: 1 }, entries: entriesFrom(1, [1, 1, 2, 2]) };
  storeSnapshot(split, { index: 3, term: 3 }, bytes('sm@3'));
  const fresh = soloNode('n2', THREE, {}, split);
  t.same([fresh.lastIndex, fresh.status().lastLogTerm], [3, 3]);
  const fix = cycle(fresh, split);
  t.same([fix.compactTo, fix.truncateFrom], [3, 4]);
  t.same(split.entries, []);
});

t.test('a leader restarted from a snapshot can still send it', async (t) => {
  const c = clusterWith(3, 3);
  c.isolate('n3');
  c.node('n1').propose(bytes('c4'));
  c.stabilize();
  t.ok(c.compact('n1', 5, bytes('snap5')));
  c.flush();
  c.crash('n1');
  c.tick('n2', 10); // n2's leader lease ends (it would refuse n1's pre-vote), before its own timeout
  c.restart('n1');
  t.equal(c.node('n1').snapshotIndex, 5);
  c.campaign('n1');
  t.equal(c.leader(), 'n1');
  c.heal();
  c.tickAll(10);
  t.equal(c.installed.get('n3')?.[0]?.index, 5);
  t.same(c.installed.get('n3')?.[0]?.data, bytes('snap5'));
  t.equal(c.node('n3').commitIndex, c.node('n1').commitIndex);
});

t.test('malformed InstallSnapshot messages are ignored', async (t) => {
  t.ok(isWellFormed(installSnapshot({})));
  t.notOk(isWellFormed(installSnapshot({ chunk: -1 })));
  t.notOk(isWellFormed(installSnapshot({ chunk: 1, chunks: 1 })), 'a chunk beyond the last');
  t.notOk(isWellFormed(installSnapshot({ chunks: 0 })));
  t.notOk(isWellFormed(installSnapshot({ lastIncludedIndex: 0 })));
  t.notOk(isWellFormed(installSnapshot({ lastIncludedTerm: 4 })), 'a snapshot term above the message term');
  t.notOk(isWellFormed(installSnapshot({ data: 'x' as unknown as Uint8Array })));
  const node = soloNode('n2', THREE);
  node.step(installSnapshot({ chunks: 'all' as unknown as number }));
  t.notOk(node.hasReady());
});

/** Every Ready.snapshotWanted that `id` hands out from now on. */
function watchWanted(c: TestCluster, id: string): Array<number | null> {
  const wanted: Array<number | null> = [];
  const processReady = c.processReady.bind(c);
  c.processReady = (of) => {
    const rd = processReady(of);
    if (of === id && rd !== null) wanted.push(rd.snapshotWanted);
    return rd;
  };
  return wanted;
}

t.test('the core asks for a snapshot once snapshotEvery entries follow the last one (§7, Ready.snapshotWanted)', async (t) => {
  const c = new TestCluster(3, { snapshotEvery: 4 });
  const wanted = watchWanted(c, 'n2');
  c.campaign('n1'); // 1: the leader's no-op
  for (let k = 1; k <= 2; k++) c.node('n1').propose(bytes(`c${k}`));
  c.stabilize();
  c.tickAll(3);
  t.equal(c.node('n2').commitIndex, 3);
  t.same(new Set(wanted), new Set([null]), 'three entries handed out to apply: no snapshot wanted');
  c.node('n1').propose(bytes('c3'));
  c.stabilize();
  c.tickAll(3);
  t.equal(c.node('n2').commitIndex, 4);
  t.equal(wanted.at(-1), 4, 'four: a snapshot at 4 is wanted');
  c.tickAll(3);
  t.equal(wanted.at(-1), 4, 'and asked again in every Ready until one is saved');
  t.ok(c.compact('n2', 4), 'the runtime saves one at 4 and compacts');
  c.tickAll(3);
  t.equal(wanted.at(-1), null, 'covered: no longer wanted');
  const never = new TestCluster(3, { snapshotEvery: 0 });
  const asked = watchWanted(never, 'n2');
  never.campaign('n1');
  for (let k = 1; k <= 10; k++) never.node('n1').propose(bytes(`c${k}`));
  never.stabilize();
  never.tickAll(3);
  t.equal(never.node('n2').commitIndex, 11);
  t.same(new Set(asked), new Set([null]), 'snapshotEvery 0: never asked');
});
