/**
 * Delay before the next dial: exponential in the number of consecutive failures, capped, with
 * "equal jitter" (half fixed, half random) so replicas that lost a peer at the same moment do
 * not all redial it in lockstep, while the delay still grows monotonically on average.
 */
export class ReconnectBackoff {
  private failures = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  nextDelayMs(): number {
    const exponent = Math.min(this.failures, 30);
    const base = Math.min(this.maxMs, this.minMs * 2 ** exponent);
    this.failures += 1;
    return Math.round(base / 2 + this.random() * (base / 2));
  }

  reset(): void {
    this.failures = 0;
  }
}
