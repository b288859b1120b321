/**
 * Snapshot transfer in chunks (README.md, "Snapshot transfer"): an offer, fetches a few chunks at
 * a time from the replica that offered, the chunks to the store, the install once all are there.
 */
import t from 'tap';
import { FETCH_WINDOW, IncomingSnapshot } from './incoming-snapshot.js';
import type { MultiPaxosNode } from './paxos-node.js';
import { bytes, node, TestCluster } from './sim/test-cluster.js';
import type { PaxosMessage, Ready, SnapshotChunk } from './types.js';

const THREE = ['n1', 'n2', 'n3'];
const of = <T extends PaxosMessage['type']>(ms: PaxosMessage[], type: T) =>
  ms.filter((m): m is Extract<PaxosMessage, { type: T }> => m.type === type);
const fetched = (rd: Ready) => of(rd.messages, 'SnapshotFetch').map((m) => m.chunk);
const chunk = (from: string, slot: number, k: number, chunks: number): SnapshotChunk => ({
  type: 'SnapshotChunk', from, to: 'n3', slot, chunk: k, chunks, data: bytes(`c${k}`),
});

function cycle(n: MultiPaxosNode): Ready {
  const rd = n.ready();
  n.advance(rd);
  return rd;
}

/** Proposes `count` commands one slot each, settling after every one. */
function write(c: TestCluster, leader: string, count: number, prefix: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const text = `${prefix}${k}`;
    if (!c.node(leader).propose(bytes(text)).ok) throw new Error(`${leader} refused ${text}`);
    out.push(text);
    c.settle();
  }
  return out;
}

/** n3 falls behind n1's compaction point: n1 holds a snapshot of many chunks n3 needs. */
function behind(): { c: TestCluster; written: string[] } {
  const c = new TestCluster(3, 1, { snapshotEvery: 4 }, { chunkBytes: 8 });
  c.elect('n1');
  const written = write(c, 'n1', 2, 'a');
  c.tickAll(4);
  c.isolate('n3');
  written.push(...write(c, 'n1', 14, 'b'));
  c.tickAll(2);
  const snap = c.disks.get('n1')?.snapshot;
  if (snap == null || snap.slot < c.node('n3').slotOut || snap.chunks <= FETCH_WINDOW) throw new Error('setup: no snapshot of many chunks beyond n3');
  return { c, written };
}

t.test('a transfer fetches a few chunks at a time from the offering replica and installs once it has them all', async (t) => {
  const n = node('n3', THREE);
  n.step({ type: 'SnapshotOffer', from: 'n1', to: 'n3', slot: 10, chunks: 7 });
  t.same(fetched(cycle(n)), [0, 1, 2, 3], `the first FETCH_WINDOW (${FETCH_WINDOW}) chunks`);
  t.same(n.status().fetching, { from: 'n1', slot: 10, chunks: 7, received: 0 });
  n.step(chunk('n1', 10, 0, 7));
  let rd = cycle(n);
  t.same(rd.persist.snapshotChunks.map((c) => c.chunk), [0], 'a chunk goes to the store');
  t.same(fetched(rd), [4], 'and the window moves on by one');
  n.step(chunk('n1', 10, 2, 7));
  n.step(chunk('n1', 10, 3, 7));
  rd = cycle(n);
  t.same(rd.persist.snapshotChunks.map((c) => c.chunk), [2, 3], 'chunks out of order are stored too');
  t.same(fetched(rd), [], 'but chunk 1 is still missing: the window is full');
  n.step(chunk('n2', 10, 1, 7));
  n.step(chunk('n1', 9, 1, 7));
  n.step(chunk('n1', 10, 2, 7));
  n.step(chunk('n1', 10, 6, 7));
  t.notOk(n.hasReady(), 'not taken: a chunk from another replica, of another snapshot, a duplicate, one never asked for');
  n.step(chunk('n1', 10, 1, 7));
  t.same(fetched(cycle(n)), [5, 6]);
  n.step(chunk('n1', 10, 4, 7));
  n.step(chunk('n1', 10, 6, 7));
  t.equal(cycle(n).installSnapshot, null, 'not all there yet');
  n.step(chunk('n1', 10, 5, 7));
  rd = cycle(n);
  t.same(rd.installSnapshot, { slot: 10, chunks: 7 }, 'the last chunk installs it');
  t.same(rd.persist.snapshot, { slot: 10, chunks: 7 }, 'saved as the stored snapshot');
  t.equal(rd.persist.compactTo, 10);
  t.equal(n.slotOut, 11);
  t.equal(n.snapshotSlot, 10);
  t.equal(n.status().fetching, null);
});

