import t from 'tap';
import { isPaxosMessage } from './message-guard.js';

const b = { round: 2, leader: 'n1' };
const cmd = { kind: 'batch', origin: b, payloads: [new Uint8Array([1, 2])] };
const good = [
  { type: 'P1a', from: 'n1', to: 'n2', ballot: b, fromSlot: 1 },
  { type: 'P1b', from: 'n2', to: 'n1', request: b, ballotNum: b, accepted: [{ ballot: b, slot: 3, command: cmd }], compactedTo: 0 },
  { type: 'P1b', from: 'n2', to: 'n1', request: b, ballotNum: { round: 0, leader: '' }, accepted: [], compactedTo: 12 },
  { type: 'P2a', from: 'n1', to: 'n2', pvalue: { ballot: b, slot: 1, command: { kind: 'noop', origin: b, payloads: [] } } },
  { type: 'P2b', from: 'n2', to: 'n1', ballotNum: b, slot: 1 },
  { type: 'Decision', from: 'n1', to: 'n2', decisions: [{ slot: 1, command: cmd }] },
  { type: 'Heartbeat', from: 'n1', to: 'n2', ballot: b, slotOut: 1, readRound: 0, gcSlot: 0 },
  { type: 'HeartbeatAck', from: 'n2', to: 'n1', ballotNum: b, readRound: 4, applied: 3 },
  { type: 'CatchUp', from: 'n2', to: 'n1', fromSlot: 7 },
  { type: 'SnapshotOffer', from: 'n1', to: 'n2', slot: 40, chunks: 3 },
  { type: 'SnapshotFetch', from: 'n2', to: 'n1', slot: 40, chunk: 0 },
  { type: 'SnapshotChunk', from: 'n1', to: 'n2', slot: 40, chunk: 2, chunks: 3, data: new Uint8Array([9]) },
];

t.test('well-formed Multi-Paxos messages pass', async (t) => {
  for (const m of good) t.ok(isPaxosMessage(m), m.type);
});

t.test('peer frames that are not Multi-Paxos messages are refused', async (t) => {
  const p2a = good[3] as Record<string, unknown>;
  const bad: unknown[] = [
    null, 42, 'x', [], {},
    { ...p2a, type: 'Nope' },
    { ...p2a, from: 7 },
    { ...p2a, to: '' },
    { ...p2a, pvalue: { ballot: b, slot: -1, command: cmd } },
    { ...p2a, pvalue: { ballot: b, slot: 1.5, command: cmd } },
    { ...p2a, pvalue: { ballot: { round: -1, leader: 'n1' }, slot: 1, command: cmd } },
    { ...p2a, pvalue: { ballot: { round: 1, leader: '' }, slot: 1, command: cmd } },
    { ...p2a, pvalue: { ballot: b, slot: 1, command: { ...cmd, payloads: ['text'] } } },
    { ...p2a, pvalue: { ballot: b, slot: 1, command: { ...cmd, kind: 'other' } } },
    { ...p2a, pvalue: { ballot: b, slot: 1, command: { kind: 'noop', origin: b, payloads: [new Uint8Array(1)] } } },
    { type: 'Decision', from: 'n1', to: 'n2', decisions: [{ slot: 'x', command: cmd }] },
    { type: 'Decision', from: 'n1', to: 'n2', decisions: {} },
    { type: 'Heartbeat', from: 'n1', to: 'n2', ballot: b, slotOut: 1, readRound: Number.NaN, gcSlot: 0 },
    { type: 'Heartbeat', from: 'n1', to: 'n2', ballot: b, slotOut: 1, readRound: 0 },
    { type: 'HeartbeatAck', from: 'n2', to: 'n1', ballotNum: b, readRound: 4, applied: -1 },
    { type: 'Snapshot', from: 'n1', to: 'n2', slot: 4, data: new Uint8Array([9]) },
    { type: 'SnapshotOffer', from: 'n1', to: 'n2', slot: 0, chunks: 1 },
    { type: 'SnapshotOffer', from: 'n1', to: 'n2', slot: 4, chunks: 0 },
    { type: 'SnapshotFetch', from: 'n2', to: 'n1', slot: 4, chunk: -1 },
    { type: 'SnapshotFetch', from: 'n2', to: 'n1', slot: 4 },
    { type: 'SnapshotChunk', from: 'n1', to: 'n2', slot: 4, chunk: 0, chunks: 1, data: 'bytes' },
    { type: 'SnapshotChunk', from: 'n1', to: 'n2', slot: 4, chunk: 1, chunks: 1, data: new Uint8Array([9]) },
    { type: 'SnapshotChunk', from: 'n1', to: 'n2', slot: 4, chunk: 0, data: new Uint8Array([9]) },
    { type: 'P1b', from: 'n2', to: 'n1', request: b, ballotNum: b, accepted: [] },
    { type: 'CatchUp', from: 'n2', to: 'n1', fromSlot: 0 },
    { type: 'P1b', from: 'n2', to: 'n1', request: b, ballotNum: b, accepted: [{ ballot: b, slot: 3 }] },
  ];
  for (const m of bad) t.notOk(isPaxosMessage(m), JSON.stringify(m));
});

t.test('slots and rounds above 2^52 are refused (the core counts up from them: slot + 1 must stay exact)', async (t) => {
  const huge = 2 ** 52 + 1;
  t.notOk(isPaxosMessage({ type: 'SnapshotOffer', from: 'n1', to: 'n2', slot: Number.MAX_SAFE_INTEGER, chunks: 1 }));
  t.notOk(isPaxosMessage({ type: 'SnapshotChunk', from: 'n1', to: 'n2', slot: 3, chunk: 0, chunks: huge, data: new Uint8Array([9]) }));
  t.notOk(isPaxosMessage({ type: 'P1a', from: 'n1', to: 'n2', ballot: { round: huge, leader: 'n1' }, fromSlot: 1 }));
  t.notOk(isPaxosMessage({ type: 'P2b', from: 'n2', to: 'n1', ballotNum: b, slot: huge }));
  t.ok(isPaxosMessage({ type: 'P2b', from: 'n2', to: 'n1', ballotNum: b, slot: 2 ** 52 }), '2^52 itself is fine');
});
