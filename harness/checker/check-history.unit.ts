/** Hand-made histories, linearizable and not, for the key-value model (check-history.ts). */
import t from 'tap';
import { checkHistory } from './check-history.js';
import { HistoryError } from './history.js';
import type { HistoryEvent, NemesisEvent } from './history.js';
import { history, op } from './history-builder.js';

const verdict = (events: ReadonlyArray<HistoryEvent | NemesisEvent>): unknown => checkHistory(events).valid;

t.test('an empty history is linearizable', async (t) => {
  const result = checkHistory([]);
  t.equal(result.valid, true);
  t.same(result.keys, []);
  t.equal(result.stats.ops, 0);
});

t.test('sequential operations', async (t) => {
  t.equal(verdict(history(op(1, 'write', 'a', 0, 1), op(1, 'read', 'a', 2, 3))), true);
  t.equal(verdict(history(op(1, 'read', null, 0, 1))), true, 'a key starts absent');
  t.equal(verdict(history(op(1, 'write', 'a', 0, 1), op(2, 'read', null, 2, 3))), false, 'a completed write is visible');
});

t.test('concurrent writes may take effect in either order', async (t) => {
  const writes = [op(1, 'write', 'a', 0, 10), op(2, 'write', 'b', 1, 11)];
  t.equal(verdict(history(...writes, op(3, 'read', 'a', 20, 21))), true);
  t.equal(verdict(history(...writes, op(3, 'read', 'b', 20, 21))), true);
  t.equal(verdict(history(...writes, op(3, 'read', null, 20, 21))), false);
  t.equal(
    verdict(history(...writes, op(3, 'read', 'a', 20, 21), op(3, 'read', 'b', 22, 23))),
    false,
    'but in one order for everyone',
  );
  t.equal(
    verdict(history(...writes, op(3, 'read', 'a', 5, 6), op(4, 'read', 'b', 7, 8), op(3, 'read', 'b', 20, 21))),
    true,
    'a then b, seen while they were in flight',
  );
});

t.test('a read concurrent with a write may see the old or the new value', async (t) => {
  const base = [op(1, 'write', 'a', 0, 1), op(2, 'write', 'b', 10, 20)];
  t.equal(verdict(history(...base, op(3, 'read', 'a', 12, 14))), true);
  t.equal(verdict(history(...base, op(3, 'read', 'b', 12, 14))), true);
  t.equal(
    verdict(history(...base, op(3, 'read', 'b', 12, 14), op(4, 'read', 'a', 15, 16))),
    false,
    'once a later read has seen the new value, an even later one cannot see the old',
  );
});

t.test('equal times count as concurrent', async (t) => {
  t.equal(verdict(history(op(1, 'write', 'a', 0, 5), op(2, 'read', null, 5, 6))), true);
  t.equal(verdict(history(op(1, 'write', 'a', 0, 5), op(2, 'read', null, 6, 7))), false);
});

t.test('a stale read is caught, and the violation says where', async (t) => {
  const events = history(
    op(1, 'write', 'a', 0, 1),
    op(1, 'write', 'b', 2, 3),
    op(2, 'read', 'a', 4, 5),
    op(1, 'write', 'c', 10, 11),
  );
  const result = checkHistory(events);
  t.equal(result.valid, false);
  const violation = result.violation;
  if (violation === undefined) {
    t.fail('expected a violation');
    return;
  }
  t.equal(violation.key, 'x');
  t.same(
    violation.ops.map((o) => [o.process, o.f, o.value]),
    [[2, 'read', 'a']],
    'the only operation that could come next is the stale read',
  );
  t.match(violation.ops[0]?.reason, /read returned "a" but the value was "b"/);
  t.match(violation.returnedFirst, { process: 2, f: 'read', invokeTime: 4, returnTime: 5 });
  t.same(
    violation.prefix.map((s) => [s.value, s.stateBefore, s.stateAfter]),
    [
      ['a', null, 'a'],
      ['b', 'a', 'b'],
    ],
  );
  t.equal(violation.stateBefore, null);
  t.equal(violation.stateAfter, 'b');
  t.same(result.keys.map((k) => [k.key, k.valid]), [['x', false]]);
});

t.test('reading a value never written is caught', async (t) => {
  const result = checkHistory(history(op(1, 'write', 'a', 0, 10), op(2, 'read', 'zzz', 1, 11)));
  t.equal(result.valid, false);
  t.same(result.violation?.prefix.map((o) => o.value), ['a'], 'the longest prefix is the write');
  t.same(result.violation?.ops.map((o) => o.value), ['zzz'], 'after which the read cannot come');
  t.match(result.violation?.ops[0]?.reason, /read returned "zzz"/);
});

