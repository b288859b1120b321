/**
 * The view-change timer (OSDI §4.4, §4.5.2): a backup waiting for a request to execute starts a
 * timer of T ticks; if it expires the backup starts a view change. If the next view does not
 * become active and execute a new request in time, the replica moves on to the following view
 * and waits 2T, then 4T, ...: the timeout doubles per consecutive view change.
 */
export class ViewTimer {
  private deadline: number | null = null;
  private now = 0;
  /** Consecutive view changes without executing a new request in between. */
  consecutive = 0;

  constructor(
    private readonly baseTicks: number,
    private readonly maxDoublings = 10,
  ) {}

  /** T * 2^k for the current number k of consecutive view changes. */
  get timeoutTicks(): number {
    return this.baseTicks * 2 ** Math.min(this.consecutive, this.maxDoublings);
  }

  get running(): boolean {
    return this.deadline !== null;
  }

  start(): void {
    this.deadline = this.now + this.timeoutTicks;
  }

  startIfStopped(): void {
    if (this.deadline === null) this.start();
  }

  stop(): void {
    this.deadline = null;
  }

  /** A request executed in the current view: back to T (OSDI §4.5.2). */
  progress(): void {
    this.consecutive = 0;
  }

  /** A new view change begins: the next wait doubles. */
  viewChangeStarted(): void {
    this.consecutive++;
    this.start();
  }

  /** One tick; true when the timer expired (and is then stopped). */
  tick(): boolean {
    this.now++;
    if (this.deadline === null || this.now < this.deadline) return false;
    this.deadline = null;
    return true;
  }
}
