/**
 * Client requests waiting inside a replica: writes wait for their log entry to be applied,
 * reads for their ReadIndex round and then for the state machine to catch up. Deadlines are
 * swept periodically rather than with one timer per request, since there can be tens of
 * thousands in flight.
 */
export interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  deadlineMs: number;
}

export class WaiterTable<K, T, W extends Waiter<T> = Waiter<T>> {
  /** Insertion order is deadline order, because every waiter gets the same timeout. */
  private readonly waiters = new Map<K, W>();

  get size(): number {
    return this.waiters.size;
  }

  get(key: K): W | undefined {
    return this.waiters.get(key);
  }

  add(key: K, waiter: W): void {
    this.waiters.set(key, waiter);
  }

  take(key: K): W | undefined {
    const w = this.waiters.get(key);
    if (w !== undefined) this.waiters.delete(key);
    return w;
  }

  /** Reject every waiter whose deadline passed; returns how many. */
  expire(nowMs: number, makeError: () => Error): number {
    let n = 0;
    for (const [key, w] of this.waiters) {
      if (w.deadlineMs > nowMs) break;
      this.waiters.delete(key);
      w.reject(makeError());
      n++;
    }
    return n;
  }

  rejectAll(makeError: () => Error): void {
    for (const w of this.waiters.values()) w.reject(makeError());
    this.waiters.clear();
  }

  entries(): IterableIterator<[K, W]> {
    return this.waiters.entries();
  }
}
