/**
 * Where SlotCommands (slot-commands.ts) keeps the payload bytes of the commands it holds: packed
 * one command after another into append-only chunks, each payload prefixed by its length (4 bytes,
 * little-endian). A command's payloads sit together in one chunk, so a slot needs only where its
 * packed bytes start, how long they are and how many payloads they hold.
 *
 * Slots are forgotten in no fixed order (an acceptor replaces a pvalue when a higher ballot
 * arrives; a decision can be learned far ahead of slot_out), so each chunk counts the commands
 * still packed in it and is forgotten when that count drops to zero and a newer chunk has taken
 * over. Bytes are never overwritten: a payload view handed out stays valid after its slot is
 * forgotten (the collector keeps the chunk alive as long as a view does).
 */
import { nextChunkBytes } from '../common/chunk-size.js';
import { invariant } from '../common/invariant.js';

const LENGTH_BYTES = 4;

interface Chunk {
  bytes: Uint8Array;
  /** Commands packed here and not yet released. */
  commands: number;
}

/** Where one command's payloads were packed. */
export interface Packed {
  chunk: number;
  offset: number;
  length: number;
}

export class CommandChunks {
  private readonly chunks = new Map<number, Chunk>();
  /** The chunk new commands go to: never forgotten while current. */
  private currentId = -1;
  private used = 0;

  /** How many chunks are held (for tests). */
  get chunkCount(): number {
    return this.chunks.size;
  }

  /** Packs the payloads into the current chunk (a new one if they do not fit). */
  pack(payloads: readonly Uint8Array[]): Packed {
    let length = 0;
    for (const p of payloads) length += LENGTH_BYTES + p.length;
    const chunk = this.room(length);
    let at = this.used;
    for (const p of payloads) {
      writeLength(chunk.bytes, at, p.length);
      chunk.bytes.set(p, at + LENGTH_BYTES);
      at += LENGTH_BYTES + p.length;
    }
    const packed = { chunk: this.currentId, offset: this.used, length };
    this.used = at;
    chunk.commands++;
    return packed;
  }

  /** The payloads packed at `offset`, as views into their chunk. */
  unpack(chunkId: number, offset: number, length: number): Uint8Array[] {
    const chunk = this.chunks.get(chunkId);
    invariant(chunk !== undefined, () => `payloads in forgotten chunk ${chunkId}`);
    const out: Uint8Array[] = [];
    const end = offset + length;
    for (let at = offset; at < end; ) {
      const n = readLength(chunk.bytes, at);
      out.push(chunk.bytes.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + n));
      at += LENGTH_BYTES + n;
    }
    return out;
  }

  /** One command packed in `chunkId` is no longer held; an idle, superseded chunk is forgotten. */
  release(chunkId: number): void {
    const chunk = this.chunks.get(chunkId);
    invariant(chunk !== undefined && chunk.commands > 0, () => `release of chunk ${chunkId}, which holds no command`);
    chunk.commands--;
    if (chunk.commands === 0 && chunkId !== this.currentId) this.chunks.delete(chunkId);
  }

  /** The current chunk, or a new one with room for `need` more bytes. */
  private room(need: number): Chunk {
    const current = this.chunks.get(this.currentId);
    if (current !== undefined && this.used + need <= current.bytes.length) return current;
    if (current !== undefined && current.commands === 0) this.chunks.delete(this.currentId);
    const chunk = { bytes: new Uint8Array(nextChunkBytes(current?.bytes.length, need)), commands: 0 };
    this.currentId++;
    this.chunks.set(this.currentId, chunk);
    this.used = 0;
    return chunk;
  }
}

function writeLength(bytes: Uint8Array, at: number, n: number): void {
  bytes[at] = n & 0xff;
  bytes[at + 1] = (n >>> 8) & 0xff;
  bytes[at + 2] = (n >>> 16) & 0xff;
  bytes[at + 3] = (n >>> 24) & 0xff;
}

function readLength(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}
