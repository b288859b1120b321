import t from 'tap';
import pino from 'pino';
import { slabCopy } from './command-slab.js';
import { applyEncodedCommand, encodeCommand } from './command-codec.js';
import { KvStateMachine } from '../protocols/kv/state-machine.js';

t.test('small commands are copied side by side into one slab, large ones get their own buffer', async (t) => {
  const a = Uint8Array.from([1, 2, 3]);
  const b = Uint8Array.from([4, 5]);
  const ca = slabCopy(a);
  const cb = slabCopy(b);
  t.same([...ca], [1, 2, 3]);
  t.same([...cb], [4, 5]);
  a[0] = 9;
  t.equal(ca[0], 1, 'a copy, not a view of the source');
  if (ca.buffer === cb.buffer) t.equal(cb.byteOffset, ca.byteOffset + ca.length, 'the next command follows in the same slab');
  else t.equal(cb.byteOffset, 0, 'or starts a new slab');
  t.ok(ca.buffer.byteLength >= 64 * 1024, 'a slab, not a buffer of its own');
  const big = slabCopy(new Uint8Array(10_000).fill(7));
  t.equal(big.buffer.byteLength, 10_000, 'a large command owns exactly its bytes');
  // Thousands of copies never overlap: each still holds what was copied into it.
  const copies = Array.from({ length: 2000 }, (_, i) => slabCopy(new Uint8Array(100 + (i % 50)).fill(i % 251)));
  t.ok(copies.every((c, i) => c.length === 100 + (i % 50) && c.every((x) => x === i % 251)), 'no copy overwrote another');
});

t.test('applying a command leaves nothing on its bytes (msgpackr caches a DataView on what it decodes)', async (t) => {
  const sm = new KvStateMachine();
  const data = encodeCommand({ operation: { op: 'put', key: 'k', value: 'v' }, session: null });
  const result = applyEncodedCommand(sm, data, pino({ level: 'silent' }));
  t.same(result, { kind: 'put' });
  t.same(Object.keys(data as object).filter((k) => Number.isNaN(Number(k))), [], 'no dataView property on the entry');
  t.equal(sm.get('k'), 'v');
});
