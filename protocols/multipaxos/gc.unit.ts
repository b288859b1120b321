/** Garbage collection of decided slots, and catch-up by snapshot (README.md, "Garbage collection"). */
import t from 'tap';
import { bytes, emptyDisk, encodeTexts, node, persist, saveSnapshot, TestCluster } from './sim/test-cluster.js';
import type { Ballot, Command, Heartbeat, PaxosMessage, PValue } from './types.js';

const THREE = ['n1', 'n2', 'n3'];
const b = (round: number, leader: string): Ballot => ({ round, leader });
const batch = (origin: Ballot, text: string): Command => ({ kind: 'batch', origin, payloads: [bytes(text)] });
const pv = (ballot: Ballot, slot: number, text: string): PValue => ({ ballot, slot, command: batch(ballot, text) });
const of = <T extends PaxosMessage['type']>(ms: PaxosMessage[], type: T) =>
  ms.filter((m): m is Extract<PaxosMessage, { type: T }> => m.type === type);

/** Proposes `count` commands one slot each, settling after every one. */
function write(c: TestCluster, leader: string, count: number, prefix = 'v'): string[] {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const text = `${prefix}${k}`;
    if (!c.node(leader).propose(bytes(text)).ok) throw new Error(`${leader} refused ${text}`);
    out.push(text);
    c.settle();
  }
  return out;
}

t.test('the GC point is the minimum applied slot over every replica, sent with heartbeats', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 1000 });
  c.elect('n1');
  write(c, 'n1', 3);
  c.tickAll(4);
  t.equal(c.node('n1').gcSlot, 3, 'everyone applied 3 slots');
  c.cut.add('n1->n3').add('n3->n1');
  write(c, 'n1', 4, 'w');
  c.tickAll(4);
  t.equal(c.node('n1').slotOut, 8, 'the leader applied 7 slots');
  t.equal(c.node('n2').slotOut, 8, 'n2 too');
  t.equal(c.node('n1').gcSlot, 3, 'n3 is stuck at 3: so is the GC point');
  c.node('n1').tick();
  c.node('n1').tick();
  const hbs = of(c.node('n1').ready().messages, 'Heartbeat') as Heartbeat[];
  t.ok(hbs.length > 0 && hbs.every((m) => m.gcSlot === 3), 'heartbeats carry the GC point');
});

t.test('compaction at the GC point drops decisions and accepted pvalues behind a saved snapshot', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 4 }); // GC step: 1 slot
  c.elect('n1');
  const written = write(c, 'n1', 6);
  c.tickAll(8);
  for (const id of THREE) {
    const n = c.node(id);
    t.ok(n.compactionPoint >= 5, `${id} compacted (to ${n.compactionPoint})`);
    t.equal(n.decisionAt(1), undefined, `${id} dropped decision 1`);
    t.equal(n.acceptedAt(1), undefined, `${id} dropped pvalue 1`);
    const disk = c.disks.get(id);
    t.equal(disk?.decisions.has(1), false, `${id}: decision 1 deleted on disk`);
    t.equal(disk?.accepted.has(1), false, `${id}: pvalue 1 deleted on disk`);
    const snap = disk?.snapshot ?? null;
    t.ok(snap !== null && snap.slot >= n.compactionPoint, `${id}: a snapshot covers the collected slots`);
    t.ok(snap !== null && snap.chunks > 1, `${id}: stored in ${snap?.chunks} chunks`);
    t.same(c.appliedTexts(id), written, `${id} state intact`);
  }
});

t.test('compaction waits for a saved snapshot', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 4 }, { autoSnapshot: false });
  c.elect('n1');
  const written = write(c, 'n1', 8);
  c.tickAll(6);
  const n1 = c.node('n1');
  t.equal(n1.compactionPoint, 0, 'the GC rules fired, but no snapshot covers the slots: nothing collected');
  t.ok(n1.decisionAt(1) !== undefined && c.disks.get('n1')?.decisions.has(1), 'decision 1 kept, in memory and on disk');
  const saved = c.takeSnapshot('n1');
  t.ok(saved !== null && saved >= 8, `the runtime saved a snapshot at its applied slot ${saved}`);
  write(c, 'n1', 3, 'w');
  c.tickAll(4);
  t.ok(n1.compactionPoint > 0 && n1.compactionPoint <= (saved ?? 0), `then compacted to ${n1.compactionPoint}, never beyond the snapshot`);
  t.equal(n1.snapshotSlot, saved);
  t.equal(c.node('n2').compactionPoint, 0, 'n2 saved no snapshot: it still holds every slot');
  // The persist of every Ready checks compactTo against the durable snapshot (sim/test-cluster.ts).
  c.crash('n1');
  c.restart('n1');
  t.same(c.appliedTexts('n1'), [...written, 'w0', 'w1', 'w2'], 'restart: the saved snapshot plus the decisions after it');
  t.equal(c.node('n1').compactionPoint, saved, 'restarted from the saved snapshot');
});

