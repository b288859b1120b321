/**
 * Which indeterminate (info) operations can still matter.
 *
 * An info operation leaves a value behind (a write its value, a cas its new value, a delete
 * absence). Linearizing it only helps if some later operation observes that value: a read that
 * returned it or a cas that expected it. Once no ok operation left to linearize, and no info
 * operation at all, observes the value, the info operation is dead: any linearization that uses
 * it stays valid without it, because what follows it must be a blind write or delete (or
 * nothing). The search then never tries it, and the memo ignores whether it was linearized.
 *
 * Deadness depends only on which ok operations are linearized (info observers always count), so
 * configurations with the same ok set agree on it; config-cache.ts relies on that.
 */
export class InfoLiveness {
  /** Bit per info operation: set while it is live. */
  readonly live: Uint32Array;
  /** Per value: observers among the ok operations not yet linearized. */
  private readonly okObservers: Int32Array;
  /** Per value: observers among the info operations (fixed). */
  private readonly infoObservers: Int32Array;
  /** Per value: the info operations (bits) that leave it behind. */
  private readonly leftBehindBy: ReadonlyArray<readonly number[] | undefined>;

  /**
   * `okObserved`: the value each ok operation observes (a read's or a cas's), or -1.
   * `infoObserved`: the same for the info operations. `infoEffect`: the value each info
   * operation leaves behind, by its bit.
   */
  constructor(valueCount: number, okObserved: readonly number[], infoObserved: readonly number[], infoEffect: readonly number[]) {
    this.live = new Uint32Array(Math.ceil(infoEffect.length / 32));
    this.okObservers = new Int32Array(valueCount);
    this.infoObservers = new Int32Array(valueCount);
    for (const v of okObserved) if (v >= 0) this.okObservers[v]!++;
    for (const v of infoObserved) if (v >= 0) this.infoObservers[v]!++;
    const leftBehindBy: number[][] = [];
    infoEffect.forEach((v, bit) => {
      (leftBehindBy[v] ??= []).push(bit);
      if (this.observed(v)) this.live[bit >>> 5]! |= 1 << (bit & 31);
    });
    this.leftBehindBy = leftBehindBy;
  }

  /** An ok operation observing `value` has been linearized. True if that made some info operations dead. */
  observerLinearized(value: number): boolean {
    if (--this.okObservers[value]! !== 0 || this.infoObservers[value] !== 0) return false;
    this.setLive(value, false);
    return true;
  }

  /** The search backtracked over an ok operation observing `value`. True if that revived some. */
  observerRestored(value: number): boolean {
    if (this.okObservers[value]!++ !== 0 || this.infoObservers[value] !== 0) return false;
    this.setLive(value, true);
    return true;
  }

  /** The info operations (bits) that leave `value` behind. */
  leavingBehind(value: number): readonly number[] {
    return this.leftBehindBy[value] ?? [];
  }

  isLive(bit: number): boolean {
    return ((this.live[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
  }

  private observed(value: number): boolean {
    return this.okObservers[value]! > 0 || this.infoObservers[value]! > 0;
  }

  private setLive(value: number, live: boolean): void {
    for (const bit of this.leftBehindBy[value] ?? []) {
      if (live) this.live[bit >>> 5]! |= 1 << (bit & 31);
      else this.live[bit >>> 5]! &= ~(1 << (bit & 31));
    }
  }
}
