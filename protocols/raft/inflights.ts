/**
 * The AppendEntries a leader has in flight to one follower while pipelining: a bounded FIFO of
 * the last index each message carried (etcd-io/raft's `Inflights`). A ring buffer, so adding and
 * freeing never copy.
 */
import { invariant } from '../common/invariant.js';

export class Inflights {
  private readonly lastIndexes: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    invariant(Number.isInteger(capacity) && capacity >= 1, 'inflight capacity must be >= 1');
    this.lastIndexes = new Array<number>(capacity).fill(0);
  }

  get size(): number {
    return this.count;
  }

  full(): boolean {
    return this.count >= this.capacity;
  }

  /** Records a message whose last entry has `lastIndex`; indexes only grow. */
  add(lastIndex: number): void {
    invariant(!this.full(), 'inflights: add while full');
    this.lastIndexes[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every message acknowledged by a matchIndex of `index`. */
  freeUpTo(index: number): void {
    while (this.count > 0 && (this.lastIndexes[this.start] ?? 0) <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}
