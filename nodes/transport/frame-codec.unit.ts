import t, { type Test } from 'tap';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameEncoder, FrameTooLargeError, PayloadDecoder } from './frame-codec.js';

const encoder = new FrameEncoder();

function decodeAll(t: Test, chunks: Buffer[], maxFrameBytes = 1 << 20): unknown[] {
  const decoder = new FrameDecoder(maxFrameBytes);
  const payloads = new PayloadDecoder();
  const out: unknown[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk, (payload) => {
      out.push(payloads.decode(payload));
      return true;
    });
  }
  t.equal(decoder.bufferedBytes, 0, 'nothing left over');
  return out;
}

/** Splits `data` at pseudo-random points (a fixed LCG, so failures reproduce). */
function randomSplit(data: Buffer, seed: number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  let state = seed;
  let offset = 0;
  while (offset < data.length) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (state % maxChunk);
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

const messages: unknown[] = [
  { type: 'AppendEntries', term: 3, leaderId: 'n1', prevLogIndex: 41, entries: [{ index: 42, term: 3, data: 'x' }] },
  { type: 'RequestVote', term: 4, candidateId: 'n2', lastLogIndex: 0, lastLogTerm: 0 },
  'a string',
  12345678901,
  -1.5,
  null,
  true,
  [1, [2, [3]]],
  { nested: { deep: { unicode: 'héllo ✓ 𝄞' } } },
  { empty: {}, list: [] },
];

t.test('frames round-trip one at a time', async (t) => {
  const out = decodeAll(t, messages.map((m) => encoder.encode(m)));
  t.same(out, messages);
});

t.test('frames coalesced into one chunk decode in order', async (t) => {
  const out = decodeAll(t, [Buffer.concat(messages.map((m) => encoder.encode(m)))]);
  t.same(out, messages);
});

t.test('frames split at every byte and at random points decode in order', async (t) => {
  const stream = Buffer.concat(messages.map((m) => encoder.encode(m)));
  t.same(decodeAll(t, randomSplit(stream, 1, 1)), messages, 'one byte at a time');
  for (const seed of [7, 42, 1234, 99991]) {
    t.same(decodeAll(t, randomSplit(stream, seed, 13)), messages, `random split, seed ${seed}`);
  }
});

t.test('the header is a 4-byte big-endian payload length', async (t) => {
  const frame = encoder.encode('hi');
  t.equal(frame.readUInt32BE(0), frame.length - FRAME_HEADER_BYTES);
  t.equal(frame.length, FRAME_HEADER_BYTES + 3, 'fixstr header + 2 bytes');
});

t.test('encoded frames stay intact while the encoder keeps going', async (t) => {
  const frames = Array.from({ length: 5000 }, (_, i) => encoder.encode({ i, pad: 'x'.repeat(i % 50) }));
  const out = decodeAll(t, frames);
  t.same(out, Array.from({ length: 5000 }, (_, i) => ({ i, pad: 'x'.repeat(i % 50) })));
});

t.test('binary payloads round-trip as bytes and do not alias the socket chunk', async (t) => {
  const bytes = new Uint8Array(300);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) & 0xff;
  const message = { data: bytes, buf: Buffer.from([0, 255, 1, 254]), empty: new Uint8Array(0) };
  const chunk = Buffer.concat([encoder.encode(message), encoder.encode(message)]);
  const out = decodeAll(t, [chunk]) as Array<{ data: Uint8Array; buf: Uint8Array; empty: Uint8Array }>;
  t.equal(out.length, 2);
  const first = out[0]!;
  t.ok(first.data instanceof Uint8Array, 'Uint8Array in, Uint8Array (Buffer) out');
  t.same([...first.data], [...bytes]);
  t.same([...first.buf], [0, 255, 1, 254]);
  t.equal(first.empty.length, 0);
  chunk.fill(0);
  t.same([...first.data], [...bytes], 'decoded bytes own their memory');
});

t.test('a large frame arriving in many small chunks is assembled once', async (t) => {
  const big = { blob: Buffer.alloc(2 * 1024 * 1024, 7), tail: 'end' };
  const frame = encoder.encode(big);
  const chunks = randomSplit(frame, 5, 1500);
  const start = process.hrtime.bigint();
  const out = decodeAll(t, chunks, 4 * 1024 * 1024) as Array<typeof big>;
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  t.equal(out.length, 1);
  t.equal(out[0]!.blob.length, big.blob.length);
  t.equal(out[0]!.tail, 'end');
  // Quadratic re-concatenation of ~1400 chunks of a 2 MiB frame would copy ~1.5 GB.
  t.ok(elapsedMs < 2000, `assembled in ${elapsedMs.toFixed(1)} ms`);
});

t.test('an oversized header is refused before its payload is buffered', async (t) => {
  const decoder = new FrameDecoder(100);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(101, 0);
  t.throws(() => decoder.push(header, () => true), FrameTooLargeError);
  const ok = new FrameDecoder(100);
  const exact = Buffer.alloc(4 + 100);
  exact.writeUInt32BE(100, 0);
  let seen = 0;
  ok.push(exact, (payload) => {
    seen = payload.length;
    return true;
  });
  t.equal(seen, 100, 'a frame of exactly the limit is accepted');
});

t.test('onFrame returning false stops the loop', async (t) => {
  const decoder = new FrameDecoder(1000);
  let calls = 0;
  decoder.push(Buffer.concat([encoder.encode(1), encoder.encode(2), encoder.encode(3)]), () => {
    calls += 1;
    return false;
  });
  t.equal(calls, 1);
});

t.test('the payload decoder refuses malformed msgpack', async (t) => {
  const payloads = new PayloadDecoder();
  t.throws(() => payloads.decode(Buffer.alloc(0)), 'empty payload');
  t.throws(() => payloads.decode(Buffer.from([0x92, 0x01])), 'truncated array');
  t.throws(() => payloads.decode(Buffer.from([0x01, 0x02])), 'trailing bytes');
  t.throws(() => payloads.decode(Buffer.from([0xd9, 0x10, 0x61])), 'string longer than the payload');
  const polluted = payloads.decode(new FrameEncoder().encode(JSON.parse('{"__proto__":{"x":1}}')).subarray(4));
  t.equal(({} as Record<string, unknown>)['x'], undefined, 'no prototype pollution');
  t.ok(polluted);
});
