import type { KvResult } from '../../protocols/kv/commands.js';

/** This replica's own answer to a library client's request: its result, and the sequence number it executed at (0 for read-only). */
export interface OwnResult {
  result: KvResult;
  sequence: number;
}

interface Waiter {
  resolve: (r: OwnResult) => void;
  reject: (e: Error) => void;
  deadlineMs: number;
}

/**
 * Library clients' requests (origin -1) waiting at this replica for ITS OWN answer (the library
 * gathers the f+1 or 2f+1 matching answers itself, OSDI §4.1), keyed by (clientId, seq). Several
 * HTTP requests for one key (a client retrying) share the answer.
 */
export class OwnResultWaiters {
  private readonly table = new Map<string, Waiter[]>();

  get size(): number {
    return this.table.size;
  }

  wait(key: string, deadlineMs: number): Promise<OwnResult> {
    return new Promise((resolve, reject) => {
      const waiters = this.table.get(key) ?? [];
      waiters.push({ resolve, reject, deadlineMs });
      this.table.set(key, waiters);
    });
  }

  settle(key: string, value: OwnResult): void {
    const waiters = this.take(key);
    for (const w of waiters) w.resolve(value);
  }

  fail(key: string, err: Error): number {
    const waiters = this.take(key);
    for (const w of waiters) w.reject(err);
    return waiters.length;
  }

  /** Fail the keys whose every waiter's deadline passed; returns how many keys. */
  expire(nowMs: number, makeError: () => Error): number {
    let n = 0;
    for (const [key, waiters] of this.table) {
      if (waiters.every((w) => w.deadlineMs <= nowMs)) n += this.fail(key, makeError()) > 0 ? 1 : 0;
    }
    return n;
  }

  failAll(makeError: () => Error): void {
    for (const key of [...this.table.keys()]) this.fail(key, makeError());
  }

  private take(key: string): Waiter[] {
    const waiters = this.table.get(key) ?? [];
    this.table.delete(key);
    return waiters;
  }
}
