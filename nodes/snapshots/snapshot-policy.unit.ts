/**
 * When a snapshot is worth taking (snapshot-policy.ts): once the commands applied since the last
 * snapshot reach its bytes times a ratio drawn in [ratio, 1.5 ratio); and SnapshotJobs tells the policy the size of every
 * snapshot it takes or restores.
 */
import t from 'tap';
import pino from 'pino';
import { KvStateMachine } from '../../protocols/kv/state-machine.js';
import { SnapshotJobs } from './snapshot-jobs.js';
import { SnapshotPolicy } from './snapshot-policy.js';

t.test('the log must reach ratio x the last snapshot before the next one', async (t) => {
  const p = new SnapshotPolicy(0.25, () => 0);
  t.ok(p.due, 'before any snapshot there is no size to wait for');
  p.cutOpened();
  p.stored(4000);
  t.notOk(p.due, 'just after a snapshot of 4,000 bytes');
  p.applied(999);
  t.notOk(p.due, '999 bytes of log < 0.25 x 4,000');
  p.applied(1);
  t.ok(p.due, '1,000 bytes of log = 0.25 x 4,000');
  t.same(p.sizes, { logBytes: 1000, snapshotBytes: 4000 });
});

t.test('each snapshot draws its own ratio in [ratio, 1.5 ratio), so replicas drift apart', async (t) => {
  const draws = [0, 0.999, 0.5];
  const p = new SnapshotPolicy(1, () => draws.shift() ?? 0);
  p.cutOpened();
  p.stored(1000);
  p.applied(1498);
  t.notOk(p.due, 'drawn 1.4995: 1,498 bytes of log are not enough');
  p.applied(2);
  t.ok(p.due, '1,500 are');
  p.cutOpened();
  p.installed(1000);
  p.applied(1249);
  t.notOk(p.due, 'the next draw, 1.25');
  p.applied(1);
  t.ok(p.due);
  const spread = new SnapshotPolicy(0.25);
  for (let i = 0; i < 100; i++) {
    spread.installed(4000);
    spread.applied(999);
    if (spread.due) t.fail('a draw below the ratio');
    spread.applied(501);
    if (!spread.due) t.fail('a draw at 1.5x the ratio or above');
  }
});

t.test('what is applied while a snapshot is written counts towards the next one', async (t) => {
  const p = new SnapshotPolicy(1, () => 0);
  p.applied(500);
  p.cutOpened();
  p.applied(300);
  p.stored(1000);
  t.same(p.sizes, { logBytes: 300, snapshotBytes: 1000 }, 'the 500 bytes before the cut are in the snapshot');
});

t.test('an abandoned snapshot gives its log back; an installed one starts afresh', async (t) => {
  const p = new SnapshotPolicy(1, () => 0);
  p.cutOpened();
  p.stored(100);
  p.applied(80);
  p.cutOpened();
  p.applied(30);
  p.abandoned();
  t.same(p.sizes, { logBytes: 110, snapshotBytes: 100 }, 'the failed snapshot covered nothing');
  t.ok(p.due);
  p.installed(5000);
  t.same(p.sizes, { logBytes: 0, snapshotBytes: 5000 }, "a leader's snapshot replaced the state");
  t.notOk(p.due);
});

t.test('a ratio of 0 snapshots whenever the core asks; a bad ratio is refused', async (t) => {
  const p = new SnapshotPolicy(0, () => 0.9);
  p.cutOpened();
  p.stored(1_000_000);
  t.ok(p.due);
  t.throws(() => new SnapshotPolicy(-1), /snapshot log ratio -1/);
  t.throws(() => new SnapshotPolicy(Number.NaN), /not a number/);
});

t.test('SnapshotJobs counts the bytes it writes and restores', async (t) => {
  const sm = new KvStateMachine();
  for (let k = 0; k < 500; k++) sm.apply({ operation: { op: 'put', key: `k${k}`, value: 'x'.repeat(100) }, session: null });
  const jobs = new SnapshotJobs({ logger: pino({ level: 'silent' }), maxChunkBytes: 4096, sliceMs: 1, snapshotLogRatio: 0.5 });
  const stored = new Map<number, Uint8Array>();
  jobs.policy.applied(123);
  const chunks = await new Promise<number>((resolve) => jobs.take(sm, async (c, b) => void stored.set(c, b.slice()), async (n) => resolve(n)));
  await new Promise((r) => setImmediate(r));
  const total = [...stored.values()].reduce((n, b) => n + b.byteLength, 0);
  t.ok(total > 500 * 100, `${total} bytes in ${chunks} chunks`);
  t.same(jobs.policy.sizes, { logBytes: 0, snapshotBytes: total }, 'the snapshot taken');
  jobs.policy.applied(total / 2 - 1);
  t.notOk(jobs.policy.due, 'not below half the snapshot (the least ratio drawn)');
  jobs.policy.applied(total / 4 + 1);
  t.ok(jobs.policy.due, 'three quarters of the snapshot applied since (the most)');

  const failing = new SnapshotJobs({ logger: pino({ level: 'silent' }), maxChunkBytes: 4096, sliceMs: 1 });
  failing.policy.applied(700);
  failing.take(sm, async () => Promise.reject(new Error('disk full')), async () => void t.fail('saved'));
  await new Promise((r) => setTimeout(r, 20));
  t.notOk(failing.busy);
  t.same(failing.policy.sizes, { logBytes: 700, snapshotBytes: 0 }, 'a failed snapshot leaves its log counted');

  const fresh = new SnapshotJobs({ logger: pino({ level: 'silent' }), maxChunkBytes: 4096 });
  const restored = await fresh.restoreAtStart(chunks, async (c) => stored.get(c) as Uint8Array);
  t.equal(restored.size, 500);
  t.same(fresh.policy.sizes, { logBytes: 0, snapshotBytes: total }, 'a snapshot restored at start is the one to compare with');
  const installed = await new Promise<KvStateMachine>((resolve) => jobs.restore(chunks, async (c) => stored.get(c), resolve));
  t.equal(installed.size, 500);
  t.same(jobs.policy.sizes, { logBytes: 0, snapshotBytes: total }, 'and so is one installed from a peer');
});
