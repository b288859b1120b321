/**
 * How a state-machine snapshot is stored and sent (Raft §7 snapshots, Multi-Paxos compaction):
 * a sequence of chunks, each a few parts of a consistent cut (protocols/kv/kv-cut.ts) encoded one
 * after the other with msgpack, about maxChunkBytes in all. A chunk restores by itself, so a
 * replica can restore a snapshot chunk by chunk without ever holding all of its bytes, and can
 * receive one chunk at a time.
 *
 * writeSnapshot reads the cut in slices and hands each chunk to `put` (the store); restoreSnapshot
 * reads chunks with `get` and rebuilds a state machine. Both give the event loop back every few
 * milliseconds (time-slice.ts).
 */
import { Packr, RESET_BUFFER_MODE, unpackMultiple } from 'msgpackr';
import type { KvCut, KvPart } from '../../protocols/kv/kv-cut.js';
import { KvStateMachine } from '../../protocols/kv/state-machine.js';
import { DEFAULT_SLICE_MS, TimeSlice } from './time-slice.js';

const packr = new Packr({ useRecords: false });

/**
 * A part read from the cut at a time: at most 512 entries, so one part never takes long, and at
 * most a quarter of a chunk's bytes, so that chunks come close to maxChunkBytes and large values
 * never make a chunk larger than a peer frame (a part passes its bound by one entry at most).
 */
const PART_ENTRIES = 512;
const partBytes = (maxChunkBytes: number): number => Math.max(1, Math.floor(maxChunkBytes / 4));

export interface SnapshotChunkOptions {
  /** Target size of a chunk (a chunk may pass it by one part). */
  maxChunkBytes: number;
  sliceMs?: number;
  /** Stop early: an abandoned snapshot (a newer one replaced it, the replica is closing). */
  cancelled?: () => boolean;
}

/**
 * Writes the cut as chunks 0, 1, 2, ... through `put`; returns how many (at least one, for an empty
 * state), or null if cancelled. The cut is closed in every case.
 *
 * `put` is lent the chunk's bytes: they are valid until its promise settles, and the next chunk is
 * built over them (a store that keeps them must copy them). One chunk buffer serves the whole
 * snapshot, so a take of 1,000,000 keys allocates one megabyte of chunk memory, not 300.
 */
export async function writeSnapshot(
  cut: KvCut,
  options: SnapshotChunkOptions,
  put: (chunk: number, bytes: Uint8Array) => Promise<void>,
): Promise<number | null> {
  const slice = new TimeSlice(options.sliceMs ?? DEFAULT_SLICE_MS);
  const partMax = partBytes(options.maxChunkBytes);
  const out = new ChunkBuilder(options.maxChunkBytes + partMax);
  let chunk = 0;
  try {
    for (let part = cut.next(PART_ENTRIES, partMax); part !== null; part = cut.next(PART_ENTRIES, partMax)) {
      // RESET_BUFFER_MODE: msgpackr packs into its own buffer and writes over it next time, so
      // the part is copied out at once and a snapshot leaves no garbage but its chunks (at
      // 1,000,000 keys, another 300 MB of buffers per snapshot otherwise: external memory, whose
      // growth makes V8 collect sooner; --trace-gc showed collections for "external memory
      // pressure" on the soak).
      out.append(packr.pack(part, RESET_BUFFER_MODE));
      if (out.length >= options.maxChunkBytes) await put(chunk++, out.lend());
      await slice.maybeYield();
      if (options.cancelled?.() === true) return null;
    }
    if (out.length > 0 || chunk === 0) await put(chunk++, out.lend());
    return chunk;
  } finally {
    cut.close();
  }
}

/**
 * One chunk's bytes, appended part by part into a buffer of about a chunk's size, which the next
 * chunk reuses (external memory that is allocated and dropped counts towards V8's next full
 * collection, as garbage on the heap does).
 */
export class ChunkBuilder {
  private buffer: Uint8Array;
  length = 0;

  constructor(private readonly capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  append(bytes: Uint8Array): void {
    if (this.length + bytes.byteLength > this.buffer.byteLength) {
      // A part passes its bound by one entry at most, but one entry may be a large value.
      const grown = new Uint8Array(Math.max(2 * this.buffer.byteLength, this.length + bytes.byteLength));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length += bytes.byteLength;
  }

  /**
   * The chunk so far, lent: the builder starts the next chunk over the same memory, so the caller
   * must be done with it (or have copied it) before the next append. A buffer that a large value
   * grew past twice the capacity is let go, not kept for the rest of the snapshot.
   */
  lend(): Uint8Array {
    const chunk = this.buffer.subarray(0, this.length);
    if (this.buffer.byteLength > 2 * this.capacity) this.buffer = new Uint8Array(this.capacity);
    this.length = 0;
    return chunk;
  }
}

/** Rebuilds a state machine from chunks 0..chunks-1, read with `get`; null if cancelled. */
export async function restoreSnapshot(
  chunks: number,
  get: (chunk: number) => Promise<Uint8Array>,
  options: Omit<SnapshotChunkOptions, 'maxChunkBytes'> = {},
): Promise<KvStateMachine | null> {
  const slice = new TimeSlice(options.sliceMs ?? DEFAULT_SLICE_MS);
  const sm = new KvStateMachine();
  for (let chunk = 0; chunk < chunks; chunk++) {
    for (const part of decodeChunk(await get(chunk))) {
      sm.restorePart(part);
      await slice.maybeYield();
      if (options.cancelled?.() === true) return null;
    }
  }
  return sm;
}

/** The parts of one chunk. */
export function decodeChunk(bytes: Uint8Array): KvPart[] {
  if (bytes.byteLength === 0) return [];
  return unpackMultiple(bytes as Buffer) as KvPart[];
}
