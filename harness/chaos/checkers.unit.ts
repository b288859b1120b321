/**
 * The no-lost-writes and availability checkers on hand-made histories.
 */
import t from 'tap';
import { checkAvailability, percentiles } from './availability.js';
import { operations, type ClientEvent, type HistoryEntry } from './history.js';
import { checkLostWrites, type FinalValues } from './lost-writes.js';

const ms = 1e6;
type Ev = [process: number, type: ClientEvent['type'], f: ClientEvent['f'], key: string, value: ClientEvent['value'], timeMs: number];
const history = (...events: Ev[]): HistoryEntry[] =>
  events.map(([process, type, f, key, value, timeMs]) => ({ process, type, f, key, value, time: timeMs * ms }));
const finals = (byKey: Record<string, string | null>, replicas = ['n1', 'n2', 'n3']): FinalValues => ({
  byKey: Object.fromEntries(Object.entries(byKey).map(([k, v]) => [k, Object.fromEntries(replicas.map((r) => [r, v]))])),
  converged: true,
});

t.test('an acked write that is the final value is fine', async (t) => {
  const h = history([1, 'invoke', 'write', 'k', '1', 0], [1, 'ok', 'write', 'k', '1', 10]);
  const r = checkLostWrites(operations(h), finals({ k: '1' }));
  t.ok(r.valid);
  t.equal(r.acknowledgedWrites, 1);
});

t.test('an acked write overwritten by a later write is fine', async (t) => {
  const h = history(
    [1, 'invoke', 'write', 'k', '1', 0],
    [1, 'ok', 'write', 'k', '1', 10],
    [2, 'invoke', 'write', 'k', '2', 20],
    [2, 'ok', 'write', 'k', '2', 30],
  );
  t.ok(checkLostWrites(operations(h), finals({ k: '2' })).valid);
});

t.test('an acked write that vanished with nothing after it is lost', async (t) => {
  const h = history(
    [2, 'invoke', 'write', 'k', '2', 0],
    [2, 'ok', 'write', 'k', '2', 5],
    [1, 'invoke', 'write', 'k', '1', 10],
    [1, 'ok', 'write', 'k', '1', 20],
  );
  const r = checkLostWrites(operations(h), finals({ k: '2' }));
  t.notOk(r.valid);
  t.equal(r.lost.length, 1);
  t.match(r.lost[0], { key: 'k', process: 1, value: '1', finalValue: '2' });
});

t.test('a concurrent write, an info write or a delete may have come after it', async (t) => {
  const concurrent = history(
    [1, 'invoke', 'write', 'k', '1', 0],
    [2, 'invoke', 'write', 'k', '2', 5],
    [2, 'ok', 'write', 'k', '2', 8],
    [1, 'ok', 'write', 'k', '1', 10],
  );
  t.ok(checkLostWrites(operations(concurrent), finals({ k: '2' })).valid, 'concurrent write');
  const info = history(
    [2, 'invoke', 'write', 'k', '2', 0],
    [2, 'info', 'write', 'k', '2', 5],
    [1, 'invoke', 'write', 'k', '1', 10],
    [1, 'ok', 'write', 'k', '1', 20],
  );
  t.ok(checkLostWrites(operations(info), finals({ k: '2' })).valid, 'an info write may take effect later');
  const del = history(
    [1, 'invoke', 'write', 'k', '1', 0],
    [1, 'ok', 'write', 'k', '1', 10],
    [2, 'invoke', 'delete', 'k', null, 20],
    [2, 'info', 'delete', 'k', null, 30],
  );
  t.ok(checkLostWrites(operations(del), finals({ k: null })).valid, 'a delete');
  const failed = history(
    [1, 'invoke', 'write', 'k', '1', 0],
    [1, 'ok', 'write', 'k', '1', 10],
    [2, 'invoke', 'delete', 'k', null, 20],
    [2, 'fail', 'delete', 'k', null, 30],
  );
  t.notOk(checkLostWrites(operations(failed), finals({ k: null })).valid, 'but not a failed delete');
});

