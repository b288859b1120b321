/**
 * The seed loop the protocol fuzz tests share (protocols/<p>/fuzz.test.ts): how many seeds (the
 * FUZZ_SEEDS and FUZZ_FROM environment variables widen a run; FUZZ_SEED replays one), and the
 * failure that names the seed, the mutant and what threw, so a failure can be replayed with
 * `FUZZ_SEED=<seed> npx tap protocols/<p>/fuzz.test.ts`.
 *
 * Test support only: the one other place in protocols/ besides sim-cli.ts that reads the
 * environment, and only when a test passes `env` in.
 */
import { describeMessage, MutationPool } from './mutate.js';
import type { Rng } from '../rng.js';

/**
 * The real messages a fuzz test mutates: by type, so that a mutant's type is drawn uniformly
 * (otherwise the commonest messages would be most of the mutants), plus the pool of field values
 * seen on the wire that mutate() swaps in.
 */
export class MessageCorpus<M extends { type: string }> {
  readonly pool = new MutationPool();
  private readonly byType = new Map<string, M[]>();

  constructor(messages: readonly M[]) {
    for (const m of messages) {
      this.pool.add(m);
      this.byType.set(m.type, [...(this.byType.get(m.type) ?? []), m]);
    }
  }

  /** Every message type the corpus holds. */
  get types(): string[] {
    return [...this.byType.keys()];
  }

  /** The messages of one type drawn uniformly among the types. */
  randomTypeList(rng: Rng): M[] {
    const types = this.types;
    return this.byType.get(types[rng.int(types.length)] as string) as M[];
  }

  /** A message of a type drawn uniformly, then one of that type. */
  pick(rng: Rng): M {
    const list = this.randomTypeList(rng);
    return list[rng.int(list.length)] as M;
  }
}

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

/** The three assertions fuzzTest makes: tap's Test has them (kept structural, so no test framework is imported here). */
export interface FuzzChecks {
  same(found: unknown, wanted: unknown, message: string): unknown;
  ok(value: unknown, message: string): unknown;
  comment(message: string): unknown;
}

/**
 * The body the fuzz tests share: run the seeds `env` asks for (default `count`), print every
 * failure with FUZZ_ALL, require no failing seed and enough stepped mutants, and report the time.
 * Returns the totals for the protocol's own checks.
 */
export function fuzzTest(
  t: FuzzChecks,
  env: Record<string, string | undefined>,
  count: number,
  one: (seed: number) => { stepped: number; refused: number; authenticated?: number },
): FuzzTotals {
  const seeds = fuzzSeeds(env, count);
  const started = performance.now();
  const totals = runFuzzSeeds(seeds, one);
  if (env['FUZZ_ALL'] !== undefined) for (const f of totals.failures) console.log(f.split('\n').slice(0, 5).join('\n'));
  t.same(totals.failures.slice(0, 3), [], `no failing seed (${totals.failures.length} failed)`);
  t.ok(totals.stepped > seeds.length * 10, `${totals.stepped} mutants stepped, ${totals.refused} refused by the guard`);
  t.comment(`${seeds.length} seeds, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return totals;
}
