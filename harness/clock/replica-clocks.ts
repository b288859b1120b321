/**
 * The clocks of a cluster's replicas, one libfaketime control file each, set while they run.
 *
 * Every replica started with `Cluster`'s `clocks` option runs under libfaketime (faketime-lib.ts)
 * and reads its clocks, the wall clock and the monotonic one together, from `<dir>/<id>.faketime`.
 * This class keeps, per replica, the line its clock should follow (clock-model.ts) and writes the
 * matching setting into that file: `setRate` (a clock that runs fast or slow), `step` (a clock that
 * jumps forward or back), `strobe` (a clock that flips between ahead and true, as Jepsen's clock
 * nemesis does with `strobe-time`), and `reset` (back to the true time, as Jepsen resets with
 * ntpdate). The file is replaced atomically (write, then rename), so libfaketime never reads half
 * a setting; it never disappears while a replica runs (libfaketime would then fall back to
 * ~/.faketimerc or no offset at all).
 *
 * What cannot be faked faithfully: libfaketime applies one offset and one rate to every clock of
 * the process, so a step moves CLOCK_MONOTONIC as well, which Linux never does. A step back (or
 * the reset after a fast clock or a forward step) is a backward step of the monotonic clock. Node
 * survives it, but timers set before the step wait until the clock is back where it was, and
 * I/O callbacks in between see performance.now() go back; a timer set after the step fires on
 * time (measured in replica-clocks.test.ts: a 5 ms setInterval stalled 1.08 s after a 1 s step
 * back; in an idle process a 0.5 s step back stalled one for 1.0 s). A replica's tick timer
 * therefore stalls for about the length of every backward step.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { changed, describe, faketimeSpec, isTrue, offsetAt, trueClock, type ClockModel } from './clock-model.js';
import { faketimeEnv, faketimeMissing, findFaketime, removeFaketimeShm } from './faketime-lib.js';

/** What the nemesis needs (a fake in tests). */
export interface ClockControl {
  /**
   * From now on replica `id`'s clock runs at `rate` (continuous; 1 is normal); with `forMs`, only
   * for that long, then at the normal rate again, keeping what it gained or lost.
   */
  setRate(id: string, rate: number, forMs?: number): Promise<ClockReading>;
  /** Replica `id`'s clock jumps by `stepMs` (negative: back) and runs on at its rate. */
  step(id: string, stepMs: number): Promise<ClockReading>;
  /** Flip between `deltaMs` ahead and the true time every `periodMs`, until reset. */
  strobe(id: string, deltaMs: number, periodMs: number): Promise<ClockReading>;
  /** Back to the true time (a step, unless the clock was true already). */
  reset(id: string): Promise<ClockReading>;
  /** Every clock back to the true time, every strobe stopped. */
  resetAll(): Promise<void>;
}

/** A replica's clock as set: offset from the true time and rate, for histories and reports. */
export interface ClockReading {
  node: string;
  offsetMs: number;
  rate: number;
  description: string;
}

/** How often a clock that is not true is written again (see clock-model.ts on catching up). */
const REFRESH_MS = 200;