t.test('acked cas counts as a write; its new value must survive', async (t) => {
  const h = history(
    [1, 'invoke', 'write', 'k', '1', 0],
    [1, 'ok', 'write', 'k', '1', 10],
    [2, 'invoke', 'cas', 'k', ['1', '2'], 20],
    [2, 'ok', 'cas', 'k', ['1', '2'], 30],
  );
  t.ok(checkLostWrites(operations(h), finals({ k: '2' })).valid);
  const r = checkLostWrites(operations(h), finals({ k: '1' }));
  t.notOk(r.valid);
  t.match(r.lost[0], { f: 'cas', value: '2' });
});

t.test('a final value nobody wrote (or only a failed write wrote) is unexplained', async (t) => {
  const h = history([1, 'invoke', 'write', 'k', '1', 0], [1, 'fail', 'write', 'k', '1', 10]);
  const r = checkLostWrites(operations(h), finals({ k: '1' }));
  t.notOk(r.valid);
  t.same(r.unexplained, [{ key: 'k', finalValue: '1' }]);
  t.ok(checkLostWrites(operations(h), finals({ k: null })).valid, 'absent is fine');
});

t.test('replicas that disagree are reported', async (t) => {
  const h = history([1, 'invoke', 'write', 'k', '1', 0], [1, 'ok', 'write', 'k', '1', 10]);
  const r = checkLostWrites(operations(h), { byKey: { k: { n1: '1', n2: '1', n3: null } }, converged: false });
  t.notOk(r.valid);
  t.equal(r.divergent.length, 1);
  t.equal(r.lost.length, 1, 'n3 lost the acked write');
});

t.test('an operation never completed is info', async (t) => {
  const h = history([1, 'invoke', 'write', 'k', '9', 0], [2, 'invoke', 'write', 'k', '1', 5], [2, 'ok', 'write', 'k', '1', 10]);
  const ops = operations(h);
  t.equal(ops.find((o) => o.process === 1)?.type, 'info');
  t.ok(checkLostWrites(ops, finals({ k: '9' })).valid, 'the open write may have landed last');
});

t.test('availability: counts per op and per fault period, percentiles, per second', async (t) => {
  const h = history(
    [1, 'invoke', 'read', 'k', null, 100],
    [1, 'ok', 'read', 'k', null, 110],
    [2, 'invoke', 'write', 'k', '1', 1500],
    [2, 'fail', 'write', 'k', '1', 1530],
    [3, 'invoke', 'write', 'k', '2', 1600],
    [3, 'info', 'write', 'k', '2', 2600],
    [4, 'invoke', 'cas', 'k', ['1', '3'], 2700],
    [4, 'ok', 'cas', 'k', ['1', '3'], 2720],
    [1, 'invoke', 'read', 'k', null, 3500],
    [1, 'ok', 'read', 'k', '3', 3502],
  );
  const a = checkAvailability(operations(h), [{ fault: 'partition', startMs: 1000, endMs: 2000 }, { fault: 'kill', startMs: 1550, endMs: 3000 }], { healMs: 3200, endMs: 4000 });
  t.same(a.total, { ok: 3, fail: 1, info: 1 });
  t.same(a.byOp.write, { ok: 0, fail: 1, info: 1 });
  const period = (name: string) => a.byPeriod.find((p) => p.period === name);
  t.match(period('none'), { ok: 1, durationMs: 1200 }, '0-1 s and 3-3.2 s');
  t.match(period('partition'), { fail: 1, durationMs: 550 });
  t.match(period('kill+partition'), { info: 1, durationMs: 450 });
  t.match(period('kill'), { ok: 1, durationMs: 1000 });
  t.match(period('recovery'), { ok: 1, durationMs: 800 });
  t.equal(a.answeredRatioAfterHeal, 1);
  t.equal(a.latencyMs.read.count, 2);
  t.equal(a.latencyMs.all.count, 4, 'info operations have no latency');
  t.same(a.perSecond.map((b) => b.second), [0, 1, 2, 3]);
  t.same(percentiles([5, 1, 3, 2, 4]), { count: 5, p50: 3, p90: 5, p99: 5, max: 5 });
});
