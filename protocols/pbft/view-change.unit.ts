/**
 * View changes (OSDI §4.4, TOCS §4.5): the NewView decision procedure (A1, A2, A3, B), NewView
 * verification by backups, the request timer and its backoff, and a full view change.
 */
import t from 'tap';
import { Authenticator } from './auth.js';
import { SimKeyRing } from './sim/sim-crypto.js';
import { TestCluster } from './sim/test-cluster.js';
import { batchWireBytesMax } from './canonical.js';
import type { BatchEntry, NewView, PreparedEntry, ViewChange } from './types.js';
import { decideNewView, verifyNewView, type ViewChangeRules } from './view-change.js';
import { ViewTimer } from './view-timer.js';

const f = 1;
const NULL = 'null';
const vc = (replica: number, prepared: PreparedEntry[], prePrepared: PreparedEntry[] = prepared, h = 0): ViewChange => ({
  type: 'ViewChange',
  view: 5,
  h,
  checkpointDigest: 'genesis',
  checkpointProof: [],
  prepared,
  prePrepared,
  batches: [],
  replica,
  auth: new Uint8Array(0),
});
const e = (sequence: number, digest: string, view: number): PreparedEntry => ({ sequence, digest, view });
const all = (): boolean => true;

t.test('new-view A1+A2+A3: a request prepared in view v, not contradicted, pre-prepared by f+1, is chosen', async (t) => {
  const S = [vc(0, [e(1, 'd', 3)]), vc(1, [e(1, 'd', 3)]), vc(2, [], [e(1, 'd', 3)])];
  t.same(decideNewView(S, f, NULL, all)?.chosen, [{ sequence: 1, digest: 'd' }]);
});

t.test('new-view A1: a later prepared view wins over an earlier one', async (t) => {
  const S = [vc(0, [e(1, 'old', 1)]), vc(1, [e(1, 'new', 3)]), vc(2, [], [e(1, 'new', 3)]), vc(3, [])];
  t.same(decideNewView(S, f, NULL, all)?.chosen, [{ sequence: 1, digest: 'new' }]);
  const contradicted = [vc(0, [e(1, 'old', 1)]), vc(1, [e(1, 'new', 3)], [e(1, 'new', 3)])];
  t.equal(decideNewView(contradicted, f, NULL, all), null, 'fewer than 2f+1 messages: no decision');
});

t.test('new-view A2: a prepared claim backed by fewer than f+1 pre-prepares is not chosen (a liar alone)', async (t) => {
  // Replica 0 lies: it claims 'fake' prepared in view 4; nobody else pre-prepared it.
  const S = [vc(0, [e(1, 'fake', 4)]), vc(1, []), vc(2, [])];
  t.equal(decideNewView(S, f, NULL, all), null, 'A2 fails and B needs 2f+1 without a P entry: wait for more');
  const S4 = [...S, vc(3, [])];
  t.same(decideNewView(S4, f, NULL, all)?.chosen, [{ sequence: 1, digest: NULL }], 'with a fourth message B holds: null request');
});

t.test('new-view A3: the primary must have the batch', async (t) => {
  const S = [vc(0, [e(1, 'd', 3)]), vc(1, [e(1, 'd', 3)]), vc(2, [], [e(1, 'd', 3)])];
  t.equal(decideNewView(S, f, NULL, () => false), null);
});

t.test('new-view B: no prepared request for n in 2f+1 messages: the null request', async (t) => {
  const S = [vc(0, [e(2, 'd', 3)]), vc(1, []), vc(2, []), vc(3, [])];
  const chosen = decideNewView(S, f, NULL, () => false)?.chosen;
  t.same(chosen, [{ sequence: 1, digest: NULL }, { sequence: 2, digest: NULL }], 'n = 1 had nothing; 2 only a lone claim');
});

t.test('new-view: the checkpoint is the highest proven one and n starts above it', async (t) => {
  const S = [vc(0, [e(5, 'd', 3)], [e(5, 'd', 3)], 4), vc(1, [e(5, 'd', 3)], [e(5, 'd', 3)], 4), vc(2, [], [], 0)];
  const d = decideNewView(S, f, NULL, all);
  t.equal(d?.h, 4);
  t.same(d?.chosen.map((c) => c.sequence), [5]);
});

t.test('new-view validity: backups recompute the decision from the signed ViewChanges and refuse a different one', async (t) => {
  const ring = new SimKeyRing(1, 4);
  const auths = [0, 1, 2, 3].map((i) => new Authenticator(ring.cryptoFor(i), 'mac'));
  const rules = (i: number): ViewChangeRules => ({ n: 4, f, checkpointInterval: 4, watermarkWindow: 8, genesisDigest: 'genesis', auth: auths[i] as Authenticator });
  const signed = [0, 1, 2].map((i) => (auths[i] as Authenticator).sign(vc(i, [e(1, 'd', 3)])));
  const nv: NewView = { type: 'NewView', view: 5, viewChanges: signed, h: 0, chosen: [{ sequence: 1, digest: 'd' }], batches: [], replica: 1, auth: new Uint8Array(0) };
  t.ok(verifyNewView(nv, rules(3), NULL, all), 'the honest NewView verifies');
  t.equal(verifyNewView({ ...nv, chosen: [{ sequence: 1, digest: NULL }] }, rules(3), NULL, all), null, 'a different choice is refused');
  t.equal(verifyNewView({ ...nv, viewChanges: signed.slice(0, 2) }, rules(3), NULL, all), null, 'fewer than 2f+1 ViewChanges');
  const tampered = { ...(signed[2] as ViewChange), prepared: [] };
  t.equal(verifyNewView({ ...nv, viewChanges: [signed[0] as ViewChange, signed[1] as ViewChange, tampered] }, rules(3), NULL, all), null, 'a tampered ViewChange fails its signature');
  t.equal(verifyNewView({ ...nv, viewChanges: [signed[0] as ViewChange, signed[0] as ViewChange, signed[1] as ViewChange] }, rules(3), NULL, all), null, 'one replica counted twice');
});

