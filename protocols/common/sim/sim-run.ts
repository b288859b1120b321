/**
 * What every protocol's seeded simulation shares around its run: the failure that names the seed
 * and the command replaying it, turning anything a run throws into one, and running many seeds.
 */
import { InvariantError } from '../invariant.js';

export class SimulationFailure extends Error {
  override name = 'SimulationFailure';

  constructor(
    readonly protocol: string,
    readonly seed: number,
    readonly reason: string,
    readonly replay: string,
  ) {
    super(`${protocol} simulation seed ${seed} failed: ${reason}\n  replay: ${replay} --verbose`);
  }
}

/**
 * Runs one simulation; an invariant or any other error it throws becomes a SimulationFailure
 * (`withStack`: keep the stack of unexpected errors in the reason).
 */
export function runGuarded<R>(protocol: string, seed: number, replay: string, run: () => R, withStack = false): R {
  try {
    return run();
  } catch (error) {
    if (error instanceof SimulationFailure) throw error;
    const unexpected = withStack && error instanceof Error ? error.stack : error;
    const reason = error instanceof InvariantError ? `invariant: ${error.message}` : String(unexpected);
    throw new SimulationFailure(protocol, seed, reason, replay);
  }
}

export interface SeedsRun<R> {
  reports: R[];
  /** The failure message of every seed that failed. */
  failures: string[];
  seconds: number;
}

/** Runs seeds from..from+count-1; a failing seed is recorded, not thrown. */
export function runSeeds<R>(simulate: (options: { seed: number }) => R, count: number, from = 1): SeedsRun<R> {
  const started = performance.now();
  const reports: R[] = [];
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    try {
      reports.push(simulate({ seed }));
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { reports, failures, seconds: (performance.now() - started) / 1000 };
}

/**
 * The first seed of a range no earlier run replayed, from a clock reading (ms since the epoch)
 * the caller passes in (this file stays pure): a new block of 1,000 seeds every second, far above
 * the fixed seeds 1..500 that every run replays, and below 2^31.
 */
export function freshSeedFrom(clockMs: number): number {
  return 1_000_000 + (Math.floor(clockMs / 1000) % 2_000_000) * 1000;
}
