/**
 * The receiving half of a snapshot transfer (README.md, "Snapshot transfer"): a replica that was
 * offered a snapshot fetches its chunks from the replica that offered it, a few at a time, and
 * counts them until it has all of them. The chunks themselves go straight to the runtime's store
 * (Ready.persist.snapshotChunks); this only remembers which ones arrived.
 *
 * Bounded: at most FETCH_WINDOW chunks are asked for and not yet in order, so a transfer holds
 * O(FETCH_WINDOW) numbers and the network O(FETCH_WINDOW) chunks, whatever the snapshot's size.
 * Resumable: after `retryTicks` ticks without a new chunk, the missing ones are asked for again
 * (a lost fetch or chunk costs one retry, not a new transfer); after `giveUpTicks` the source is
 * taken for dead and the transfer dropped (the next catch-up answer offers a snapshot again).
 */
import type { NodeId } from './types.js';

/** Chunks asked for at once (and the most held out of order). */
export const FETCH_WINDOW = 4;

export class IncomingSnapshot {
  /** The next chunk never asked for. */
  private next = 0;
  /** Every chunk below this one arrived. */
  private inOrder = 0;
  /** Chunks at or above `inOrder` that arrived (out of order): fewer than FETCH_WINDOW. */
  private readonly ahead = new Set<number>();
  private idleTicks = 0;
  private silentTicks = 0;

  constructor(
    /** The replica that offered it: the only one chunks are taken from (its chunking is its own). */
    readonly from: NodeId,
    readonly slot: number,
    readonly chunks: number,
    private readonly retryTicks: number,
    private readonly giveUpTicks: number,
  ) {}

  /** Every chunk arrived. */
  get complete(): boolean {
    return this.inOrder === this.chunks;
  }

  get received(): number {
    return this.inOrder + this.ahead.size;
  }

  /** The chunks to ask for now: the window beyond the chunks that arrived in order. */
  fill(): number[] {
    const out: number[] = [];
    while (this.next < this.chunks && this.next - this.inOrder < FETCH_WINDOW) out.push(this.next++);
    return out;
  }

  /** A chunk arrived: true if it is one asked for and not seen yet (the runtime stores it). */
  receive(chunk: number): boolean {
    if (chunk < this.inOrder || chunk >= this.next || this.ahead.has(chunk)) return false;
    this.ahead.add(chunk);
    while (this.ahead.delete(this.inOrder)) this.inOrder++;
    this.idleTicks = 0;
    this.silentTicks = 0;
    return true;
  }

  /**
   * One tick: the chunks to ask for again when none arrived for `retryTicks` (empty otherwise),
   * or null when none arrived for `giveUpTicks`: give the transfer up.
   */
  tick(): number[] | null {
    this.silentTicks++;
    if (this.silentTicks >= this.giveUpTicks) return null;
    if (++this.idleTicks < this.retryTicks) return [];
    this.idleTicks = 0;
    const missing: number[] = [];
    for (let chunk = this.inOrder; chunk < this.next; chunk++) if (!this.ahead.has(chunk)) missing.push(chunk);
    return missing;
  }
}
