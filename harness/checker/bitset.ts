/**
 * The set of linearized operations, as a bitset with an incrementally maintained hash.
 *
 * The hash is Zobrist's: every bit has a random key and the set's hash is the XOR of the keys of
 * its members, so adding or removing an operation updates it in O(1) and the memo (config-cache.ts)
 * never hashes a whole set. Two 32-bit halves keep collisions rare; the memo still compares sets.
 */
import { SeededRng } from '../../protocols/common/rng.js';

const FULL = 0xffffffff;

export class ZobristBitset {
  readonly words: Uint32Array;
  hashA = 0;
  hashB = 0;
  private readonly keysA: Int32Array;
  private readonly keysB: Int32Array;
  /**
   * Every word below `lo` is all ones and every word from `hi` on is zero (after `tighten()`;
   * between calls they are only moved conservatively).
   */
  lo = 0;
  hi = 0;

  constructor(size: number, seed: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
    this.keysA = new Int32Array(size);
    this.keysB = new Int32Array(size);
    const rng = new SeededRng(seed);
    for (let i = 0; i < size; i++) {
      this.keysA[i] = (rng.next() * 4294967296) | 0;
      this.keysB[i] = (rng.next() * 4294967296) | 0;
    }
  }

  /** Adds `i` if absent, removes it if present. */
  flip(i: number): void {
    const w = i >>> 5;
    const word = (this.words[w]! ^ (1 << (i & 31))) >>> 0;
    this.words[w] = word;
    this.hashA ^= this.keysA[i]!;
    this.hashB ^= this.keysB[i]!;
    if (word !== FULL && w < this.lo) this.lo = w;
    if (word !== 0 && w >= this.hi) this.hi = w + 1;
  }

  /**
   * Makes `lo` and `hi` exact, so that `words[lo..hi)` is the compact form of the set. Operations
   * are numbered in invoke order and the linearized set grows from the bottom, so that window
   * stays small however long the history.
   */
  tighten(): void {
    const words = this.words;
    while (this.lo < words.length && words[this.lo] === FULL) this.lo++;
    while (this.hi > this.lo && words[this.hi - 1] === 0) this.hi--;
  }
}