t.test('a wanted snapshot: Ready.snapshotWanted names the slot the GC rules want covered, until one is saved', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 8 }, { autoSnapshot: false }); // GC step: 2 slots
  c.elect('n1');
  write(c, 'n1', 1);
  c.tickAll(4);
  t.equal(c.wanted.get('n1'), null, 'one slot applied everywhere: below the GC step, nothing wanted');
  write(c, 'n1', 2, 'w');
  c.tickAll(4);
  const wanted = c.wanted.get('n1') ?? null;
  t.ok(wanted !== null && wanted >= 2, `the GC point advanced by the GC step: a snapshot covering ${wanted} is wanted`);
  c.tickAll(2);
  t.equal(c.wanted.get('n1'), wanted, 'repeated in every Ready while wanted');
  const n1 = c.node('n1');
  const disk = c.disks.get('n1')!;
  disk.chunks.set(2, [encodeTexts(['v0', 'w0'])]);
  t.ok(saveSnapshot(disk, { slot: 2, chunks: 1 }));
  t.equal(n1.snapshotSaved(2, 1), true, 'the runtime saved one at slot 2');
  t.equal(n1.snapshotSaved(2, 1), false, 'a snapshot not newer than the stored one is refused');
  t.equal(n1.snapshotSaved(1, 1), false);
  t.throws(() => n1.snapshotSaved(n1.slotOut, 1), /beyond the applied slot/, 'a snapshot of slots not applied is a runtime bug');
  c.settle();
  t.equal(n1.compactionPoint, 2, 'compacted up to the saved snapshot');
  c.tickAll(4);
  t.equal(c.wanted.get('n1'), null, 'the GC point (3) is less than a GC step past it: nothing wanted');
  write(c, 'n1', 2, 'x');
  c.tickAll(4);
  t.equal(c.wanted.get('n1'), 5, 'two slots more: the GC point 5 is wanted');
  t.equal(n1.compactionPoint, 2, 'and nothing collected beyond the snapshot');
  c.takeSnapshot('n1');
  c.tickAll(2);
  t.equal(c.wanted.get('n1'), null, 'covered: nothing wanted');

  const d = new TestCluster(3, 1, { snapshotEvery: 4 }, { autoSnapshot: false });
  d.elect('n1');
  d.isolate('n3');
  write(d, 'n1', 6);
  d.tickAll(2);
  t.equal(d.wanted.get('n1'), 6, 'n3 applied nothing, but more than snapshotEvery are held: the applied slot is wanted');
});

t.test('the GC point never passes a replica that has not applied; local compaction does', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 1000 });
  c.elect('n1');
  c.isolate('n3');
  write(c, 'n1', 10);
  c.tickAll(4);
  t.equal(c.node('n1').compactionPoint, 0, 'n3 applied nothing: no GC');
  const d = new TestCluster(3, 1, { snapshotEvery: 4 });
  d.elect('n1');
  d.isolate('n3');
  write(d, 'n1', 10);
  d.tickAll(4);
  t.ok(d.node('n1').compactionPoint >= 5, `more than snapshotEvery applied: compacted to ${d.node('n1').compactionPoint}`);
});

t.test('catch-up below the compaction point gets a snapshot in chunks, then the later decisions', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 4 });
  c.elect('n1');
  const before = write(c, 'n1', 2, 'a');
  c.tickAll(4);
  c.isolate('n3');
  const during = write(c, 'n1', 12, 'b');
  c.tickAll(4);
  t.ok(c.node('n1').compactionPoint > c.node('n3').slotOut, 'the leader collected slots n3 still needs');
  c.healAll();
  c.tickAll(6);
  t.ok((c.installed.get('n3') ?? []).length >= 1, 'n3 installed a snapshot');
  t.ok(c.chunksSent > 1, `in ${c.chunksSent} chunks`);
  t.same(c.appliedTexts('n3'), [...before, ...during], 'n3 has the same state as the others');
  const after = write(c, 'n1', 2, 'c');
  c.tickAll(2);
  t.same(c.appliedTexts('n3'), [...before, ...during, ...after], 'and continues with decisions after it');
  t.equal(c.node('n3').slotOut, c.node('n1').slotOut);
});

