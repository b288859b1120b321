/** PMMC roles in isolation: acceptor (Fig. 4), scout (Fig. 6), commander (Fig. 5), ballots (§3). */
import t from 'tap';
import { Acceptor } from './acceptor.js';
import { compareBallots, nextBallot } from './ballot.js';
import { Commander } from './commander.js';
import { Scout } from './scout.js';
import type { Ballot, Command, PValue } from './types.js';

const b = (round: number, leader: string): Ballot => ({ round, leader });
const cmd = (origin: Ballot, text = 'x'): Command => ({ kind: 'batch', origin, payloads: [new TextEncoder().encode(text)] });
const pv = (ballot: Ballot, slot: number, text = 'x'): PValue => ({ ballot, slot, command: cmd(ballot, text) });
const THREE = ['n1', 'n2', 'n3'];

t.test('ballots are (round, leader) pairs ordered lexicographically', async (t) => {
  t.ok(compareBallots(b(1, 'n3'), b(2, 'n1')) < 0, 'round first');
  t.ok(compareBallots(b(2, 'n2'), b(2, 'n1')) > 0, 'then leader id');
  t.equal(compareBallots(b(2, 'n2'), b(2, 'n2')), 0);
  t.same(nextBallot(b(4, 'n3'), 'n1'), b(5, 'n1'), 'a new ballot goes above every ballot seen');
});

t.test('an acceptor adopts only higher ballots', async (t) => {
  const a = new Acceptor();
  t.same(a.onP1a(b(2, 'n2'), 1).ballotNum, b(2, 'n2'));
  t.same(a.takeUnstable().ballotNum, b(2, 'n2'), 'the new ballot_num must be persisted');
  t.same(a.onP1a(b(1, 'n3'), 1).ballotNum, b(2, 'n2'), 'a lower ballot is answered with ballot_num, unchanged');
  t.same(a.onP1a(b(2, 'n1'), 1).ballotNum, b(2, 'n2'), 'same round, lower leader id: lower');
  t.equal(a.takeUnstable().ballotNum, null, 'nothing changed: nothing to persist');
  t.same(a.onP1a(b(2, 'n3'), 1).ballotNum, b(2, 'n3'));
});

t.test('an acceptor accepts a pvalue only for its current ballot', async (t) => {
  const a = new Acceptor(b(3, 'n1'));
  t.same(a.onP2a(pv(b(2, 'n2'), 1)), b(3, 'n1'), 'P2b carries the higher ballot_num: the commander is preempted');
  t.equal(a.acceptedAt(1), undefined, 'lower ballot: not accepted');
  t.same(a.onP2a(pv(b(3, 'n1'), 1, 'a')), b(3, 'n1'));
  t.same(a.acceptedAt(1)?.ballot, b(3, 'n1'), 'current ballot: accepted');
  t.same(a.onP2a(pv(b(4, 'n2'), 1, 'b')), b(4, 'n2'), 'a higher ballot is adopted, then accepted');
  t.same(a.acceptedAt(1)?.ballot, b(4, 'n2'), 'the highest-ballot pvalue per slot is kept');
  const unstable = a.takeUnstable();
  t.same(unstable.ballotNum, b(4, 'n2'));
  t.equal(unstable.accepted.length, 2, 'both acceptances must be persisted');
});

t.test('an acceptor answers P1a with its accepted pvalues from fromSlot on', async (t) => {
  const a = new Acceptor(b(1, 'n1'), [pv(b(1, 'n1'), 1), pv(b(1, 'n1'), 2), pv(b(1, 'n1'), 5)]);
  const answer = a.onP1a(b(2, 'n2'), 2);
  t.same(answer.accepted.map((p) => p.slot).sort(), [2, 5]);
});

t.test('a scout adopts with a majority of P1b', async (t) => {
  const s = new Scout(b(2, 'n1'), 1, THREE);
  t.same(s.onP1b('n1', b(2, 'n1'), []), { kind: 'waiting' });
  t.same(s.onP1b('n1', b(2, 'n1'), []), { kind: 'waiting' }, 'a duplicate P1b does not count twice');
  const result = s.onP1b('n2', b(2, 'n1'), []);
  t.equal(result.kind, 'adopted', 'two of three');
});

t.test('a scout collects the highest-ballot pvalue per slot (pmax)', async (t) => {
  const s = new Scout(b(5, 'n1'), 1, THREE);
  s.onP1b('n2', b(5, 'n1'), [pv(b(3, 'n2'), 1, 'old'), pv(b(4, 'n3'), 2, 'new2')]);
  const result = s.onP1b('n3', b(5, 'n1'), [pv(b(4, 'n3'), 1, 'new'), pv(b(1, 'n1'), 2, 'older2')]);
  if (result.kind !== 'adopted') throw new Error('not adopted');
  t.same(result.pvalues.get(1)?.ballot, b(4, 'n3'));
  t.same(result.pvalues.get(2)?.ballot, b(4, 'n3'));
});

t.test('a scout is preempted by a higher ballot', async (t) => {
  const s = new Scout(b(2, 'n1'), 1, THREE);
  t.same(s.onP1b('n2', b(3, 'n3'), []), { kind: 'preempted', ballot: b(3, 'n3') });
});

t.test('a commander decides with a majority of P2b and is preempted by a higher ballot', async (t) => {
  const c = new Commander(pv(b(2, 'n1'), 7), THREE);
  t.same(c.onP2b('n2', b(2, 'n1')), { kind: 'waiting' });
  t.same(c.onP2b('n2', b(2, 'n1')), { kind: 'waiting' }, 'duplicate');
  t.same(c.onP2b('n3', b(2, 'n1')), { kind: 'decided' });
  const d = new Commander(pv(b(2, 'n1'), 8), THREE);
  t.same(d.onP2b('n3', b(3, 'n2')), { kind: 'preempted', ballot: b(3, 'n2') });
});
