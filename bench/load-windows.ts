/**
 * Soak mode's throughput series, counted where the requests complete: in the load generator
 * (never from the server's own counters, which would hide requests the server never saw).
 * Every response lands in the window of its completion time; windows are `windowMs` long and
 * count from the round's start. Only complete windows are reported: autocannon stops at its
 * next 1-second sample tick after `duration`, so a round runs a little longer than asked and
 * its tail is a partial window that would look like a slump.
 */
import type { LoadWindow, WindowProgress } from './load-protocol.js';
import { LatencySamples } from './latency-samples.js';

interface OpenWindow {
  ok: number;
  non2xx: number;
  errors: number;
  samples: LatencySamples;
}

export class LoadWindows {
  private readonly windows: OpenWindow[] = [];

  /**
   * @param startedAt performance.now() at the round's start
   * @param complete how many complete windows the round lasts (floor of duration / window)
   */
  constructor(
    private readonly startedAt: number,
    private readonly windowMs: number,
    readonly complete: number,
  ) {}

  /** The window `now` (performance.now()) falls in; beyond the last complete one: null. */
  private at(now: number): OpenWindow | null {
    const i = Math.floor((now - this.startedAt) / this.windowMs);
    if (i < 0 || i >= this.complete) return null;
    while (this.windows.length <= i) this.windows.push({ ok: 0, non2xx: 0, errors: 0, samples: new LatencySamples(1024) });
    return this.windows[i]!;
  }

  response(now: number, status: number, ms: number): void {
    const w = this.at(now);
    if (w === null) return;
    if (status >= 200 && status < 300) {
      w.ok++;
      w.samples.add(ms);
    } else {
      w.non2xx++;
    }
  }

  error(now: number): void {
    const w = this.at(now);
    if (w !== null) w.errors++;
  }

  /** Counts of window `index` so far (for progress lines; no percentiles, which would sort). */
  progress(index: number): WindowProgress {
    const w = this.windows[index];
    return { kind: 'window', index, ok: w?.ok ?? 0, non2xx: w?.non2xx ?? 0, errors: w?.errors ?? 0 };
  }

  /** Every complete window, empty ones included (a window nothing completed in is a real zero). */
  result(): LoadWindow[] {
    return Array.from({ length: this.complete }, (_, index) => {
      const w = this.windows[index];
      if (w === undefined) return { index, ok: 0, non2xx: 0, errors: 0, latencyMs: { p50: 0, p99: 0, max: 0 } };
      const s = w.samples.summary();
      return { index, ok: w.ok, non2xx: w.non2xx, errors: w.errors, latencyMs: { p50: s.p50, p99: s.p99, max: s.max } };
    });
  }
}

/**
 * A progress line as each window closes (a little after its end, so late events are in). The
 * returned stop reports, with `flush`, the windows still unreported once the round is over: on a
 * busy machine the round can end (autocannon stops at its first sample tick past the duration)
 * before the last window's timer fires, and every complete window gets its line all the same.
 */
export function reportWindows(windows: LoadWindows, startedAt: number, windowMs: number, progress: (p: WindowProgress) => void): (flush: boolean) => void {
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (next >= windows.complete) return;
    const due = startedAt + (next + 1) * windowMs + 20;
    timer = setTimeout(() => {
      progress(windows.progress(next++));
      schedule();
    }, Math.max(0, due - performance.now()));
  };
  schedule();
  return (flush) => {
    clearTimeout(timer);
    if (flush) while (next < windows.complete) progress(windows.progress(next++));
  };
}
