import t from 'tap';
import type { Command, PaxosStatus, PValue } from '../../protocols/multipaxos/types.js';
import { paxosDebugState } from './paxos-debug-state.js';

const b = (round: number, leader: string) => ({ round, leader });
const batch = (origin: { round: number; leader: string }, n: number): Command => ({ kind: 'batch', origin, payloads: Array.from({ length: n }, () => new Uint8Array(1)) });

t.test('the slot tail: decided slots by origin ballot, then accepted ones past a stale slotIn', async (t) => {
  const decisions = new Map<number, Command>();
  for (let s = 1; s <= 30; s++) decisions.set(s, s === 11 ? { kind: 'noop', origin: b(2, 'n2'), payloads: [] } : batch(s <= 10 ? b(1, 'n1') : b(2, 'n2'), 2));
  const accepted = new Map<number, PValue>([[31, { slot: 31, ballot: b(3, 'n3'), command: batch(b(3, 'n3'), 1) }]]);
  const status: PaxosStatus = { id: 'n2', role: 'follower', ballot: b(3, 'n3'), leader: 'n3', slotIn: 1, slotOut: 31, decided: 30, inflight: 0, compactedTo: 5, snapshotSlot: 5, fetching: null };
  const s = paxosDebugState({ status: () => status, decisionAt: (x) => decisions.get(x), acceptedAt: (x) => accepted.get(x) }, 30, 30);
  t.match(s, { protocol: 'multipaxos', role: 'follower', leader: 'n3', epoch: 3, epochLabel: 'ballot 3.n3', commitIndex: 30, appliedIndex: 30 });
  t.equal(s.log.length, 20);
  t.same(s.log[0], { slot: 12, ballot: b(2, 'n2'), status: 'decided', kind: 'batch', commands: 2 });
  t.same(s.log.at(-1), { slot: 31, ballot: b(3, 'n3'), status: 'accepted', kind: 'batch', commands: 1 });
});

t.test('compacted slots are not shown', async (t) => {
  const status: PaxosStatus = { id: 'n1', role: 'leader', ballot: b(1, 'n1'), leader: 'n1', slotIn: 8, slotOut: 8, decided: 2, inflight: 0, compactedTo: 5, snapshotSlot: 5, fetching: null };
  const s = paxosDebugState({ status: () => status, decisionAt: (x) => (x > 5 && x < 8 ? batch(b(1, 'n1'), 1) : undefined), acceptedAt: () => undefined }, 7, 7);
  t.same(s.log.map((e) => e.slot), [6, 7]);
});
