/**
 * The memo of configurations the search has visited: Lowe's addition to Wing & Gong's search
 * (Lowe 2017, "Testing for linearizability": a configuration seen before has already been
 * explored, so the search backtracks; Porcupine's `cache`). A configuration is the set of
 * linearized ok operations, the model state, the live linearized info operations, and whether
 * the last operation linearized was an info one.
 *
 * Info operations are optional, which allows a stronger rule than equality: a configuration is
 * also pruned when a visited one has the same ok set and state, a subset of its live linearized
 * info operations (fewer used twins, see info-usage.ts), and no stricter "last was info"
 * restriction. Anything the new configuration
 * could still do, the visited one could do as well; it has only fewer optional operations left.
 * Without this rule every info operation can double the configurations a failing search visits.
 * (README.md has the argument that the search stays complete.)
 *
 * A failing search can visit millions of configurations, so they are stored column-wise in typed
 * arrays, and their bitsets in one word arena, rather than as millions of small objects.
 */
import type { ZobristBitset } from './bitset.js';

const NONE = -1;

export class ConfigCache {
  /**
   * `infoBitWords`: how many leading words of an info key are a set of operations; the words
   * after them are counts (info-usage.ts).
   */
  constructor(private readonly infoBitWords: number) {}

  /** Bucket heads, keyed by 30 bits of hash so that V8 keeps keys and values small integers. */
  private readonly buckets = new Map<number, number>();
  size = 0;

  // One entry per configuration.
  private next = new Int32Array(1024);
  private hashB = new Int32Array(1024);
  private state = new Int32Array(1024);
  private afterInfo = new Uint8Array(1024);
  private okLo = new Int32Array(1024);
  /** Where the entry's ok words start in the arena; its info words follow them. */
  private wordsAt = new Int32Array(1024);
  private okLength = new Int32Array(1024);
  private arena = new Uint32Array(16 * 1024);
  private arenaUsed = 0;

  /** Records a configuration; false when a visited one is the same or dominates it. */
  visit(ok: ZobristBitset, liveInfo: Uint32Array, state: number, afterInfo: boolean): boolean {
    const mixed = Math.imul(state + 1, 0x9e3779b1);
    const key = (ok.hashA ^ mixed) & 0x3fffffff;
    const hashB = ok.hashB ^ Math.imul(mixed, 0x85ebca77);
    const head = this.buckets.get(key) ?? NONE;
    ok.tighten();
    const { lo, hi } = ok;
    for (let e = head; e !== NONE; e = this.next[e]!) {
      if (
        this.hashB[e] === hashB &&
        this.state[e] === state &&
        (afterInfo || this.afterInfo[e] === 0) &&
        this.sameOkSet(e, ok.words, lo, hi) &&
        this.infoIsSubset(e, liveInfo)
      ) {
        return false;
      }
    }
    this.add(key, head, hashB, state, afterInfo, ok.words, lo, hi, liveInfo);
    return true;
  }

  private sameOkSet(e: number, words: Uint32Array, lo: number, hi: number): boolean {
    const length = this.okLength[e]!;
    if (this.okLo[e] !== lo || length !== hi - lo) return false;
    const at = this.wordsAt[e]!;
    for (let i = 0; i < length; i++) {
      if (this.arena[at + i] !== words[lo + i]) return false;
    }
    return true;
  }

  /** Whether entry `e`'s info key is dominated by (uses no more than) `liveInfo`. */
  private infoIsSubset(e: number, liveInfo: Uint32Array): boolean {
    const at = this.wordsAt[e]! + this.okLength[e]!;
    const bitWords = this.infoBitWords;
    for (let i = 0; i < bitWords; i++) {
      if ((this.arena[at + i]! & ~liveInfo[i]!) !== 0) return false;
    }
    for (let i = bitWords; i < liveInfo.length; i++) {
      if (this.arena[at + i]! > liveInfo[i]!) return false;
    }
    return true;
  }

  private add(
    key: number,
    head: number,
    hashB: number,
    state: number,
    afterInfo: boolean,
    words: Uint32Array,
    lo: number,
    hi: number,
    liveInfo: Uint32Array,
  ): void {
    const e = this.size++;
    if (e === this.next.length) this.growEntries();
    const needed = hi - lo + liveInfo.length;
    if (this.arenaUsed + needed > this.arena.length) this.growArena(needed);
    this.next[e] = head;
    this.hashB[e] = hashB;
    this.state[e] = state;
    this.afterInfo[e] = afterInfo ? 1 : 0;
    this.okLo[e] = lo;
    this.okLength[e] = hi - lo;
    this.wordsAt[e] = this.arenaUsed;
    this.arena.set(words.subarray(lo, hi), this.arenaUsed);
    this.arena.set(liveInfo, this.arenaUsed + hi - lo);
    this.arenaUsed += needed;
    this.buckets.set(key, e);
  }

  private growEntries(): void {
    const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
      const bigger = new (a.constructor as new (n: number) => T)(a.length * 2);
      bigger.set(a);
      return bigger;
    };
    this.next = grow(this.next);
    this.hashB = grow(this.hashB);
    this.state = grow(this.state);
    this.afterInfo = grow(this.afterInfo);
    this.okLo = grow(this.okLo);
    this.wordsAt = grow(this.wordsAt);
    this.okLength = grow(this.okLength);
  }

  private growArena(needed: number): void {
    const bigger = new Uint32Array(Math.max(this.arena.length * 2, this.arenaUsed + needed));
    bigger.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = bigger;
  }
}
