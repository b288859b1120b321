/** A PrePrepare's batch on the wire as bytes packed once (batch-wire.ts). */
import t from 'tap';
import type { Batch, PrePrepare } from '../../protocols/pbft/types.js';
import { FRAME_HEADER_BYTES, FrameEncoder, PayloadDecoder } from '../transport/frame-codec.js';
import { MemoryPbftStore } from '../storage/leveldb-pbft-store.js';
import { fromWire, packedBatch, toWire } from './batch-wire.js';
import { PbftMessageGuard } from './message-guard.js';

const batch: Batch = [
  { clientId: 'c1', seq: 1, origin: 0, operation: { op: 'put', key: 'k', value: 'vé🙂' } },
  { clientId: 'c2', seq: 7, origin: 2, operation: { op: 'cas', key: 'k', expected: null, value: 'w' } },
];
const prePrepare: PrePrepare = { type: 'PrePrepare', view: 0, sequence: 1, digest: 'd', batch, replica: 0, auth: new Uint8Array(16) };

/** Through a real frame, as the transport carries it. */
function overTheWire(message: unknown): unknown {
  const frame = new FrameEncoder().encode(message);
  return new PayloadDecoder().decode(frame.subarray(FRAME_HEADER_BYTES));
}

t.test('a PrePrepare arrives with the same batch, and the guard accepts it', async (t) => {
  const wire = toWire(prePrepare) as { batch: unknown };
  t.ok(wire.batch instanceof Uint8Array, 'the batch travels as bytes');
  const received = fromWire(overTheWire(wire));
  t.same(received, prePrepare);
  t.ok(new PbftMessageGuard(4).check(received));
});

t.test('the batch is packed once for every receiver and for the store', async (t) => {
  const a = toWire({ ...prePrepare, auth: new Uint8Array([1]) }) as { batch: Uint8Array };
  const b = toWire({ ...prePrepare, auth: new Uint8Array([2]) }) as { batch: Uint8Array };
  t.equal(a.batch, b.batch, 'same bytes object for two receivers');
  t.equal(packedBatch(batch), a.batch, 'and for the store');
});

t.test('a backup stores the bytes it received; a restart loads the batch it checked', async (t) => {
  const received = fromWire(overTheWire(toWire(prePrepare))) as PrePrepare;
  const bytes = packedBatch(received.batch);
  const store = new MemoryPbftStore();
  await store.persist([{ key: 'b/1/d', value: received.batch, packed: bytes }]);
  t.equal(store.records.get('b/1/d'), bytes, 'not packed again');
  t.same(await store.load(), [['b/1/d', batch]]);
});

t.test('garbage instead of batch bytes is refused by the guard, not thrown', async (t) => {
  const guard = new PbftMessageGuard(4);
  for (const junk of [new Uint8Array([0xc1]), new Uint8Array([0x92, 0x01]), new Uint8Array(0)]) {
    const m = fromWire({ ...prePrepare, batch: junk });
    t.notOk(guard.check(m));
  }
  t.notOk(guard.check(fromWire({ ...prePrepare, batch: new Uint8Array([0x93, 1, 2, 3]) })), 'bytes of a non-batch');
  t.equal(fromWire('not an object'), 'not an object');
});
