/**
 * The client's reply rule (OSDI §4.1): accept a result once `needed` distinct replicas sent
 * matching replies: f+1 on the ordered path (at least one of them is correct), 2f+1 on the
 * read-only path (OSDI §5.1.3: a quorum certificate, so the read reflects a committed state).
 * Used by the HTTP gateway and the TypeScript client library alike, so there is one rule.
 */
import { canonicalResultKey } from './canonical.js';
import type { KvResult } from '../kv/commands.js';

export class ReplyQuorum {
  /**
   * Who voted (each replica's first reply; later different replies from it are ignored: one vote
   * each), and the distinct result keys with their counts. Plain arrays: there are at most n
   * voters and keys (n = 3f+1, small), and the gateway makes one quorum per request.
   */
  private readonly voted: number[] = [];
  private readonly keys: string[] = [];
  private readonly counts: number[] = [];
  private acceptedKey: string | null = null;

  constructor(
    readonly f: number,
    readonly needed: number,
  ) {}

  /** Records replica `from`'s reply; returns the accepted result key once `needed` match. */
  add(from: number, resultKey: string): string | null {
    if (this.acceptedKey !== null) return this.acceptedKey;
    if (this.voted.includes(from)) return null;
    this.voted.push(from);
    let k = this.keys.indexOf(resultKey);
    if (k < 0) {
      k = this.keys.length;
      this.keys.push(resultKey);
      this.counts.push(0);
    }
    const count = (this.counts[k] as number) + 1;
    this.counts[k] = count;
    if (count >= this.needed) this.acceptedKey = resultKey;
    return this.acceptedKey;
  }

  get accepted(): string | null {
    return this.acceptedKey;
  }

  get voters(): number {
    return this.voted.length;
  }

  /** True when, with `n` replicas, no result can still reach `needed` (read path: fall back). */
  hopeless(n: number): boolean {
    if (this.acceptedKey !== null) return false;
    let best = 0;
    for (const count of this.counts) best = Math.max(best, count);
    return best + (n - this.voted.length) < this.needed;
  }

  /** The canonical key of a KvResult, so equal results from different replicas match. */
  static resultKey(result: KvResult): string {
    return canonicalResultKey(result);
  }
}
