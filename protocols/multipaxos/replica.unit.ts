/** PMMC replica: decisions, slot_out, catch-up, restart. */
import t from 'tap';
import { bytes, node, TestCluster, texts } from './sim/test-cluster.js';
import type { Command } from './types.js';

const THREE = ['n1', 'n2', 'n3'];
const origin = { round: 1, leader: 'n1' };
const batch = (text: string): Command => ({ kind: 'batch', origin, payloads: [bytes(text)] });

t.test('decisions are applied in slot order', async (t) => {
  const n = node('n2', THREE);
  n.step({ type: 'Decision', from: 'n1', to: 'n2', decisions: [{ slot: 3, command: batch('c') }, { slot: 2, command: batch('b') }] });
  let rd = n.ready();
  t.same(rd.decided, [], 'slot 1 missing: nothing applied');
  t.equal(rd.persist.decisions.length, 2, 'decisions are persisted as learned');
  n.advance(rd);
  n.step({ type: 'Decision', from: 'n1', to: 'n2', decisions: [{ slot: 1, command: batch('a') }] });
  rd = n.ready();
  t.same(rd.decided.map((d) => [d.slot, texts(d.command)[0]]), [[1, 'a'], [2, 'b'], [3, 'c']]);
  n.advance(rd);
  t.equal(n.slotOut, 4);
});

t.test('a duplicate decision is ignored; a conflicting one (PMMC invariant R2: a peer with a bug) is dropped', async (t) => {
  const n = node('n2', THREE);
  const d = { type: 'Decision' as const, from: 'n1', to: 'n2', decisions: [{ slot: 1, command: batch('a') }] };
  n.step(d);
  n.step(d);
  const rd = n.ready();
  t.equal(rd.persist.decisions.length, 1);
  n.advance(rd);
  t.doesNotThrow(() => n.step({ ...d, decisions: [{ slot: 1, command: batch('z') }] }));
  t.same(n.decisionAt(1), batch('a'), 'the decision held stays');
  t.notOk(n.hasReady(), 'nothing new to persist or apply');
});

t.test('catch-up: a replica that missed decisions asks for them', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  c.isolate('n3');
  for (let k = 0; k < 5; k++) {
    c.node('n1').propose(bytes(`v${k}`));
    c.settle();
  }
  t.same(c.appliedTexts('n3'), []);
  c.healAll();
  c.tickAll(3); // the heartbeat tells n3 how far the leader is; n3 sends CatchUp
  t.same(c.appliedTexts('n3'), ['v0', 'v1', 'v2', 'v3', 'v4']);
});

t.test('a restarted replica re-applies its durable decisions and keeps its promises', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  c.node('n1').propose(bytes('x'));
  c.settle();
  const promised = c.node('n2').ballotNum;
  c.crash('n2');
  c.restart('n2');
  t.same(c.appliedTexts('n2'), ['x'], 'rebuilt from persisted decisions');
  t.same(c.node('n2').ballotNum, promised, 'ballot_num survived');
  t.equal(c.node('n2').acceptedAt(1)?.slot, 1, 'accepted pvalues survived');
});

t.test('a new leader completes the old leader\'s accepted but undecided slot', async (t) => {
  const c = new TestCluster(3);
  c.elect('n1');
  c.cut.add('n2->n1').add('n3->n1'); // acceptances never reach n1
  c.node('n1').propose(bytes('orphan'));
  c.settle();
  t.same(c.appliedTexts('n2'), []);
  c.crash('n1');
  c.elect('n2');
  c.settle();
  t.ok(c.appliedTexts('n2').includes('orphan'), 'accepted by a majority: the new leader re-proposes it');
});