t.test('a wiped replica catches up by snapshot; a restarted one from its snapshot and later decisions', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 4 });
  c.elect('n1');
  const written = write(c, 'n1', 12);
  c.tickAll(4);
  c.crash('n2');
  c.restart('n2');
  t.same(c.appliedTexts('n2'), written, 'restart: snapshot + later decisions rebuild the state');
  t.ok(c.node('n2').compactionPoint > 0, 'restarted from a snapshot');
  c.crash('n3');
  c.wipe('n3');
  c.tickAll(6);
  t.ok((c.installed.get('n3') ?? []).length >= 1, 'the wiped replica installed a snapshot');
  t.same(c.appliedTexts('n3'), written);
});

t.test('a P1b after compaction reports the compaction point: the new leader proposes nothing there', async (t) => {
  // An acceptor that collected slots 1..5 answers a P1a from slot 1 with no pvalue below 6.
  const disk = emptyDisk();
  const acc = node('n2', THREE, 1, disk, { snapshotEvery: 2 });
  const o = b(1, 'n1');
  acc.step({ type: 'Heartbeat', from: 'n1', to: 'n2', ballot: o, slotOut: 1, readRound: 0, gcSlot: 0 });
  for (let s = 1; s <= 6; s++) acc.step({ type: 'P2a', from: 'n1', to: 'n2', pvalue: pv(o, s, `x${s}`) });
  acc.step({ type: 'Decision', from: 'n1', to: 'n2', decisions: [1, 2, 3, 4, 5].map((slot) => ({ slot, command: batch(o, `x${slot}`) })) });
  const applied = acc.ready();
  persist(disk, applied);
  acc.advance(applied);
  t.equal(applied.snapshotWanted, 5, 'applied 5 > snapshotEvery 2: a snapshot at 5 is wanted');
  disk.chunks.set(5, [bytes('state'), bytes('@5')]);
  saveSnapshot(disk, { slot: 5, chunks: 2 });
  acc.snapshotSaved(5, 2);
  for (let k = 0; k < 3 && acc.hasReady(); k++) {
    const rd = acc.ready();
    persist(disk, rd);
    acc.advance(rd);
  }
  t.equal(acc.compactionPoint, 5, 'the snapshot saved: compacted to 5');
  acc.step({ type: 'P1a', from: 'n3', to: 'n2', ballot: b(2, 'n3'), fromSlot: 1 });
  const rd = acc.ready();
  const p1b = of(rd.messagesAfterPersist, 'P1b')[0];
  t.equal(p1b?.compactedTo, 5, 'the P1b says slots <= 5 are decided');
  t.same(p1b?.accepted.map((p) => p.slot), [6], 'only the pvalue above it');
  acc.advance(rd);
  acc.step({ type: 'P2a', from: 'n3', to: 'n2', pvalue: pv(b(2, 'n3'), 3, 'late') });
  const rd2 = acc.ready();
  t.same(of(rd2.messagesAfterPersist, 'P2b'), [], 'a P2a for a collected slot is not accepted');
  t.same(of(rd2.messagesAfterPersist, 'SnapshotOffer').map((m) => [m.to, m.slot, m.chunks]), [['n3', 5, 2]], 'its proposer is offered the snapshot instead');

  // The new leader (n3, knowing nothing) adopts with that P1b and its own.
  const leader = node('n3', THREE);
  for (let k = 0; k < 40 && leader.role !== 'candidate'; k++) leader.tick();
  const scoutRd = leader.ready();
  leader.advance(scoutRd); // its own P1b counts
  const ballot = leader.currentBallot;
  leader.step({ type: 'P1b', from: 'n2', to: 'n3', request: ballot, ballotNum: ballot, accepted: [pv(o, 3, 'x3'), pv(o, 6, 'x6')], compactedTo: 5 });
  t.equal(leader.role, 'leader', 'adopted');
  const out = leader.ready();
  const slots = [...new Set(of(out.messages, 'P2a').map((m) => m.pvalue.slot))];
  t.same(slots, [6], 'no P2a (and no no-op) at slots <= 5; slot 6 re-proposed');
  t.same(of(out.messages, 'CatchUp').map((m) => [m.to, m.fromSlot]), [['n2', 1]], 'asks the compacted acceptor for its state');
  leader.advance(out);
  leader.step({ type: 'SnapshotOffer', from: 'n2', to: 'n3', slot: 5, chunks: 2 });
  const fetch = leader.ready();
  t.same(of(fetch.messages, 'SnapshotFetch').map((m) => [m.to, m.slot, m.chunk]), [['n2', 5, 0], ['n2', 5, 1]], 'it fetches the chunks');
  leader.advance(fetch);
  leader.step({ type: 'SnapshotChunk', from: 'n2', to: 'n3', slot: 5, chunk: 1, chunks: 2, data: bytes('@5') });
  leader.step({ type: 'SnapshotChunk', from: 'n2', to: 'n3', slot: 5, chunk: 0, chunks: 2, data: bytes('state') });
  const inst = leader.ready();
  t.same(inst.installSnapshot, { slot: 5, chunks: 2 }, 'all chunks here: installed');
  t.same(inst.persist.snapshotChunks.map((c) => [c.slot, c.chunk, Buffer.from(c.data).toString()]), [[5, 1, '@5'], [5, 0, 'state']], 'the chunks go to the store');
  t.same(inst.persist.snapshot, { slot: 5, chunks: 2 }, 'the received snapshot is saved as ours');
  t.equal(inst.persist.compactTo, 5);
  t.equal(leader.slotOut, 6, 'slot_out moved past it');
  leader.advance(inst);
});

