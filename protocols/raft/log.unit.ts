/** The in-memory log and its disk bookkeeping (log.ts). */
import t from 'tap';
import { InvariantError } from '../common/invariant.js';
import { ENTRY_OVERHEAD_BYTES, RaftLog } from './log.js';
import { entriesFrom, logOfTerms } from './sim/test-cluster.js';

t.test('term lookups: index 0 has term 0, missing indexes have none', async (t) => {
  const log = new RaftLog(logOfTerms([1, 1, 2]));
  t.equal(log.term(0), 0);
  t.equal(log.term(3), 2);
  t.equal(log.term(4), undefined);
  t.equal(log.lastIndex, 3);
  t.equal(log.lastTerm, 2);
  t.ok(log.matchTerm(2, 1));
  t.notOk(log.matchTerm(2, 2));
});

t.test('up-to-date comparison (§5.4.1)', async (t) => {
  const log = new RaftLog(logOfTerms([1, 2, 2]));
  t.ok(log.isUpToDate(3, 2), 'equal');
  t.ok(log.isUpToDate(1, 3), 'higher last term');
  t.notOk(log.isUpToDate(9, 1), 'lower last term');
  t.notOk(log.isUpToDate(2, 2), 'same term, shorter');
  t.ok(new RaftLog([]).isUpToDate(0, 0), 'two empty logs');
});

t.test('first and last index of a term (binary search over non-decreasing terms)', async (t) => {
  const log = new RaftLog(logOfTerms([1, 1, 3, 3, 3, 5]));
  t.equal(log.firstIndexOfTerm(3), 3);
  t.equal(log.lastIndexOfTerm(3), 5);
  t.equal(log.lastIndexOfTerm(1), 2);
  t.equal(log.lastIndexOfTerm(2), 0, 'absent term');
  t.equal(log.lastIndexOfTerm(9), 0);
  t.equal(log.firstIndexOfTerm(4), 6, 'first index with a term >= 4');
});

t.test('sliceBytes bounds a batch but always returns one entry', async (t) => {
  const log = new RaftLog(entriesFrom(1, [1, 1, 1, 1]));
  const size = ENTRY_OVERHEAD_BYTES + (log.entry(1)?.data?.byteLength ?? 0);
  t.equal(log.sliceBytes(1, 2 * size).length, 2);
  t.equal(log.sliceBytes(1, 1).length, 1);
  t.equal(log.sliceBytes(3, 1 << 20).length, 2);
  t.same(log.sliceBytes(5, 1 << 20), []);
});

t.test('append keeps indexes contiguous and terms non-decreasing', async (t) => {
  const log = new RaftLog(logOfTerms([2]));
  t.throws(() => log.append({ index: 3, term: 2, kind: 'noop', data: null }), InvariantError);
  t.throws(() => log.append({ index: 2, term: 1, kind: 'noop', data: null }), InvariantError);
  log.append({ index: 2, term: 2, kind: 'noop', data: null });
  t.equal(log.lastIndex, 2);
  t.throws(() => new RaftLog([{ index: 2, term: 1, kind: 'noop', data: null }]), InvariantError, 'restored logs start at 1');
});

t.test('takeUnstable hands out each entry once and the truncations the disk needs', async (t) => {
  const log = new RaftLog(logOfTerms([1, 1]));
  t.notOk(log.hasUnstable(), 'restored entries are on disk already');
  log.append({ index: 3, term: 1, kind: 'noop', data: null });
  t.same(log.takeUnstable(), { truncateFrom: null, entries: [log.entry(3)] });
  t.notOk(log.hasUnstable());
  log.truncateFrom(2);
  log.append({ index: 2, term: 2, kind: 'noop', data: null });
  const out = log.takeUnstable();
  t.equal(out.truncateFrom, 2, 'index 2 was handed out before: the disk must drop it');
  t.same(out.entries.map((e) => e.term), [2]);
  log.append({ index: 3, term: 2, kind: 'noop', data: null });
  log.truncateFrom(3);
  t.notOk(log.hasUnstable(), 'truncating what the disk never saw needs nothing');
});

t.test('durableIndex follows persisted Readys and truncations', async (t) => {
  const log = new RaftLog(logOfTerms([1]));
  t.equal(log.durableIndex, 1);
  log.append({ index: 2, term: 1, kind: 'noop', data: null });
  log.takeUnstable();
  t.equal(log.durableIndex, 1, 'handed out is not durable');
  log.markPersisted();
  t.equal(log.durableIndex, 2);
  log.append({ index: 3, term: 1, kind: 'noop', data: null });
  log.takeUnstable();
  log.truncateFrom(3); // while the Ready is being persisted
  log.append({ index: 3, term: 2, kind: 'noop', data: null });
  log.markPersisted();
  t.equal(log.durableIndex, 2, 'the persisted 3@1 is no longer ours');
  log.takeUnstable();
  log.markPersisted();
  t.equal(log.durableIndex, 3);
});

t.test('§7 rule 7: after a snapshot discards a longer log, entries appended after it are unstable', async (t) => {
  // Found by the simulation (seed 2010): a follower held 1..9 of a stale term on disk, installed a
  // snapshot at 7 of another term (rule 7: discard the whole log), then took entry 8 from the
  // leader. The Ready must delete 8..9 on disk AND write the new 8.
  const log = new RaftLog(logOfTerms([1, 1, 1, 1, 1, 1, 1, 1, 1]));
  log.installSnapshot(7, 2);
  log.append({ index: 8, term: 3, kind: 'noop', data: null });
  const out = log.takeUnstable();
  t.equal(out.truncateFrom, 8, 'the stale 8..9 go');
  t.same(out.entries.map((e) => `${e.index}@${e.term}`), ['8@3'], 'the new 8 is written');
});