t.test('cas', async (t) => {
  const write = op(1, 'write', 'a', 0, 1);
  t.equal(verdict(history(write, op(2, 'cas', ['a', 'b'], 2, 3), op(3, 'read', 'b', 4, 5))), true, 'success');
  t.equal(verdict(history(op(2, 'cas', [null, 'b'], 0, 1), op(3, 'read', 'b', 2, 3))), true, 'expected absent');
  t.equal(verdict(history(write, op(2, 'cas', [null, 'b'], 2, 3))), false, 'expected absent, but present');
  t.equal(verdict(history(write, op(2, 'cas', ['z', 'b'], 2, 3))), false, 'an ok cas whose expected value was not there');
  t.equal(
    verdict(history(write, op(2, 'cas', ['z', 'b'], 2, 3, 'fail'), op(3, 'read', 'a', 4, 5))),
    true,
    'a failed cas never happened',
  );
  t.equal(
    verdict(history(write, op(2, 'cas', ['a', 'b'], 2, 3, 'fail'), op(3, 'read', 'b', 4, 5))),
    false,
    'so nothing may observe it',
  );
  t.equal(
    verdict(
      history(
        write,
        op(2, 'cas', ['a', 'b'], 2, 10),
        op(3, 'cas', ['a', 'c'], 2, 10),
        op(4, 'read', 'c', 11, 12),
      ),
    ),
    false,
    'two concurrent cas from the same value cannot both succeed',
  );
  t.equal(
    verdict(history(write, op(2, 'cas', ['a', 'b'], 2, 10), op(3, 'cas', ['b', 'c'], 2, 10), op(4, 'read', 'c', 11, 12))),
    true,
    'but they can chain',
  );
});

t.test('delete', async (t) => {
  const write = op(1, 'write', 'a', 0, 1);
  t.equal(verdict(history(write, op(2, 'delete', null, 2, 3), op(3, 'read', null, 4, 5))), true);
  t.equal(verdict(history(write, op(2, 'delete', null, 2, 3), op(3, 'read', 'a', 4, 5))), false);
  t.equal(verdict(history(op(2, 'delete', null, 0, 1), op(3, 'read', null, 2, 3))), true, 'of an absent key');
  t.equal(
    verdict(history(write, op(2, 'delete', null, 2, 3), op(3, 'cas', [null, 'b'], 4, 5), op(1, 'read', 'b', 6, 7))),
    true,
    'a cas expecting absence succeeds after it',
  );
  t.equal(
    verdict(history(write, op(2, 'delete', null, 2, 3, 'fail'), op(3, 'read', 'a', 4, 5))),
    true,
    'a failed delete never happened',
  );
});

t.test('indeterminate (info) operations may take effect at any time after their invoke, or never', async (t) => {
  t.equal(verdict(history(op(1, 'write', 'a', 0, 1, 'info'), op(2, 'read', 'a', 5, 6))), true, 'seen later');
  t.equal(verdict(history(op(1, 'write', 'a', 0, 1, 'info'), op(2, 'read', null, 5, 6))), true, 'never seen');
  t.equal(verdict(history(op(1, 'write', 'a', 0, null), op(2, 'read', 'a', 5, 6))), true, 'never completed');
  t.equal(
    verdict(history(op(1, 'write', 'a', 0, 1, 'info'), op(2, 'read', null, 10, 11), op(2, 'read', 'a', 20, 21))),
    true,
    'long after its info completion',
  );
  t.equal(
    verdict(history(op(1, 'write', 'a', 0, 1, 'info'), op(2, 'read', 'a', 10, 11), op(2, 'read', null, 20, 21))),
    false,
    'but once seen it stays',
  );
  t.equal(verdict(history(op(2, 'read', 'a', 0, 1), op(1, 'write', 'a', 5, null))), false, 'not before its invoke');
  t.equal(
    verdict(history(op(1, 'write', 'a', 0, 1), op(2, 'cas', ['a', 'b'], 2, 3, 'info'), op(3, 'read', 'b', 4, 5))),
    true,
    'an info cas that happened',
  );
  t.equal(
    verdict(
      history(
        op(1, 'write', 'a', 0, 1),
        op(2, 'delete', null, 2, 3, 'info'),
        op(3, 'read', 'a', 4, 5),
        op(3, 'read', null, 6, 7),
        op(3, 'read', 'a', 8, 9),
      ),
    ),
    false,
    'an info delete happens at most once',
  );
  t.equal(verdict(history(op(1, 'read', 'zzz', 0, 1, 'info'))), true, 'an info read observed nothing');
  const result = checkHistory(history(op(1, 'write', 'a', 0, 1, 'info'), op(2, 'read', 'a', 0, 1, 'info')));
  t.match(result.stats, { ops: 1, infoOps: 1, infoReads: 1 });
});

t.test('many indeterminate deletes and writes do not blow up a failing search', async (t) => {
  const ops = [op(0, 'write', 'v0', 0, 1)];
  for (let i = 1; i <= 40; i++) {
    ops.push(op(1000 + i, 'delete', null, i * 10, null), op(2000 + i, 'write', `lost${i}`, i * 10, null));
    ops.push(op(0, 'write', `v${i}`, i * 10 + 1, i * 10 + 2), op(0, 'read', `v${i}`, i * 10 + 3, i * 10 + 4));
  }
  ops.push(op(0, 'read', 'v3', 1000, 1001));
  const result = checkHistory(history(...ops), { timeoutMs: 10_000 });
  t.equal(result.valid, false);
  t.ok(result.stats.statesExplored < 20_000, `explored ${result.stats.statesExplored} configurations`);
});

