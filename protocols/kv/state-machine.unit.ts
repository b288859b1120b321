import t from 'tap';
import { KvStateMachine } from './state-machine.js';
import type { KvCommand, KvOperation } from './commands.js';

const cmd = (operation: KvOperation, clientId?: string, seq?: number): KvCommand => ({
  operation,
  session: clientId === undefined || seq === undefined ? null : { clientId, seq },
});

t.test('put, get, delete, cas', async (t) => {
  const sm = new KvStateMachine();
  t.same(sm.apply(cmd({ op: 'put', key: 'a', value: '1' })), { kind: 'put' });
  t.equal(sm.get('a'), '1');
  t.same(sm.apply(cmd({ op: 'cas', key: 'a', expected: '2', value: '3' })), { kind: 'cas', ok: false, current: '1' });
  t.same(sm.apply(cmd({ op: 'cas', key: 'a', expected: '1', value: '3' })), { kind: 'cas', ok: true });
  t.same(sm.apply(cmd({ op: 'get', key: 'a' })), { kind: 'get', value: '3' });
  t.same(sm.apply(cmd({ op: 'delete', key: 'a' })), { kind: 'delete', existed: true });
  t.same(sm.apply(cmd({ op: 'delete', key: 'a' })), { kind: 'delete', existed: false });
  t.equal(sm.get('a'), null);
});

t.test('cas with expected null means only if absent', async (t) => {
  const sm = new KvStateMachine();
  t.same(sm.apply(cmd({ op: 'cas', key: 'k', expected: null, value: 'v' })), { kind: 'cas', ok: true });
  t.same(sm.apply(cmd({ op: 'cas', key: 'k', expected: null, value: 'w' })), { kind: 'cas', ok: false, current: 'v' });
});

t.test('exactly-once: a retried request returns the first result and is not re-applied (dissertation §6.3)', async (t) => {
  const sm = new KvStateMachine();
  sm.apply(cmd({ op: 'put', key: 'k', value: 'a' }));
  const first = sm.apply(cmd({ op: 'cas', key: 'k', expected: 'a', value: 'b' }, 'c1', 1));
  t.same(first, { kind: 'cas', ok: true });
  sm.apply(cmd({ op: 'put', key: 'k', value: 'a' }));
  // The retry of seq 1 must not apply the cas again, and must report the first outcome.
  t.same(sm.apply(cmd({ op: 'cas', key: 'k', expected: 'a', value: 'b' }, 'c1', 1)), { kind: 'cas', ok: true });
  t.equal(sm.get('k'), 'a');
});

t.test('sessions: requests older than the window are refused, not re-applied', async (t) => {
  const sm = new KvStateMachine({ maxSessions: 10, windowSize: 4 });
  for (let seq = 1; seq <= 10; seq++) sm.apply(cmd({ op: 'put', key: 'k', value: String(seq) }, 'c', seq));
  t.same(sm.apply(cmd({ op: 'put', key: 'k', value: 'old' }, 'c', 2)), { kind: 'session-expired' });
  t.same(sm.apply(cmd({ op: 'put', key: 'k', value: 'x' }, 'c', 9)), { kind: 'put' });
  t.equal(sm.get('k'), '10');
});

t.test('sessions expire least-recently-used first, deterministically', async (t) => {
  const sm = new KvStateMachine({ maxSessions: 2, windowSize: 4 });
  sm.apply(cmd({ op: 'put', key: 'a', value: '1' }, 'c1', 1));
  sm.apply(cmd({ op: 'put', key: 'b', value: '1' }, 'c2', 1));
  sm.apply(cmd({ op: 'put', key: 'a', value: '2' }, 'c1', 2));
  sm.apply(cmd({ op: 'put', key: 'c', value: '1' }, 'c3', 1));
  t.equal(sm.sessionCount, 2);
  // c2 was least recently used and is gone: its retry is treated as new.
  t.same(sm.apply(cmd({ op: 'put', key: 'b', value: '2' }, 'c2', 1)), { kind: 'put' });
  t.equal(sm.get('b'), '2');
});

t.test('snapshot and restore give the same state and sessions', async (t) => {
  const sm = new KvStateMachine();
  sm.apply(cmd({ op: 'put', key: 'a', value: '1' }, 'c1', 1));
  sm.apply(cmd({ op: 'put', key: 'b', value: '2' }));
  const copy = new KvStateMachine();
  copy.restore(structuredClone(sm.snapshot()));
  t.same(copy.snapshot(), sm.snapshot());
  t.same(copy.apply(cmd({ op: 'put', key: 'a', value: 'x' }, 'c1', 1)), { kind: 'put' });
  t.equal(copy.get('a'), '1');
});
