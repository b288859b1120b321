/**
 * A replica's event-loop delay as the dashboard shows it, from its GET /metrics (nodes/event-loop-
 * delay.ts): the p99 and max of the replica's last one-second window at each read, and the last
 * stall. A stall is found in the histogram consensus_event_loop_delay_seconds, not in the window
 * gauges: its counts only grow, so a delay over STALL_MS is seen at the next read even when reads
 * miss the window it fell in (the dashboard reads about once a second, and so does the window).
 */
import { histogramOf, parsePromText, sampleValue, type PromHistogram } from '../client/prom-text.js';
import type { LagPoint, LagStall, LagView } from './dashboard-types.js';

/** The threshold: a delay over 50 ms is a stall. */
export const STALL_MS = 50;
/** A stall is "recent" this long: its card stays marked, and the timeline notes only the first of a run (public/cards.js too). */
export const STALL_RECENT_MS = 30_000;
const POINTS_KEPT = 30;

export class LagTracker {
  private points: LagPoint[] = [];
  private lastStall: LagStall | null = null;
  private base: { pid: number; histogram: PromHistogram } | null = null;

  /**
   * One /metrics text of the replica process `pid`, read at `timeMs`. False when it has no
   * event-loop metrics; throws on text that is not valid Prometheus text.
   */
  update(text: string, pid: number, timeMs: number): boolean {
    const families = parsePromText(text);
    const p99 = sampleValue(families, 'consensus_event_loop_delay_p99_seconds');
    const max = sampleValue(families, 'consensus_event_loop_delay_max_seconds');
    const histogram = histogramOf(families, 'consensus_event_loop_delay_seconds');
    if (p99 === undefined || max === undefined || histogram === undefined) return false;
    if (this.base !== null && this.base.pid !== pid) {
      this.points = []; // a new process: its history starts again
      this.lastStall = null;
    }
    const point: LagPoint = { timeMs, p99Ms: p99 * 1000, maxMs: max * 1000 };
    this.points.push(point);
    if (this.points.length > POINTS_KEPT) this.points.shift();
    // The first read of a process has nothing to compare with: its start-up is not a stall.
    const over = this.base?.pid === pid ? exceededSince(this.base.histogram, histogram) : null;
    if (over !== null && over >= STALL_MS) {
      this.lastStall = point.maxMs >= over ? { timeMs, ms: point.maxMs, atLeast: false } : { timeMs, ms: over, atLeast: true };
    }
    this.base = { pid, histogram };
    return true;
  }

  view(): LagView | undefined {
    return this.points.length === 0 ? undefined : { points: [...this.points], lastStall: this.lastStall };
  }
}

/** The largest bucket bound, in ms, that a delay recorded since `before` exceeded; null if none did. */
function exceededSince(before: PromHistogram, now: PromHistogram): number | null {
  const added = now.count - before.count;
  if (added <= 0) return null;
  let over: number | null = null;
  for (const b of now.buckets) {
    if (b.le === Infinity) continue;
    const was = before.buckets.find((x) => x.le === b.le)?.count ?? 0;
    if (added - (b.count - was) > 0) over = b.le * 1000;
  }
  return over;
}
