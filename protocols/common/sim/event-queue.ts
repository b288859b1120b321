/**
 * The simulation's agenda: a binary min-heap of events ordered by virtual time, ties broken by
 * insertion order so that a seed always replays the same schedule.
 */
interface Scheduled<E> {
  time: number;
  seq: number;
  event: E;
}

export class EventQueue<E> {
  private readonly heap: Scheduled<E>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, event: E): void {
    this.heap.push({ time, seq: this.seq++, event });
    this.siftUp(this.heap.length - 1);
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { time: number; event: E } | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return { time: top.time, event: top.event };
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a] as Scheduled<E>;
    const y = this.heap[b] as Scheduled<E>;
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const tmp = this.heap[a] as Scheduled<E>;
    this.heap[a] = this.heap[b] as Scheduled<E>;
    this.heap[b] = tmp;
  }

  private siftUp(k: number): void {
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.before(k, parent)) return;
      this.swap(k, parent);
      k = parent;
    }
  }

  private siftDown(k: number): void {
    for (;;) {
      const left = 2 * k + 1;
      const right = left + 1;
      let smallest = k;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === k) return;
      this.swap(k, smallest);
      k = smallest;
    }
  }
}