t.test('keys are independent (P-compositionality)', async (t) => {
  const k1 = [op(1, 'write', 'a', 0, 10, 'ok', 'k1'), op(2, 'read', 'a', 11, 12, 'ok', 'k1')];
  const k2 = [op(3, 'write', 'b', 1, 2, 'ok', 'k2'), op(4, 'read', null, 3, 4, 'ok', 'k2')];
  const result = checkHistory(history(...k1, ...k2));
  t.equal(result.valid, false);
  t.same(result.keys.map((k) => [k.key, k.valid, k.ops]), [
    ['k1', true, 2],
    ['k2', false, 2],
  ]);
  t.equal(result.violation?.key, 'k2');
  t.equal(verdict(history(...k1)), true);
  t.equal(
    verdict(history(op(1, 'write', 'a', 0, 1, 'ok', 'k1'), op(2, 'read', 'a', 2, 3, 'ok', 'k2'))),
    false,
    'a value written to one key is not read from another',
  );
  t.equal(result.stats.keys, 2);
});

t.test('nemesis events are ignored and failed operations dropped', async (t) => {
  const events: Array<HistoryEvent | NemesisEvent> = [
    ...op(1, 'write', 'a', 0, 1),
    { process: 'nemesis', type: 'info', f: 'start', value: null, time: 1 },
    ...op(2, 'write', 'b', 2, 3, 'fail'),
    ...op(3, 'read', 'a', 4, 5),
  ];
  const result = checkHistory(events);
  t.equal(result.valid, true);
  t.match(result.stats, { ops: 2, failedOps: 1, nemesisEvents: 1 });
});

t.test('a time budget that runs out gives unknown', async (t) => {
  // 22 concurrent writes, then two reads that no order explains: the search must try every
  // subset of the writes before it can say no.
  const writes = Array.from({ length: 22 }, (_, i) => op(i, 'write', `w${i}`, i, 1000 + i));
  const pathological = history(...writes, op(100, 'read', 'w0', 2000, 2001), op(100, 'read', 'w1', 2002, 2003));
  const started = performance.now();
  const result = checkHistory(pathological, { timeoutMs: 50 });
  const elapsedMs = performance.now() - started;
  t.equal(result.valid, 'unknown');
  t.equal(result.violation, undefined);
  t.ok(elapsedMs < 2_000, `stopped after ${elapsedMs.toFixed(0)} ms`);
  t.equal(checkHistory(history(op(1, 'write', 'a', 0, 1)), { timeoutMs: 0 }).valid, 'unknown', 'a zero budget');
  const withBadKey = [...pathological, ...op(200, 'read', 'nope', 0, 1, 'ok', 'other')];
  const mixed = checkHistory(withBadKey, { timeoutMs: 50 });
  t.equal(mixed.valid, false, 'a certain violation on another key still decides');
  t.same(mixed.keys.map((k) => [k.key, k.valid]), [
    ['other', false],
    ['x', 'unknown'],
  ]);
});

t.test('the budget is shared: a hard key does not starve the easy ones', async (t) => {
  const writes = Array.from({ length: 22 }, (_, i) => op(i, 'write', `w${i}`, i, 1000 + i, 'ok', 'hard'));
  const hard = [...writes, op(100, 'read', 'w0', 2000, 2001, 'ok', 'hard'), op(100, 'read', 'w1', 2002, 2003, 'ok', 'hard')];
  const easy = Array.from({ length: 200 }, (_, i) => op(300, 'write', `e${i}`, 10 * i, 10 * i + 1, 'ok', 'easy'));
  const result = checkHistory(history(...hard, ...easy), { timeoutMs: 100 });
  t.same(result.keys.map((k) => [k.key, k.valid]), [
    ['easy', true],
    ['hard', 'unknown'],
  ]);
});

t.test('a history that makes no sense is refused', async (t) => {
  t.throws(() => checkHistory([{ process: 1, type: 'ok', f: 'read', key: 'x', value: null, time: 1 }]), HistoryError);
  t.throws(
    () => checkHistory([...op(1, 'write', 'a', 0, null), ...op(1, 'write', 'b', 1, 2)]),
    HistoryError,
    'two open operations in one process',
  );
  t.throws(
    () =>
      checkHistory([
        { process: 1, type: 'invoke', f: 'write', key: 'x', value: 'a', time: 0 },
        { process: 1, type: 'ok', f: 'read', key: 'x', value: 'a', time: 1 },
      ]),
    HistoryError,
    'a completion of another kind',
  );
  t.throws(
    () =>
      checkHistory([
        { process: 1, type: 'invoke', f: 'write', key: 'x', value: 'a', time: 5 },
        { process: 1, type: 'ok', f: 'write', key: 'x', value: 'a', time: 1 },
      ]),
    HistoryError,
    'a completion before its invoke',
  );
});
