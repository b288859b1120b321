/**
 * Wire framing: a 4-byte big-endian payload length, then a msgpackr payload (docs/design.md §3.5).
 *
 * Records (msgpackr's shared structures) are off so every frame decodes on its own, whatever
 * frames came before it on the connection. Binary values (Buffer, Uint8Array) travel as msgpack
 * `bin` and come back as Buffers (a Uint8Array subclass) that own their memory.
 */
import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';

export const FRAME_HEADER_BYTES = 4;

export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError';
  constructor(
    readonly payloadBytes: number,
    readonly maxFrameBytes: number,
  ) {
    super(`frame of ${payloadBytes} bytes exceeds the limit of ${maxFrameBytes} bytes`);
  }
}

/** Encodes messages into complete frames. One per transport: msgpackr reuses its buffer between calls. */
export class FrameEncoder {
  private readonly packr = new Packr({ useRecords: false });

  /**
   * Returns header + payload in one buffer. msgpackr reserves the header space in front of the
   * payload, so the frame is built without a copy. The buffer may share memory with other frames
   * from this encoder but is never overwritten.
   */
  encode(message: unknown): Buffer {
    const frame = this.packr.pack(message, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
    frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
    return frame;
  }
}

/** Decodes one msgpack payload; throws on anything that is not exactly one well-formed value. */
export class PayloadDecoder {
  // copyBuffers: a decoded Buffer must not pin the (much larger) socket chunk it arrived in.
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

  decode(payload: Buffer): unknown {
    return this.unpackr.unpack(payload);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into frame payloads. Chunks are kept in a list and each byte is copied at
 * most once (only when a frame spans chunks), so a large frame arriving in many small chunks
 * costs linear, not quadratic, time. A frame inside one chunk is returned as a view of it.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  /** Payload length of the frame being assembled, or -1 while its header is incomplete. */
  private need = -1;

  /** Mutable: the handshake runs with a small limit, authenticated traffic with the configured one. */
  constructor(public maxFrameBytes: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds a chunk and calls `onFrame` for every complete payload, in order; stops early when
   * `onFrame` returns false. Throws FrameTooLargeError as soon as a header announces an oversized
   * frame, before any of its payload is buffered.
   */
  push(chunk: Buffer, onFrame: (payload: Buffer) => boolean): void {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
        this.need = length;
      }
      if (this.buffered < this.need) return;
      const payload = this.take(this.need);
      this.need = -1;
      if (!onFrame(payload)) return;
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[this.head]!;
    this.buffered -= n;
    if (first.length > n) {
      this.chunks[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.dropHead();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[this.head]!;
      const k = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, k);
      offset += k;
      if (k === chunk.length) this.dropHead();
      else this.chunks[this.head] = chunk.subarray(k);
    }
    return out;
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head += 1;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
