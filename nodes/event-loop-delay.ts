import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Upper bounds, in seconds, of the event-loop delay histogram. An idle or lightly loaded replica
 * runs its timers well under 1 ms late; 1-10 ms is one busy turn of the loop under load (a batch
 * of requests, a big AppendEntries). 50 ms is what the issue calls a stall, so the bounds around
 * it (25, 50, 75, 100 ms) tell a 60 ms stall from a 40 ms one; 250 ms is where snapshots of
 * 100,000 keys landed (/health took up to 286 ms); 0.5-1 s is Raft's election timeout (10 ticks of
 * 50 ms, randomized in [t, 2t)), past which a stalled leader loses its followers; 2.5 and 5 s are
 * for the pathological.
 */
export const EVENT_LOOP_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface EventLoopDelayOptions {
  /** How often the monitor's timer fires (Node's default and prom-client's: 10 ms). */
  resolutionMs?: number;
  /** How often the samples are folded into the histogram and the window gauges. */
  windowMs?: number;
}

/**
 * How late the event loop runs: `perf_hooks.monitorEventLoopDelay` (Node's docs, "samples and
 * reports the event loop delay over time") fires a libuv timer every `resolutionMs` from C++ and
 * records, in an HDR histogram, the time between two firings; a loop blocked for 100 ms records
 * one sample of about 100 ms + the resolution. Here a sample's delay is that interval minus the
 * resolution: how late the timer ran. (A timer in JavaScript measures the same but costs a trip
 * into JavaScript per firing: idle replicas on this shared machine, load average near 20, spent
 * about 18 ms of CPU a second on one, against 2-3 ms for this C++ timer.)
 *
 * Every `windowMs` the window's samples go into a Prometheus histogram
 * (consensus_event_loop_delay_seconds) and its p50, p99 and max into gauges, then the monitor is
 * reset for the next window. Node's histogram hands out percentiles, not its buckets, so the
 * samples are replayed from their order statistics: of n samples the k-th smallest is
 * `percentile(100 k / n)` (exact up to the HDR histogram's 3 significant digits). A window holds
 * about windowMs / resolutionMs samples (100), so that costs ~0.5 ms of CPU a second.
 *
 * One catch, found by measuring: reset() also forgets when the timer last fired (Node sets the
 * histogram's previous timestamp to 0), so the interval that spans a reset is never recorded; on
 * Node 20, reset() followed at once by a 150 ms busy loop left a histogram whose max was 13 ms.
 * prom-client's nodejs_eventloop_lag_* gauges (collectDefaultMetrics, also on /metrics) reset at
 * every scrape and lose such stalls. Here the lost interval is recovered from the clock: the
 * samples of a window add up to the time between its first and last firing (mean × count), so
 * the window's length minus that sum is the time no sample covers, at most two partial intervals
 * (under 2 × resolution) unless the loop stalled across the reset. When it is longer, it becomes
 * one more sample, exact to within the resolution. Windows do not depend on who scrapes.
 */
export class EventLoopDelay {
  private readonly monitor: IntervalHistogram;
  private readonly histogram: Histogram;
  private readonly p50: Gauge;
  private readonly p99: Gauge;
  private readonly max: Gauge;
  private readonly timer: NodeJS.Timeout;
  private readonly resolutionMs: number;
  private foldedAtMs = performance.now();

  constructor(registry: Registry, options: EventLoopDelayOptions = {}) {
    this.resolutionMs = options.resolutionMs ?? 10;
    const windowMs = options.windowMs ?? 1000;
    const over = `over the last ${windowMs / 1000} s`;
    const registers = [registry];
    this.histogram = new Histogram({
      name: 'consensus_event_loop_delay_seconds',
      help: `How late the event loop ran a timer due every ${this.resolutionMs} ms (perf_hooks.monitorEventLoopDelay), one sample per firing.`,
      buckets: EVENT_LOOP_DELAY_BUCKETS,
      registers,
    });
    this.p50 = new Gauge({ name: 'consensus_event_loop_delay_p50_seconds', help: `Median event-loop delay ${over}.`, registers });
    this.p99 = new Gauge({ name: 'consensus_event_loop_delay_p99_seconds', help: `99th percentile event-loop delay ${over}.`, registers });
    this.max = new Gauge({ name: 'consensus_event_loop_delay_max_seconds', help: `Longest event-loop delay ${over}.`, registers });
    this.monitor = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.monitor.enable();
    this.timer = setInterval(() => this.fold(), windowMs);
    this.timer.unref(); // metrics never keep a process alive
  }

  /** End the window: its samples into the histogram and the gauges, and a new window (public for tests). */
  fold(): void {
    const now = performance.now();
    const m = this.monitor;
    const n = m.count;
    const delaysMs: number[] = [];
    for (let k = 1; k <= n; k++) delaysMs.push(this.delayMs(m.percentile((100 * k) / n)));
    const uncoveredMs = now - this.foldedAtMs - (n === 0 ? 0 : (m.mean * n) / 1e6);
    m.reset(); // at once: no firing can come between reading and resetting, JavaScript is running
    this.foldedAtMs = now;
    if (uncoveredMs > 2 * this.resolutionMs) delaysMs.push(this.delayMs(uncoveredMs * 1e6)); // the interval the last reset dropped
    if (delaysMs.length === 0) return;
    for (const d of delaysMs) this.histogram.observe(d / 1000);
    delaysMs.sort((a, b) => a - b);
    const rank = (q: number): number => delaysMs[Math.min(delaysMs.length - 1, Math.ceil(q * delaysMs.length) - 1)] ?? 0;
    this.p50.set(rank(0.5) / 1000);
    this.p99.set(rank(0.99) / 1000);
    this.max.set((delaysMs.at(-1) ?? 0) / 1000);
  }

  close(): void {
    clearInterval(this.timer);
    this.monitor.disable();
  }

  /** An interval between two firings, in ns, as the timer's lateness in ms (libuv may fire a hair early). */
  private delayMs(intervalNs: number): number {
    return Math.max(0, intervalNs / 1e6 - this.resolutionMs);
  }
}