t.test('a transfer resumes after a lost chunk', async (t) => {
  const { c, written } = behind();
  const slot = c.disks.get('n1')?.snapshot?.slot;
  let lost = false;
  c.drop = (m) => m.type === 'SnapshotChunk' && m.chunk === 1 && !lost && (lost = true);
  const fetches: number[] = [];
  const drop = c.drop;
  c.drop = (m) => {
    if (m.type === 'SnapshotFetch' && m.from === 'n3') fetches.push(m.chunk);
    return drop(m);
  };
  c.healAll();
  c.tickAll(12);
  t.ok(lost, 'chunk 1 was lost');
  t.equal(fetches.filter((k) => k === 1).length, 2, 'chunk 1 was asked for again');
  t.equal(fetches.filter((k) => k === 0).length, 1, 'the transfer went on: chunk 0 was not fetched again');
  t.same(c.installed.get('n3'), [slot], 'n3 installed the snapshot');
  t.same(c.appliedTexts('n3'), written, 'with the state of the others');
});

t.test('a newer snapshot replaces one in transfer', async (t) => {
  const { c, written } = behind();
  const first = c.disks.get('n1')?.snapshot?.slot as number;
  let arrived = 0;
  let stalled = false;
  c.drop = (m) => m.type === 'SnapshotChunk' && m.to === 'n3' && (stalled || ++arrived > 2);
  c.healAll();
  c.tickAll(3);
  t.equal(c.node('n3').status().fetching?.slot, first, `n3 is fetching snapshot ${first}`);
  stalled = true;
  // n1 moves on, snapshots again and drops the chunks of the one n3 is fetching.
  written.push(...write(c, 'n1', 6, 'c'));
  const newer = c.disks.get('n1')?.snapshot?.slot as number;
  t.ok(newer > first && c.disks.get('n1')?.chunks.get(first) === undefined, `n1 replaced it by ${newer}`);
  stalled = false;
  arrived = -1000;
  c.tickAll(12);
  t.same(c.installed.get('n3'), [newer], 'n3 was offered the newer one and installed it (never the older)');
  t.same(c.appliedTexts('n3'), written);

  // An offer of a newer snapshot from anyone replaces the transfer; an older or equal one does not.
  const n = node('n3', THREE);
  n.step({ type: 'SnapshotOffer', from: 'n1', to: 'n3', slot: 10, chunks: 3 });
  cycle(n);
  n.step({ type: 'SnapshotOffer', from: 'n2', to: 'n3', slot: 10, chunks: 5 });
  n.step({ type: 'SnapshotOffer', from: 'n2', to: 'n3', slot: 8, chunks: 5 });
  t.notOk(n.hasReady(), 'an offer not newer is ignored');
  n.step({ type: 'SnapshotOffer', from: 'n2', to: 'n3', slot: 12, chunks: 2 });
  t.same(of(cycle(n).messages, 'SnapshotFetch').map((m) => [m.to, m.slot, m.chunk]), [['n2', 12, 0], ['n2', 12, 1]], 'a newer one is fetched instead');
  n.step(chunk('n1', 10, 0, 3));
  t.notOk(n.hasReady(), 'chunks of the replaced transfer are not taken');
  n.step(chunk('n2', 12, 0, 4));
  t.same(fetched(cycle(n)), [0, 1, 2, 3], 'its source stores it in other chunks now: the transfer starts over');
});