t.test('view-change timer backoff: T, then 2T, 4T per consecutive view change, back to T after progress', async (t) => {
  const timer = new ViewTimer(10, 5);
  const expiresAfter = (): number => {
    let ticks = 0;
    while (!timer.tick()) ticks++;
    return ticks + 1;
  };
  timer.start();
  t.equal(expiresAfter(), 10);
  timer.viewChangeStarted();
  t.equal(expiresAfter(), 20);
  timer.viewChangeStarted();
  t.equal(expiresAfter(), 40);
  for (let k = 0; k < 10; k++) timer.viewChangeStarted();
  t.equal(timer.timeoutTicks, 320, 'capped at T * 2^5');
  timer.progress();
  timer.start();
  t.equal(expiresAfter(), 10);
});

t.test('view change: a silent primary is replaced, the new primary re-proposes, writes continue', async (t) => {
  const c = new TestCluster(4, { requestTimeoutTicks: 10 });
  c.replicas[1]?.submit(c.request('c', 1, 'k', 'one', 1));
  c.run();
  t.equal(c.cores[2]?.get('k'), 'one');
  c.down.add(0);
  c.replicas[1]?.submit(c.request('c', 2, 'k', 'two', 1));
  c.tick(60);
  for (const i of [1, 2, 3]) {
    const s = c.cores[i]?.status();
    t.equal(s?.view, 1, `replica ${i} is in view 1`);
    t.equal(s?.viewChanging, false);
    t.equal(c.cores[i]?.get('k'), 'two', `replica ${i} executed the write`);
  }
  t.equal(c.cores[1]?.status().primary, 1);
});

t.test('view change: prepared requests survive into the new view (TOCS §4.5 safety)', async (t) => {
  const c = new TestCluster(4, { requestTimeoutTicks: 10 });
  // Commits never arrive: the request prepares everywhere but commits nowhere in view 0.
  c.filter = (e) => e.message.type !== 'Commit';
  c.replicas[1]?.submit(c.request('c', 1, 'k', 'prepared', 1));
  c.run();
  t.equal(c.cores[1]?.status().lastExecuted, 0, 'nothing executed in view 0');
  c.filter = (e) => e.from !== 0 && e.to !== 0;
  c.down.add(0);
  c.tick(60);
  for (const i of [1, 2, 3]) t.equal(c.cores[i]?.get('k'), 'prepared', `replica ${i} executed it in view 1 at n = 1`);
  t.equal(c.cores[1]?.executedAt(1) !== null, true);
});

t.test('view change over a full window of large batches: ViewChange and NewView carry at most maxCarriedBatchBytes, the rest is fetched', async (t) => {
  const budget = 1200; // one 150-character put per batch is ~650 wire bytes: one batch per message
  const c = new TestCluster(4, { checkpointInterval: 4, watermarkWindow: 4, maxBatchRequests: 1, requestTimeoutTicks: 10, maxCarriedBatchBytes: budget });
  // The whole window prepares (n = 2 not at the next primary 1, n = 3, 4 not at replica 3), nothing commits.
  c.filter = (e) => {
    const m = e.message;
    if (m.type === 'Commit') return false;
    return m.type !== 'PrePrepare' || !((e.to === 1 && m.sequence === 2) || (e.to === 3 && m.sequence >= 3));
  };
  for (let k = 1; k <= 4; k++) c.replicas[1]?.submit(c.request('c', k, `k${k}`, `${k}`.repeat(150), 1));
  c.run();
  t.equal(c.cores[1]?.status().lastExecuted, 0);
  c.filter = (e) => e.from !== 0 && e.to !== 0 && !(e.message.type === 'Commit' && e.message.view === 0);
  c.down.add(0);
  c.tick(80);
  const carriedBytes = (entries: BatchEntry[]): number => entries.reduce((sum, b) => sum + batchWireBytesMax(b.batch), 0);
  const vcs = c.sent.map((e) => e.message).filter((m): m is ViewChange => m.type === 'ViewChange' && m.view === 1);
  const nvs = c.sent.map((e) => e.message).filter((m): m is NewView => m.type === 'NewView');
  t.ok(vcs.length > 0 && nvs.length > 0);
  t.ok(vcs.every((m) => carriedBytes(m.batches) <= budget), 'every ViewChange within the bound');
  t.ok(vcs.some((m) => m.prepared.length === 3 && m.batches.length < 3), 'and some left prepared batches out');
  t.ok(nvs.every((m) => carriedBytes(m.batches) <= budget && m.batches.length < 4), 'every NewView within the bound, leaving chosen batches out');
  t.same(nvs[0]?.chosen.map((x) => x.sequence), [1, 2, 3, 4], 'all four prepared n are chosen');
  const fetches = c.sent.filter((e) => e.message.type === 'FetchBatches');
  t.ok(fetches.some((e) => e.from === 1), 'the new primary fetched the batch of n = 2 it never saw (A3)');
  t.ok(fetches.some((e) => e.from === 3), 'replica 3 fetched the chosen batches the NewView did not carry');
  for (const i of [1, 2, 3]) {
    t.equal(c.cores[i]?.status().view, 1);
    t.equal(c.cores[i]?.status().lastExecuted, 4, `replica ${i} executed the whole window in view 1`);
    t.equal(c.cores[i]?.get('k4'), '4'.repeat(150));
  }
});
