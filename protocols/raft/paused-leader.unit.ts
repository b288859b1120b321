/**
 * Issue 3 item 5: a leader paused (SIGSTOP: no ticks, no messages) that resumes after another
 * leader was elected must not serve a stale ReadIndex or lease read, nor commit anything of its
 * old term. The pause is modelled with TestCluster.paused: the old leader is not ticked, its Readys
 * wait and every message to it is held; on resume the runtime first delivers the elapsed ticks
 * (tick(elapsed), the runtime contract), then the held inputs, in the worst orders we could find.
 */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { bytes, TestCluster, text } from './sim/test-cluster.js';
import type { RaftConfig, RaftMessage } from './types.js';

const CONFIG: Partial<RaftConfig> = { leaseReads: true, checkQuorum: true, preVote: true };

type Order = 'stale-first' | 'newest-first' | 'duplicated-stale-first' | 'shuffled';
const ORDERS: Order[] = ['stale-first', 'newest-first', 'duplicated-stale-first', 'shuffled'];

/** The held inputs in a given order; "stale" = from the old term, which a buggy leader would trust. */
function ordered(held: RaftMessage[], oldTerm: number, order: Order, seed: number): RaftMessage[] {
  const stale = held.filter((m) => m.term <= oldTerm);
  const newer = held.filter((m) => m.term > oldTerm);
  switch (order) {
    case 'stale-first':
      return [...stale, ...newer];
    case 'newest-first':
      return [...newer.reverse(), ...stale.reverse()];
    case 'duplicated-stale-first':
      return [...stale, ...stale, ...stale, ...newer];
    case 'shuffled': {
      const rng = new SeededRng(seed);
      const all = [...held, ...stale];
      for (let k = all.length - 1; k > 0; k--) {
        const j = rng.int(k + 1);
        [all[k], all[j]] = [all[j] as RaftMessage, all[k] as RaftMessage];
      }
      return all;
    }
  }
}

/**
 * 5 replicas, n1 leader of term 1 with a fresh lease; n1 pauses; n2..n5 elect a new leader, which
 * commits a write that clients see acknowledged. Returns the cluster, the ticks that passed during
 * the pause, and the write's index.
 */
function pausedLeaderScenario(beforePause: (c: TestCluster) => void = () => {}) {
  const c = new TestCluster(5, CONFIG);
  c.campaign('n1');
  c.tickAll(2);
  t.equal(c.leader(), 'n1');
  beforePause(c);
  c.paused.add('n1');
  let pausedTicks = 0;
  let newLeader: string | null = null;
  while (newLeader === null || newLeader === 'n1') {
    c.tickAll(1);
    pausedTicks++;
    newLeader = [...c.ids].find((id) => id !== 'n1' && c.node(id).role === 'leader') ?? null;
    if (pausedTicks > 100) throw new Error('no new leader');
  }
  const write = c.node(newLeader).propose(bytes('new-write'));
  if (!write.ok) throw new Error('no write');
  c.stabilize();
  const acknowledged = c.ids.filter((id) => c.appliedOf(id).some((e) => e.index === write.index && text(e) === 'new-write'));
  if (acknowledged.length < 3) throw new Error('write not committed');
  return { c, pausedTicks, writeIndex: write.index, newLeader };
}

