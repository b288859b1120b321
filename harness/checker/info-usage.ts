/**
 * Which info operations the current linearization uses, and the form of that set the memo sees.
 *
 * Info operations that do exactly the same (twins: in practice deletes, and in Jepsen histories
 * writes of the same small integer) are interchangeable once they have been invoked: from then
 * on each can be placed anywhere the other can. Operations are only ever used after their
 * invoke, so for the future of a configuration it matters how many twins of a class are used,
 * not which. The memo key therefore holds, after the bitset of the other info operations, one
 * count per twin class. Without this, configurations that used different but equivalent twins
 * look different, and a failing search explores each of them.
 */
export class InfoUsage {
  /** Bit per info operation: set while it is linearized. */
  readonly used: Uint32Array;
  /** The memo key's first `bitWords` words are a set of operations; the rest are counts. */
  readonly bitWords: number;
  private readonly key: Uint32Array;
  /** Per info operation: its twin class (one with two or more members), or -1. */
  private readonly classOf: Int32Array;
  private readonly classUsed: Int32Array;
  /** A member of each class, for its liveness (twins leave the same value behind). */
  private readonly classMember: Int32Array;
  /** The info operations without a twin. */
  private readonly loners: Uint32Array;

  /** `kinds[bit]`: what the info operation does; equal kinds are twins. */
  constructor(kinds: readonly string[]) {
    this.bitWords = Math.ceil(kinds.length / 32);
    this.used = new Uint32Array(this.bitWords);
    this.loners = new Uint32Array(this.bitWords);
    this.classOf = new Int32Array(kinds.length).fill(-1);
    const members = new Map<string, number[]>();
    kinds.forEach((kind, bit) => {
      const list = members.get(kind) ?? [];
      members.set(kind, list);
      list.push(bit);
    });
    const classMember: number[] = [];
    for (const bits of members.values()) {
      if (bits.length === 1) {
        const bit = bits[0]!;
        this.loners[bit >>> 5]! |= 1 << (bit & 31);
        continue;
      }
      for (const bit of bits) this.classOf[bit] = classMember.length;
      classMember.push(bits[0]!);
    }
    this.classMember = Int32Array.from(classMember);
    this.classUsed = new Int32Array(classMember.length);
    this.key = new Uint32Array(this.bitWords + classMember.length);
  }

  isUsed(bit: number): boolean {
    return ((this.used[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
  }

  /** Marks the operation used if it was not, unused if it was. */
  flip(bit: number): void {
    const w = bit >>> 5;
    const mask = 1 << (bit & 31);
    const nowUsed = (this.used[w]! & mask) === 0;
    this.used[w] = (this.used[w]! ^ mask) >>> 0;
    const cls = this.classOf[bit]!;
    if (cls >= 0) this.classUsed[cls]! += nowUsed ? 1 : -1;
  }

  /**
   * The memo key: the live used operations without a twin, then the number of used twins of each
   * live class. A key dominates another when its set part is a subset and its counts are no larger.
   */
  memoKey(live: Uint32Array): Uint32Array {
    const { key, used, loners, bitWords } = this;
    for (let w = 0; w < bitWords; w++) key[w] = used[w]! & loners[w]! & live[w]!;
    for (let c = 0; c < this.classUsed.length; c++) {
      const member = this.classMember[c]!;
      const isLive = ((live[member >>> 5]! >>> (member & 31)) & 1) === 1;
      key[bitWords + c] = isLive ? this.classUsed[c]! : 0;
    }
    return key;
  }
}
