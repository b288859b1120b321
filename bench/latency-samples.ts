/**
 * Response times at full (sub-millisecond) precision. autocannon's own latency histogram counts
 * whole milliseconds, too coarse for a 1-connection cell where the answer is "about 1.5 ms".
 */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencySamples {
  private samples: Float64Array;
  private n = 0;

  /** `capacity`: samples before the first growth (it doubles as needed). */
  constructor(capacity = 1 << 16) {
    this.samples = new Float64Array(Math.max(16, capacity));
  }

  add(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const sorted = this.samples.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: this.n === 0 ? 0 : sorted[this.n - 1]!,
      mean: this.n === 0 ? 0 : sum / this.n,
    };
  }
}

/** Nearest-rank percentile of ascending samples; 0 when there are none. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