export class ReplicaClocks implements ClockControl {
  private readonly models = new Map<string, ClockModel>();
  /** Per replica, the timer of a strobe, or of the end of a rate that lasts `forMs`. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Replicas whose strobe rewrites their file itself. */
  private readonly strobing = new Set<string>();
  private refresher: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly library: string,
    private readonly now: () => number,
  ) {}

  /**
   * Clock files for `ids` in `dir`, every clock true. Throws with the reason when libfaketime is
   * not available (faketimeMissing()).
   */
  static async create(dir: string, ids: readonly string[], opts: { now?: () => number } = {}): Promise<ReplicaClocks> {
    const missing = faketimeMissing();
    if (missing !== null) throw new Error(missing);
    await mkdir(dir, { recursive: true });
    const clocks = new ReplicaClocks(dir, findFaketime()!, opts.now ?? Date.now);
    for (const id of ids) clocks.add(id);
    return clocks;
  }

  /** A clock file for replica `id` (kept if it has one), with the true time. */
  add(id: string): void {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`bad replica id for a clock file: ${JSON.stringify(id)}`);
    if (this.models.has(id)) return;
    this.models.set(id, trueClock(this.now()));
    this.write(id);
  }

  file(id: string): string {
    return join(this.dir, `${id}.faketime`);
  }

  /**
   * The environment replica `id` is started with (Cluster's `clocks` option). A replica added
   * later (Raft membership) gets its file here, with the true time.
   */
  launchEnv(id: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    if (!this.models.has(id)) this.add(id);
    return faketimeEnv(base, this.library, this.file(id));
  }

  /** A replica process started with launchEnv() has exited: remove what libfaketime left behind. */
  exited(pid: number): void {
    removeFaketimeShm(pid);
  }

  reading(id: string): ClockReading {
    const model = this.model(id);
    const now = this.now();
    return { node: id, offsetMs: Math.round(offsetAt(model, now)), rate: model.rate, description: describe(model, now) };
  }

  async setRate(id: string, rate: number, forMs?: number): Promise<ClockReading> {
    this.stopTimer(id);
    const reading = this.apply(id, { rate });
    if (forMs !== undefined) {
      const timer = setTimeout(() => {
        this.timers.delete(id);
        this.models.set(id, changed(this.model(id), this.now(), { rate: 1 }));
        this.writeQuietly(id);
      }, forMs);
      timer.unref();
      this.timers.set(id, timer);
    }
    return reading;
  }

  async step(id: string, stepMs: number): Promise<ClockReading> {
    this.stopTimer(id);
    return this.apply(id, { stepMs });
  }

  async strobe(id: string, deltaMs: number, periodMs: number): Promise<ClockReading> {
    if (!(periodMs >= 1)) throw new Error(`a strobe period must be at least 1 ms, not ${periodMs}`);
    this.stopTimer(id);
    let ahead = false;
    const flip = () => {
      ahead = !ahead;
      const now = this.now();
      this.models.set(id, ahead ? changed(trueClock(now), now, { stepMs: deltaMs }) : trueClock(now));
      this.writeQuietly(id);
    };
    flip();
    const timer = setInterval(flip, periodMs);
    timer.unref();
    this.timers.set(id, timer);
    this.strobing.add(id);
    return { ...this.reading(id), description: `strobe +${deltaMs} ms every ${periodMs} ms` };
  }

  async reset(id: string): Promise<ClockReading> {
    this.stopTimer(id);
    this.models.set(id, trueClock(this.now()));
    this.write(id);
    return this.reading(id);
  }

  async resetAll(): Promise<void> {
    await Promise.all([...this.models.keys()].map((id) => this.reset(id)));
  }

  /** Stop every timer; the files stay (a replica still running keeps reading them). */
  close(): void {
    this.closed = true;
    for (const id of [...this.timers.keys()]) this.stopTimer(id);
    if (this.refresher !== null) clearInterval(this.refresher);
    this.refresher = null;
  }

  private model(id: string): ClockModel {
    const model = this.models.get(id);
    if (model === undefined) throw new Error(`no clock for replica ${id}`);
    return model;
  }

  private apply(id: string, change: { rate?: number; stepMs?: number }): ClockReading {
    this.models.set(id, changed(this.model(id), this.now(), change));
    this.write(id);
    return this.reading(id);
  }

  private stopTimer(id: string): void {
    const timer = this.timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer); // an interval too: Node's clearInterval is clearTimeout, as in the HTML standard
    this.timers.delete(id);
    this.strobing.delete(id);
  }

  /**
   * Replace `id`'s file with the setting for its model, as of now. Synchronous on purpose: the
   * anchor is "now", and an asynchronous write could leave the replica reading its old setting
   * for longer than the anchor's margin (clock-model.ts) while our event loop is busy. Writing a
   * one-line file and renaming it takes tens of microseconds.
   */
  private write(id: string): void {
    const tmp = `${this.file(id)}.tmp`;
    writeFileSync(tmp, faketimeSpec(this.model(id), this.now()) + '\n');
    renameSync(tmp, this.file(id));
    this.keepRefreshing();
  }

  /** A write from a timer: an error (the run's directory removed at its end) must not throw there. */
  private writeQuietly(id: string): void {
    try {
      this.write(id);
    } catch {
      // Nothing left to fake.
    }
  }

  /**
   * While a clock is not true, write it again every REFRESH_MS: a replica that was paused, or
   * restarted, when its file changed catches up with its planned clock (clock-model.ts).
   */
  private keepRefreshing(): void {
    if (this.closed || this.refresher !== null) return;
    this.refresher = setInterval(() => {
      for (const [id, model] of this.models) if (!isTrue(model) && !this.strobing.has(id)) this.writeQuietly(id);
    }, REFRESH_MS);
    this.refresher.unref();
  }
}
