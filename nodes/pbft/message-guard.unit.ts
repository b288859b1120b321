import t from 'tap';
import { SeededRng } from '../../protocols/common/rng.js';
import { PbftMessageGuard } from './message-guard.js';

const guard = new PbftMessageGuard(4);
const auth = new Uint8Array(16);
const request = { clientId: 'c', seq: 1, operation: { op: 'put', key: 'k', value: 'v' }, origin: 0 };
const checkpoint = { type: 'Checkpoint', sequence: 128, digest: 'ab', replica: 1, auth };

t.test('well-formed messages of every kind pass', async (t) => {
  const good = [
    { type: 'Request', request, replica: 0, auth },
    { type: 'PrePrepare', view: 0, sequence: 1, digest: 'd', batch: [request], replica: 0, auth },
    { type: 'Prepare', view: 0, sequence: 1, digest: 'd', replica: 2, auth },
    { type: 'Commit', view: 0, sequence: 1, digest: 'd', replica: 3, auth },
    { type: 'Reply', view: 0, replies: [{ clientId: 'c', seq: 1, result: { kind: 'cas', ok: false, current: null } }], replica: 1, auth },
    { type: 'ReadRequest', request: { ...request, operation: { op: 'get', key: 'k' } }, replica: 0, auth },
    { type: 'ReadReply', clientId: 'c', seq: 1, result: { kind: 'get', value: null }, replica: 1, auth },
    checkpoint,
    { type: 'ViewChange', view: 1, h: 128, checkpointDigest: 'ab', checkpointProof: [checkpoint], prepared: [{ sequence: 129, digest: 'd', view: 0 }], prePrepared: [], batches: [{ sequence: 129, digest: 'd', batch: [request] }], replica: 2, auth },
    { type: 'Fetch', from: 3, h: 0, replica: 1, auth },
    { type: 'FetchReply', entries: [], stable: { sequence: 128, digest: 'ab', proof: [checkpoint] }, replica: 1, auth },
    { type: 'FetchBatches', wanted: [{ sequence: 129, digest: 'd' }], replica: 1, auth },
    { type: 'Batches', entries: [{ sequence: 129, digest: 'd', batch: [request] }], replica: 1, auth },
    { type: 'FetchMeta', sequence: 128, digest: 'ab', nodes: [{ level: 4, index: 0 }], replica: 1, auth },
    { type: 'Meta', sequence: 128, digest: 'ab', proof: [checkpoint], nodes: [{ level: 4, index: 0, children: ['ab', 'cd'] }], replica: 1, auth },
    { type: 'FetchPartitions', sequence: 128, digest: 'ab', parts: [{ partition: 4159, offset: 0 }], replica: 1, auth },
    { type: 'PartitionChunk', sequence: 128, digest: 'ab', partition: 7, offset: 0, total: 1, bytes: new Uint8Array(3), replica: 1, auth },
  ];
  for (const m of good) t.ok(guard.check(m), m.type);
});

t.test('malformed ones are refused', async (t) => {
  const bad: unknown[] = [
    null, 42, 'Prepare', [], new Uint8Array(4),
    { type: 'Prepare', view: 0, sequence: 1, digest: 'd', replica: 4, auth }, // no replica 4
    { type: 'Prepare', view: -1, sequence: 1, digest: 'd', replica: 0, auth },
    { type: 'Prepare', view: 0, sequence: 1.5, digest: 'd', replica: 0, auth },
    { type: 'Prepare', view: 0, sequence: 1, digest: 'd', replica: 0, auth: 'x' },
    { type: 'PrePrepare', view: 0, sequence: 1, digest: 'd', batch: [{ ...request, origin: 9 }], replica: 0, auth },
    { type: 'PrePrepare', view: 0, sequence: 1, digest: 'd', batch: [{ ...request, operation: { op: 'put', key: 'k' } }], replica: 0, auth },
    { type: 'Reply', view: 0, replies: [{ clientId: 'c', seq: 1, result: { kind: 'nope' } }], replica: 1, auth },
    { type: 'Nope', replica: 0, auth },
    { type: 'FetchMeta', sequence: 128, digest: 'ab', nodes: [{ level: -1, index: 0 }], replica: 1, auth },
    { type: 'Meta', sequence: 128, digest: 'ab', proof: [checkpoint], nodes: [{ level: 4, index: 0, children: [7] }], replica: 1, auth },
    { type: 'FetchPartitions', sequence: 128, digest: 'ab', parts: [{ partition: 'p', offset: 0 }], replica: 1, auth },
    { type: 'PartitionChunk', sequence: 128, digest: 'ab', partition: 7, offset: 0, total: 1, bytes: [1, 2], replica: 1, auth },
  ];
  for (const m of bad) t.notOk(guard.check(m), JSON.stringify(m)?.slice(0, 80) ?? String(m));
});

t.test('random garbage never throws', async (t) => {
  const rng = new SeededRng(5);
  const types = ['Request', 'PrePrepare', 'Prepare', 'Commit', 'Reply', 'ViewChange', 'NewView', 'FetchReply', 'FetchMeta', 'Meta', 'FetchPartitions', 'PartitionChunk'];
  const value = (depth: number): unknown => {
    switch (rng.int(depth > 2 ? 5 : 8)) {
      case 0: return null;
      case 1: return rng.int(10) - 2;
      case 2: return 'x'.repeat(rng.int(4));
      case 3: return new Uint8Array(rng.int(4));
      case 4: return rng.chance(0.5);
      case 5: return Array.from({ length: rng.int(3) }, () => value(depth + 1));
      default: return Object.fromEntries(['type', 'view', 'sequence', 'batch', 'request', 'replica', 'auth', 'proof', 'result'].filter(() => rng.chance(0.5)).map((k) => [k, k === 'type' ? types[rng.int(types.length)] : value(depth + 1)]));
    }
  };
  for (let i = 0; i < 5000; i++) guard.check(value(0));
  t.pass('5000 random values checked without a throw');
});
