/**
 * What one replica's faked clock should read, as a function of real time, and the libfaketime
 * setting that makes it read that.
 *
 * A faked clock is a line: from real time `anchorRealMs` on it reads `anchorFakeMs` and advances
 * `rate` faked milliseconds per real millisecond. A rate change starts a new line where the old
 * one was (the clock stays continuous); a bump starts it higher or lower (a step).
 *
 * libfaketime (README, 4c "start at" dates and 4e "x" modifier) reads its setting from
 * FAKETIME_TIMESTAMP_FILE. Two forms are used here:
 *
 * - `+0 x1`: no offset, normal rate. Whatever libfaketime's internal start time is, this reads the
 *   true time exactly (faked = start + 0 + (now - start) * 1), so it is the "no fault" setting.
 * - `@<epoch seconds> x<rate>` with FAKETIME_FMT=%s: "start at" that time, counting at `rate` from
 *   the moment libfaketime parses the new setting (it resets its start time then, unless
 *   FAKETIME_DONT_RESET is set: libfaketime.c parse_ft_string, case '@').
 *
 * Why not `+<offset> x<rate>`: an offset counts from the process's start, which the harness knows
 * only to within milliseconds, so every rate change would step the clock by that error times the
 * change of rate (measured: 10 to 25 ms). The `@` form anchors the line at the moment of parsing
 * instead. The process parses the file at its first clock reading after the file changed
 * (FAKETIME_NO_CACHE=1), so the line it gets starts at `anchorFakeMs` a little later than planned:
 * its clock is behind the plan by (parse time - write time) * rate. Every rewrite (replica-clocks.ts
 * refreshes the file while a fault runs) catches it up again with a small forward step. It never
 * reads a value below one it read before, unless the fault steps it back on purpose.
 */

export interface ClockModel {
  /** Real time (ms since the epoch) at which this line starts. */
  anchorRealMs: number;
  /** What the faked clock reads at anchorRealMs. */
  anchorFakeMs: number;
  /** Faked milliseconds per real millisecond (1: normal; 0.5: half speed). */
  rate: number;
}

/** The true clock: no offset, normal rate. */
export const trueClock = (realMs: number): ClockModel => ({ anchorRealMs: realMs, anchorFakeMs: realMs, rate: 1 });

/** What the modelled clock reads at real time `realMs`. */
export function fakeAt(model: ClockModel, realMs: number): number {
  return model.anchorFakeMs + (realMs - model.anchorRealMs) * model.rate;
}

/** Offset of the modelled clock from the true time at `realMs` (ms; negative: behind). */
export function offsetAt(model: ClockModel, realMs: number): number {
  return fakeAt(model, realMs) - realMs;
}

export function isTrue(model: ClockModel): boolean {
  return model.rate === 1 && model.anchorFakeMs === model.anchorRealMs;
}

/**
 * From `realMs` on: run at `rate` (the current rate when absent), after stepping by `stepMs`
 * (0: continuous).
 */
export function changed(model: ClockModel, realMs: number, change: { rate?: number; stepMs?: number }): ClockModel {
  const rate = change.rate ?? model.rate;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`a clock rate must be a positive number, not ${rate}`);
  const next = { anchorRealMs: realMs, anchorFakeMs: fakeAt(model, realMs) + (change.stepMs ?? 0), rate };
  return next.rate === 1 && Math.abs(next.anchorFakeMs - realMs) < 1e-6 ? trueClock(realMs) : next;
}

/**
 * Milliseconds added to an anchor so that the faked clock never reads less than it did just
 * before the file changed: the harness reads real time with millisecond resolution (Date.now
 * truncates), and the replica may read its clock between our reading and the rename.
 */
const ANCHOR_MARGIN_MS = 2;

/**
 * The libfaketime setting (one line of FAKETIME_TIMESTAMP_FILE, parsed with FAKETIME_FMT=%s) that
 * makes a process read `model` from `realMs` on.
 */
export function faketimeSpec(model: ClockModel, realMs: number): string {
  if (isTrue(model)) return '+0 x1';
  const at = (fakeAt(model, realMs) + ANCHOR_MARGIN_MS) / 1000;
  // libfaketime reads the seconds with strptime("%s"), the fraction after "." with atof, and the
  // rate after "x" with atof (the C locale's "." as decimal point; replica-clocks.ts sets
  // LC_NUMERIC=C). Microseconds are plenty: the replicas tick every few tens of milliseconds.
  return `@${at.toFixed(6)} x${formatRate(model.rate)}`;
}

function formatRate(rate: number): string {
  return Number(rate.toFixed(6)).toString();
}

/** A short description for histories and reports, e.g. "x0.25, -1.50 s". */
export function describe(model: ClockModel, realMs: number): string {
  const offset = offsetAt(model, realMs) / 1000;
  return `x${formatRate(model.rate)}, ${offset >= 0 ? '+' : ''}${offset.toFixed(2)} s`;
}