t.test('a receiver that restarts mid-transfer starts over cleanly', async (t) => {
  const { c, written } = behind();
  const slot = c.disks.get('n1')?.snapshot?.slot as number;
  let arrived = 0;
  let stalled = false;
  c.drop = (m) => m.type === 'SnapshotChunk' && m.to === 'n3' && (stalled || ++arrived > 3);
  c.healAll();
  c.tickAll(3);
  t.equal(c.disks.get('n3')?.chunks.get(slot)?.filter((x) => x !== undefined).length, 3, 'n3 stored 3 chunks');
  t.ok((c.disks.get('n3')?.snapshot?.slot ?? 0) < slot, 'but it is not its snapshot');
  stalled = true;
  c.crash('n3');
  c.restart('n3');
  t.equal(c.disks.get('n3')?.chunks.get(slot), undefined, 'restarted: the chunks of the unfinished transfer are gone');
  t.equal(c.node('n3').status().fetching, null, 'and no transfer is in progress');
  const fetches: number[] = [];
  c.drop = (m) => {
    if (m.type === 'SnapshotFetch' && m.from === 'n3') fetches.push(m.chunk);
    return false;
  };
  c.tickAll(12);
  t.equal(fetches[0], 0, 'it fetches again from chunk 0');
  t.same(c.installed.get('n3'), [slot]);
  t.same(c.appliedTexts('n3'), written, 'and ends with the state of the others');
});

t.test('a transfer whose source stays silent is given up; catch-up then starts another', async (t) => {
  const { c, written } = behind();
  c.drop = (m) => m.type === 'SnapshotChunk' && m.to === 'n3';
  c.healAll();
  c.tickAll(3);
  const n3 = c.node('n3');
  t.equal(n3.status().fetching?.from, 'n1', 'fetching from n1');
  let gaveUp = 0;
  for (let k = 0; k < 60 && n3.status().fetching !== null; k++) {
    c.tickAll(1);
    gaveUp = k;
  }
  t.ok(gaveUp > 10, `retried for ${gaveUp} ticks before giving up`);
  c.drop = () => false;
  c.tickAll(12);
  t.ok((c.installed.get('n3') ?? []).length === 1, 'the next catch-up offered it again: installed');
  t.same(c.appliedTexts('n3'), written);
});

t.test('decisions that get there first end a transfer', async (t) => {
  const n = node('n3', THREE);
  n.step({ type: 'SnapshotOffer', from: 'n1', to: 'n3', slot: 2, chunks: 3 });
  cycle(n);
  const origin = { round: 1, leader: 'n1' };
  n.step({ type: 'Decision', from: 'n2', to: 'n3', decisions: [1, 2].map((slot) => ({ slot, command: { kind: 'noop' as const, origin, payloads: [] } })) });
  t.same(cycle(n).decided.map((d) => d.slot), [1, 2], 'slots 1 and 2 applied from decisions');
  n.step(chunk('n1', 2, 0, 3));
  t.equal(n.status().fetching, null, 'the transfer is dropped');
  t.notOk(n.hasReady(), 'and its chunk not stored');
});

t.test('IncomingSnapshot: a bounded window, retries after a silence, given up after a longer one', async (t) => {
  const f = new IncomingSnapshot('n1', 5, 10, 2, 7);
  t.same(f.fill(), [0, 1, 2, 3]);
  t.same(f.fill(), [], 'never more than the window outstanding');
  t.ok(f.receive(1));
  t.notOk(f.receive(1), 'a duplicate');
  t.notOk(f.receive(7), 'not asked for');
  t.same(f.fill(), [], 'chunk 0 missing: the window does not move');
  t.same(f.tick(), []);
  t.same(f.tick(), [0, 2, 3], 'after retryTicks silent: the missing ones again');
  t.ok(f.receive(0));
  t.equal(f.received, 2);
  t.same(f.fill(), [4, 5]);
  for (let k = 0; k < 6; k++) t.not(f.tick(), null);
  t.equal(f.tick(), null, 'after giveUpTicks silent: given up');
});
