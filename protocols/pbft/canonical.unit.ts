/** The canonical encoding: deterministic, key order independent, round-trips. */
import t from 'tap';
import { authenticatedBytes, batchDigest, decodeValue, encodeBatch, encodeValue, withAuthenticatedBytes, withBytes } from './canonical.js';

t.test('canonical: the same value gives the same bytes, whatever the key order', async (t) => {
  t.same(encodeValue({ a: 1, b: 'x' }), encodeValue({ b: 'x', a: 1 }));
  t.notSame(encodeValue({ a: 1 }), encodeValue({ a: 2 }));
});

t.test('canonical: decodeValue inverts encodeValue', async (t) => {
  const value = { data: [['k', 'vé🙂']], sessions: [['c', 3, [[3, { kind: 'cas', ok: false, current: null }]]]], n: -5, f: 1.5, b: new Uint8Array([1, 2]) };
  t.same(decodeValue(encodeValue(value)), value);
  t.throws(() => decodeValue(new Uint8Array([99])));
  t.throws(() => decodeValue(new Uint8Array([6, 10, 65])), /truncated/);
});

t.test('canonical: a PrePrepare authenticates (v, n, d), not the batch; batches digest by content', async (t) => {
  const base = { type: 'PrePrepare' as const, view: 1, sequence: 2, digest: 'd', batch: [], replica: 0, auth: new Uint8Array(0) };
  t.same(authenticatedBytes(base), authenticatedBytes({ ...base, batch: [{ clientId: 'c', seq: 1, origin: 0, operation: { op: 'get', key: 'k' } }] }));
  t.notSame(authenticatedBytes(base), authenticatedBytes({ ...base, sequence: 3 }));
  const r = { clientId: 'c', seq: 1, origin: 0, operation: { op: 'put' as const, key: 'k', value: 'v' } };
  t.notSame(encodeBatch([r]), encodeBatch([{ ...r, operation: { op: 'put', key: 'k', value: 'w' } }]));
});

t.test('canonical: strings are tag, varint UTF-8 length, UTF-8 bytes (ASCII and encodeInto paths agree)', async (t) => {
  const reference = (text: string): Uint8Array => {
    const body = new TextEncoder().encode(text);
    const prefix: number[] = [];
    let v = body.length;
    while (v >= 0x80) {
      prefix.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    prefix.push(v);
    return new Uint8Array([6, ...prefix, ...body]);
  };
  const samples = ['', 'a', 'ab', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(300), 'é', 'vé🙂', 'é'.repeat(40), 'a'.repeat(50) + '🙂', '🙂'.repeat(43), 'ü'.repeat(5000), '\u00ff'.repeat(200)];
  for (const text of samples) {
    t.same(encodeValue(text), reference(text), `${text.length} units`);
    t.equal(decodeValue(encodeValue(text)), text);
    t.same(decodeValue(encodeValue([text, 1, text])), [text, 1, text], 'inside an array (the scratch buffer grows mid-value)');
  }
});

t.test('canonical: scoped views give the same bytes as the copying encoders, and free the scratch buffer', async (t) => {
  const request = { clientId: 'c', seq: 1, origin: 0, operation: { op: 'put' as const, key: 'k', value: 'vé'.repeat(3000) } };
  const batch = [request, { ...request, seq: 2 }];
  const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  t.equal(batchDigest(batch, hex), hex(encodeBatch(batch)), 'batchDigest hashes exactly encodeBatch');
  const m = { type: 'Prepare' as const, view: 3, sequence: 9, digest: 'd', replica: 1, auth: new Uint8Array(0) };
  t.equal(withAuthenticatedBytes(m, hex), hex(authenticatedBytes(m)));
  // Nested: a writer created while a view is in use gets its own buffer, the outer view survives.
  const outer = withAuthenticatedBytes(m, (bytes) => {
    const copy = hex(bytes);
    encodeBatch(batch); // would overwrite the scratch buffer if it were shared
    return copy === hex(bytes);
  });
  t.ok(outer, 'a nested encoder does not clobber the view');
  t.throws(() => withBytes(() => { throw new Error('boom'); }, hex));
  t.equal(hex(encodeValue('after')), hex(encodeValue('after')), 'the scratch buffer is usable after a throw');
});
