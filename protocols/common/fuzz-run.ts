/**
 * The seed loop the protocol fuzz tests share (protocols/<p>/fuzz.test.ts): how many seeds (the
 * FUZZ_SEEDS and FUZZ_FROM environment variables widen a run; FUZZ_SEED replays one), and the
 * failure that names the seed, the mutant and what threw, so a failure can be replayed with
 * `FUZZ_SEED=<seed> npx tap protocols/<p>/fuzz.test.ts`.
 *
 * Test support only: the one other place in protocols/ besides sim-cli.ts that reads the
 * environment, and only when a test passes `env` in.
 */
import { describeMessage } from './mutate.js';

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';

  constructor(
    readonly protocol: string,
    readonly seed: number,
    readonly step: number,
    readonly mutant: unknown,
    readonly changes: string[],
    override readonly cause: unknown,
  ) {
    const what = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
    super(
      `${protocol} fuzz seed ${seed}, mutant ${step}: the core threw on a guard-accepted message\n` +
        `  changes: ${changes.join('; ')}\n  mutant: ${describeMessage(mutant)}\n  threw: ${what}\n` +
        `  replay: FUZZ_SEED=${seed} npx tap protocols/${protocol}/fuzz.test.ts`,
    );
  }
}

/** Seeds to run: FUZZ_SEED=s (just s), else FUZZ_FROM.. FUZZ_FROM+FUZZ_SEEDS-1 (default 1..count). */
export function fuzzSeeds(env: Record<string, string | undefined>, count: number): number[] {
  const one = env['FUZZ_SEED'];
  if (one !== undefined) return [Number(one)];
  const from = Number(env['FUZZ_FROM'] ?? 1);
  const seeds = Number(env['FUZZ_SEEDS'] ?? count);
  return Array.from({ length: seeds }, (_, k) => from + k);
}

export interface FuzzTotals {
  seeds: number;
  /** Mutants the guard accepted and the core was stepped with. */
  stepped: number;
  /** Mutants the guard refused (not stepped). */
  refused: number;
  /** Mutants that passed the core's authentication (protocols that authenticate; else = stepped). */
  authenticated: number;
  failures: string[];
}

/** Runs `one(seed)` for every seed; a FuzzFailure (or anything else thrown) is recorded, not rethrown. */
export function runFuzzSeeds(seeds: readonly number[], one: (seed: number) => { stepped: number; refused: number; authenticated?: number }): FuzzTotals {
  const totals: FuzzTotals = { seeds: seeds.length, stepped: 0, refused: 0, authenticated: 0, failures: [] };
  for (const seed of seeds) {
    try {
      const r = one(seed);
      totals.stepped += r.stepped;
      totals.refused += r.refused;
      totals.authenticated += r.authenticated ?? r.stepped;
    } catch (error) {
      totals.failures.push(error instanceof FuzzFailure ? error.message : `seed ${seed}: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  return totals;
}
