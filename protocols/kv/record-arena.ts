/**
 * Where the key-value pairs of the state machine live: records in large byte chunks outside the
 * JavaScript heap, each named by a small integer (its handle).
 *
 * Why (issue "Fast off the happy path", docs/design.md §3.10): with 1,000,000 keys of 256 B held
 * as JavaScript strings, a replica's heap held about two million strings, and every full garbage
 * collection had to mark them all. On a soak with two busy cores V8's concurrent markers fell
 * behind and the main thread did the marking itself: `--trace-gc` showed 260–280 ms of marking
 * steps within about 320 ms, and that was the replica's worst event-loop stall. Measured alone
 * (`node --expose-gc --single-threaded-gc`, 1,000,000 entries in 4,096 Maps): a full collection
 * took 155 ms with string keys and values, 42 ms with string keys and integer values, 7 ms with
 * integers for both. Bytes in a few chunks are one object each, whatever they hold, so the state
 * costs a collection next to nothing: etcd keeps its state off the Go heap (bbolt's mmap) too.
 *
 * A record is an 8-byte header, its key, then its value:
 *
 *     [key length | two-byte flag : u32][value length | two-byte flag : u32][key bytes][value bytes]
 *
 * A string whose characters all fit in one byte is stored as those bytes (latin1), any other as
 * UTF-16 code units, so every JavaScript string comes back exactly as it went in (lone surrogates
 * included) and ASCII costs one byte a character.
 *
 * Space: records of up to LARGE_RECORD bytes are carved out of 16 MiB chunks, rounded up to a size
 * class (16-byte steps up to 1 KiB, then eight classes per power of two: at most 12.5% lost), and
 * a freed record goes on its class's free list for the next record of that class. Overwriting a
 * value with one of the same class (the usual case) reuses the record in place. Larger records get
 * a chunk of their own, returned when they are freed.
 */

const CHUNK_BYTES = 16 * 1024 * 1024;
/** A handle is chunk × UNITS_PER_CHUNK + offset / 8 (records are 8-byte aligned). */
const UNITS_PER_CHUNK = CHUNK_BYTES / 8;
const LARGE_RECORD = 1024 * 1024;
const HEADER = 8;
const TWO_BYTE = 0x80000000;
const LENGTH = 0x7fffffff;

/** Whether every character fits in one byte (the string can be stored as latin1). */
const ONE_BYTE = /^[\x00-\xff]*$/;

/** How a string is laid out in a record. */
function encodedLength(s: string, oneByte: boolean): number {
  return oneByte ? s.length : 2 * s.length;
}

/** How a pair is laid out as a record: each string's encoding, and the record's bytes. */
interface Layout {
  keyOneByte: boolean;
  valueOneByte: boolean;
  size: number;
}

function layoutOf(key: string, value: string): Layout {
  const keyOneByte = ONE_BYTE.test(key);
  const valueOneByte = ONE_BYTE.test(value);
  return { keyOneByte, valueOneByte, size: HEADER + encodedLength(key, keyOneByte) + encodedLength(value, valueOneByte) };
}

/** The space a record of `bytes` takes: its size class. */
export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return (bytes + 15) & ~15;
  const step = 2 ** (Math.floor(Math.log2(bytes - 1)) - 3);
  return Math.ceil(bytes / step) * step;
}

interface Chunk {
  bytes: Buffer;
  /** The same memory as 32-bit words, for the headers. */
  words: Int32Array;
}

export class RecordArena {
  private readonly chunks: Array<Chunk | undefined> = [];
  /** Chunk numbers freed by large records, for the next chunk. */
  private readonly freeChunks: number[] = [];
  /** The chunk small records are being carved from, and how far (bytes). */
  private current = -1;
  private used = CHUNK_BYTES;
  /** Free small records by size class. */
  private readonly freeLists = new Map<number, number[]>();
  /** Bytes of chunks held, for metrics and tests. */
  heldBytes = 0;

  /** Stores a key and value; returns the record's handle. */
  add(key: string, value: string): number {
    const layout = layoutOf(key, value);
    return this.place(this.allocate(layout.size), key, value, layout);
  }

  /**
   * Replaces the value of record `handle` (whose key is `key`); returns the handle now holding the
   * pair: the same one when the new record fits the old one's size class.
   */
  replaceValue(handle: number, key: string, value: string): number {
    const layout = layoutOf(key, value);
    const old = this.size(handle);
    const sameClass = old <= LARGE_RECORD && layout.size <= LARGE_RECORD && sizeClass(layout.size) === sizeClass(old);
    if (sameClass) return this.place(handle, key, value, layout);
    this.free(handle);
    return this.place(this.allocate(layout.size), key, value, layout);
  }