t.test('a paused leader never serves a stale read after resuming', async (t) => {
  let seed = 0;
  for (const order of ORDERS) {
    for (const readsFirst of [true, false]) {
      const { c, pausedTicks, writeIndex } = pausedLeaderScenario();
      const n1 = c.node('n1');
      t.equal(n1.role, 'leader', 'still believes it leads term 1');
      c.paused.delete('n1');
      n1.tick(pausedTicks); // the runtime contract: elapsed ticks first
      const held = ordered(c.held.splice(0), 1, order, ++seed);
      const requested: number[] = [];
      const read = (ctx: number) => {
        requested.push(ctx);
        if (ctx % 2 === 0) n1.leaseRead(ctx);
        else n1.readIndex(ctx);
      };
      if (readsFirst) for (const ctx of [1, 2]) read(ctx);
      held.forEach((m, k) => {
        n1.step(m);
        if (k === 0 && !readsFirst) for (const ctx of [3, 4]) read(ctx);
        c.processReady('n1');
      });
      c.stabilize();
      for (const ctx of [5, 6]) read(ctx); // and more reads once n1 knows better
      c.stabilize();
      const served = c.readStates.get('n1') ?? [];
      const stale = served.filter((rs) => rs.index < writeIndex);
      t.same(stale, [], `${order}, reads ${readsFirst ? 'before' : 'among'} the held messages: no stale read state`);
      t.equal(served.length + (c.readsFailed.get('n1')?.length ?? 0), requested.length, 'every read answered or failed');
      t.not(c.node('n1').role, 'leader', 'n1 is deposed');
    }
  }
});

t.test('a paused leader commits nothing of its old term', async (t) => {
  let seed = 100;
  for (const order of ORDERS) {
    for (const persistLate of [false, true]) {
      let oldIndex = 0;
      let pendingReady = null as ReturnType<TestCluster['node']>['ready'] extends () => infer R ? R | null : never;
      const { c, pausedTicks, writeIndex, newLeader } = pausedLeaderScenario((c) => {
        // n1 proposes; its AppendEntries reach only n2, whose acknowledgement stays in flight.
        const r = c.node('n1').propose(bytes('old-term-write'));
        if (!r.ok) throw new Error('no proposal');
        oldIndex = r.index;
        c.drop = (m) => m.from === 'n1' && m.to !== 'n2';
        if (persistLate) {
          // paused in the middle of a Ready: sent, not yet persisted (dissertation §10.2.1)
          pendingReady = c.node('n1').ready();
          for (const m of pendingReady.messages) if (m.to === 'n2') c.node('n2').step(m);
        } else {
          c.processReady('n1');
          while (c.pending().some((m) => m.to === 'n2')) c.deliverOne();
        }
        c.processReady('n2');
        c.drop = () => false;
        c.paused.add('n1'); // n2's answer will be held
      });
      t.not(newLeader, 'n2', 'the new leader lacks the old-term entry (n2 alone holds it)');
      t.ok(writeIndex > oldIndex, 'and committed its no-op at that index, then the write');
      const n1 = c.node('n1');
      c.paused.delete('n1');
      n1.tick(pausedTicks);
      if (pendingReady !== null) n1.advance(pendingReady); // the old Ready's persist completes late
      const held = ordered(c.held.splice(0), 1, order, ++seed);
      const commits: number[] = [];
      for (const m of held) {
        n1.step(m);
        if (n1.term === 1) commits.push(n1.commitIndex);
        c.processReady('n1');
      }
      c.stabilize();
      c.tickAll(5);
      t.ok(commits.every((index) => index < oldIndex), `${order}${persistLate ? ', persisted late' : ''}: old term never commits ${oldIndex} (${commits.join(',')})`);
      for (const id of c.ids) {
        t.notOk(c.appliedOf(id).some((e) => text(e) === 'old-term-write'), `${id} never applies the old-term entry`);
      }
      t.ok((n1.entryAt(oldIndex)?.term ?? 0) > 1, 'n1 now holds the new leader’s entry there');
      t.equal(text(n1.entryAt(writeIndex)), 'new-write');
    }
  }
});

t.test('lease reads rely on the runtime reporting elapsed ticks (a hidden pause is unsafe)', async (t) => {
  // Documents the runtime contract: if the runtime resumed with tick(1) instead of tick(elapsed),
  // no core could tell that time passed, and the old lease would look valid.
  const { c, writeIndex } = pausedLeaderScenario();
  const n1 = c.node('n1');
  c.paused.delete('n1');
  n1.tick(1); // WRONG: the pause is hidden from the core
  n1.leaseRead(1);
  const rd = c.processReady('n1');
  t.ok((rd?.readStates ?? []).some((rs) => rs.index < writeIndex), 'a stale lease read: this is why tick(elapsed) is required');
});
