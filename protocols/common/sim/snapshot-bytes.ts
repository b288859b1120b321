/**
 * The simulated state machine's snapshot bytes, shared by the Raft and Multi-Paxos simulations
 * (Raft §7; Multi-Paxos state transfer): the point it was taken at (log index or slot) and the
 * state hash after it, then filler (a function of both) so that a snapshot is tens of bytes and
 * is stored and sent in many tiny chunks. Decoding checks every byte, so a chunk of another
 * snapshot, or a lost one, is caught.
 */
import { invariant } from '../invariant.js';

export function encodeSimSnapshot(point: number, hash: number): Uint8Array {
  const filler = (point * 7 + hash) % 41;
  const data = new Uint8Array(8 + filler);
  const view = new DataView(data.buffer);
  view.setUint32(0, point, true);
  view.setUint32(4, hash, true);
  for (let k = 0; k < filler; k++) data[8 + k] = (hash >>> ((k % 4) * 8)) & 0xff;
  return data;
}

export function decodeSimSnapshot(data: Uint8Array): { point: number; hash: number } {
  invariant(data.byteLength >= 8, () => `snapshot of ${data.byteLength} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const point = view.getUint32(0, true);
  const hash = view.getUint32(4, true);
  const expected = encodeSimSnapshot(point, hash);
  invariant(expected.byteLength === data.byteLength && expected.every((byte, k) => data[k] === byte), () => `snapshot bytes of ${point} are corrupt`);
  return { point, hash };
}

/** A runtime stores a snapshot's bytes in chunks of at most `chunkBytes` (at least one chunk). */
export function splitChunks(data: Uint8Array, chunkBytes: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength || chunks.length === 0; at += chunkBytes) chunks.push(data.subarray(at, at + chunkBytes));
  return chunks;
}

/** The bytes of `parts`, joined. */
export function joinChunks(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