  /** Gives the record's space back (to its size class's free list, or its chunk to the system). */
  free(handle: number): void {
    const size = this.size(handle);
    if (size <= LARGE_RECORD) {
      const cls = sizeClass(size);
      let list = this.freeLists.get(cls);
      if (list === undefined) this.freeLists.set(cls, (list = []));
      list.push(handle);
      return;
    }
    const c = chunkOf(handle);
    this.heldBytes -= (this.chunks[c] as Chunk).bytes.byteLength;
    this.chunks[c] = undefined;
    this.freeChunks.push(c);
  }

  /** Whether record `handle` holds `key` exactly. */
  keyEquals(handle: number, key: string): boolean {
    const chunk = this.chunks[chunkOf(handle)] as Chunk;
    const at = offsetOf(handle);
    const header = chunk.words[at >>> 2] as number;
    const length = header & LENGTH;
    const start = at + HEADER;
    const bytes = chunk.bytes;
    if ((header & TWO_BYTE) === 0) {
      if (length !== key.length) return false;
      for (let i = 0; i < length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false;
      return true;
    }
    if (length !== 2 * key.length) return false;
    for (let i = 0; i < key.length; i++) {
      const unit = (bytes[start + 2 * i] as number) | ((bytes[start + 2 * i + 1] as number) << 8);
      if (unit !== key.charCodeAt(i)) return false;
    }
    return true;
  }

  key(handle: number): string {
    const chunk = this.chunks[chunkOf(handle)] as Chunk;
    const at = offsetOf(handle);
    return decode(chunk.bytes, at + HEADER, chunk.words[at >>> 2] as number);
  }

  value(handle: number): string {
    const chunk = this.chunks[chunkOf(handle)] as Chunk;
    const at = offsetOf(handle);
    const keyHeader = chunk.words[at >>> 2] as number;
    return decode(chunk.bytes, at + HEADER + (keyHeader & LENGTH), chunk.words[(at >>> 2) + 1] as number);
  }

  /** Drops every record. */
  clear(): void {
    this.chunks.length = 0;
    this.freeChunks.length = 0;
    this.freeLists.clear();
    this.current = -1;
    this.used = CHUNK_BYTES;
    this.heldBytes = 0;
  }

  /** The record's bytes, header included (its size class follows from it). */
  private size(handle: number): number {
    const chunk = this.chunks[chunkOf(handle)] as Chunk;
    const word = offsetOf(handle) >>> 2;
    return HEADER + ((chunk.words[word] as number) & LENGTH) + ((chunk.words[word + 1] as number) & LENGTH);
  }

  private allocate(size: number): number {
    if (size > LARGE_RECORD) return this.newChunk(size) * UNITS_PER_CHUNK;
    const cls = sizeClass(size);
    return this.freeLists.get(cls)?.pop() ?? this.carve(cls);
  }

  private carve(cls: number): number {
    if (this.used + cls > CHUNK_BYTES) {
      this.current = this.newChunk(CHUNK_BYTES);
      this.used = 0;
    }
    const handle = this.current * UNITS_PER_CHUNK + this.used / 8;
    this.used += cls;
    return handle;
  }

  private newChunk(bytes: number): number {
    const aligned = Math.ceil(bytes / 8) * 8;
    const buffer = Buffer.alloc(aligned);
    const chunk: Chunk = { bytes: buffer, words: new Int32Array(buffer.buffer, buffer.byteOffset, aligned / 4) };
    this.heldBytes += aligned;
    const reused = this.freeChunks.pop();
    if (reused !== undefined) {
      this.chunks[reused] = chunk;
      return reused;
    }
    this.chunks.push(chunk);
    if (this.chunks.length > 1023) throw new Error('record arena: more than 1,023 chunks (16 GiB)');
    return this.chunks.length - 1;
  }

  /** Writes the pair into record `handle`; returns the handle. */
  private place(handle: number, key: string, value: string, { keyOneByte, valueOneByte }: Layout): number {
    const chunk = this.chunks[chunkOf(handle)] as Chunk;
    const at = offsetOf(handle);
    const keyBytes = encodedLength(key, keyOneByte);
    chunk.words[at >>> 2] = keyBytes | (keyOneByte ? 0 : TWO_BYTE);
    chunk.words[(at >>> 2) + 1] = encodedLength(value, valueOneByte) | (valueOneByte ? 0 : TWO_BYTE);
    chunk.bytes.write(key, at + HEADER, keyOneByte ? 'latin1' : 'utf16le');
    chunk.bytes.write(value, at + HEADER + keyBytes, valueOneByte ? 'latin1' : 'utf16le');
    return handle;
  }
}

function chunkOf(handle: number): number {
  return Math.floor(handle / UNITS_PER_CHUNK);
}

/** The record's byte offset in its chunk. */
function offsetOf(handle: number): number {
  return (handle % UNITS_PER_CHUNK) * 8;
}

function decode(bytes: Buffer, start: number, header: number): string {
  const end = start + (header & LENGTH);
  return (header & TWO_BYTE) === 0 ? bytes.toString('latin1', start, end) : bytes.toString('utf16le', start, end);
}
