/**
 * Frames waiting for one peer, bounded in count and bytes (docs/design.md §3.8: limits on everything).
 * When full, new frames are refused (tail drop): the consensus protocols retransmit, and the
 * oldest queued frames are the ones closest to being written.
 */
export class OutboundQueue {
  private frames: Buffer[] = [];
  private bytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.frames.length;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** True when one more message would exceed the count bound (checked before encoding it). */
  isFull(): boolean {
    return this.frames.length >= this.maxMessages;
  }

  /** Appends the frame, or returns false when it would exceed either bound. */
  push(frame: Buffer): boolean {
    if (this.frames.length >= this.maxMessages || this.bytes + frame.length > this.maxBytes) return false;
    this.frames.push(frame);
    this.bytes += frame.length;
    return true;
  }

  /** Removes and returns every queued frame, oldest first. */
  takeAll(): { frames: Buffer[]; bytes: number } {
    const taken = { frames: this.frames, bytes: this.bytes };
    this.frames = [];
    this.bytes = 0;
    return taken;
  }

  clear(): void {
    this.frames = [];
    this.bytes = 0;
  }
}