t.test('an offer of a snapshot below slot_out is ignored', async (t) => {
  const c = new TestCluster(3, 1, { snapshotEvery: 1000 });
  c.elect('n1');
  write(c, 'n1', 3);
  c.tickAll(2);
  const n2 = c.node('n2');
  n2.step({ type: 'SnapshotOffer', from: 'n1', to: 'n2', slot: 2, chunks: 1 });
  n2.step({ type: 'SnapshotChunk', from: 'n1', to: 'n2', slot: 2, chunk: 0, chunks: 1, data: bytes('["old"]') });
  t.notOk(n2.hasReady(), 'nothing to fetch or install');
  t.equal(n2.status().fetching, null);
  t.equal(n2.slotOut, 4);
});

t.test('PMMC invariant R2: a Decision contradicting one held here is dropped, not thrown on', async (t) => {
  // At most one command is decided per slot; a peer that says otherwise has a bug, and a replica
  // never crashes on input from outside (docs/design.md §3.7). Found by fuzz.test.ts.
  const c = new TestCluster(3, 1, { snapshotEvery: 1000 });
  c.elect('n1');
  write(c, 'n1', 2);
  const n2 = c.node('n2');
  const held = n2.decisionAt(1);
  t.ok(held !== undefined, 'slot 1 decided');
  const other = batch(b(9, 'n3'), 'forged');
  t.doesNotThrow(() => n2.step({ type: 'Decision', from: 'n3', to: 'n2', decisions: [{ slot: 1, command: other }] }));
  t.same(n2.decisionAt(1), held, 'the decision held stays');
  c.settle();
  t.same(c.appliedTexts('n2'), c.appliedTexts('n1'), 'nothing else applied');
});

t.test('PMMC window: an adoption leaving more than WINDOW slots uncovered is refused, not filled with no-ops', async (t) => {
  // A leader proposes s only while s < slot_out + WINDOW, so every slot <= s - WINDOW was decided
  // and some acceptor of any quorum holds it. A P1b with a pvalue at slot 2^31 (a peer with a
  // bug) would otherwise make the new leader start 2^31 commanders.
  const leader = node('n3', THREE);
  for (let k = 0; k < 40 && leader.role !== 'candidate'; k++) leader.tick();
  const rd = leader.ready();
  leader.advance(rd); // its own P1b counts
  const ballot = leader.currentBallot;
  leader.step({ type: 'P1b', from: 'n2', to: 'n3', request: ballot, ballotNum: ballot, accepted: [pv(b(1, 'n1'), 2 ** 31, 'far')], compactedTo: 0 });
  t.not(leader.role, 'leader', 'not adopted');
  const out = leader.ready();
  t.ok(out.messages.length < 10, `no flood of P2a (${out.messages.length} messages)`);
  leader.advance(out);

  // Within the window, gaps are no-ops as before (PMMC: slots the quorum knew nothing about).
  const again = node('n3', THREE, 2);
  for (let k = 0; k < 40 && again.role !== 'candidate'; k++) again.tick();
  again.advance(again.ready());
  const b2 = again.currentBallot;
  again.step({ type: 'P1b', from: 'n2', to: 'n3', request: b2, ballotNum: b2, accepted: [pv(b(1, 'n1'), 5, 'x5')], compactedTo: 0 });
  t.equal(again.role, 'leader', 'adopted: 4 gaps <= WINDOW (8)');
});
