/**
 * The command line every protocol's seeded simulation shares (the one place in protocols/ that
 * touches process and console; each protocol's sim/simulate-cli.ts passes its own `simulate`):
 *
 *   npm run sim:<protocol> -- --seed 123 [--nodes 5] [--steps N] [--verbose] [--messages]
 *   npm run sim:<protocol> -- --seeds 1000 [--from 1] [--nodes 3] [--steps N]
 *
 * A protocol with flags of its own (PBFT's --byzantine and --modes) passes a `SimCliExtension`
 * that parses them into its options.
 */

/** What every simulation takes. */
export interface SimCliOptions {
  seed: number;
  steps?: number;
  nodes?: number;
  log?: (line: string) => void;
  logMessages?: boolean;
}

/** A protocol's own flags: each one it knows goes into `extra`, passed to every run. */
export interface SimCliExtension<O extends SimCliOptions> {
  /**
   * Parses `flag` (taking its argument with `value()`, which throws when there is none) into
   * `extra`; returns false for a flag it does not know.
   */
  parseFlag(flag: string, value: () => string, extra: Partial<O>): boolean;
}

interface CliArgs<O> {
  seed: number | undefined;
  seeds: number | undefined;
  from: number;
  nodes: number | undefined;
  steps: number;
  verbose: boolean;
  messages: boolean;
  extra: Partial<O>;
}

function parseArgs<O extends SimCliOptions>(argv: string[], defaultSteps: number, extension: SimCliExtension<O> | undefined): CliArgs<O> {
  const args: CliArgs<O> = { seed: undefined, seeds: undefined, from: 1, nodes: undefined, steps: defaultSteps, verbose: false, messages: false, extra: {} };
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k] as string;
    const text = (): string => {
      const next = argv[++k];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const value = (): number => {
      const parsed = Number(text());
      if (!Number.isSafeInteger(parsed)) throw new Error(`${flag} needs an integer`);
      return parsed;
    };
    if (flag === '--seed') args.seed = value();
    else if (flag === '--seeds') args.seeds = value();
    else if (flag === '--from') args.from = value();
    else if (flag === '--nodes') args.nodes = value();
    else if (flag === '--steps') args.steps = value();
    else if (flag === '--verbose' || flag === '-v') args.verbose = true;
    else if (flag === '--messages') args.verbose = args.messages = true;
    else if (extension === undefined || !extension.parseFlag(flag, text, args.extra)) throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

function options<O extends SimCliOptions>(seed: number, args: CliArgs<O>): O {
  const opts = { ...args.extra, seed, steps: args.steps } as O;
  if (args.nodes !== undefined) opts.nodes = args.nodes;
  if (args.verbose) opts.log = (line) => console.log(line);
  if (args.messages) opts.logMessages = true;
  return opts;
}

function runMany<O extends SimCliOptions>(simulate: (o: O) => unknown, count: number, args: CliArgs<O>): void {
  const started = performance.now();
  let failures = 0;
  for (let seed = args.from; seed < args.from + count; seed++) {
    try {
      simulate(options(seed, { ...args, verbose: false, messages: false }));
    } catch (error) {
      failures++;
      console.error(error instanceof Error ? error.message : String(error));
    }
  }
  const ms = performance.now() - started;
  console.log(`${count - failures}/${count} seeds passed in ${(ms / 1000).toFixed(2)} s (${(ms / count).toFixed(1)} ms/seed)`);
  if (failures > 0) process.exitCode = 1;
}

/** Runs one seed (printing its report) or many (printing failures and a count). */
export function runSimulationCli<O extends SimCliOptions = SimCliOptions>(
  simulate: (o: O) => unknown,
  defaultSteps: number,
  argv = process.argv.slice(2),
  extension?: SimCliExtension<O>,
): void {
  try {
    const args = parseArgs(argv, defaultSteps, extension);
    if (args.seeds !== undefined) runMany(simulate, args.seeds, args);
    else console.log(JSON.stringify(simulate(options(args.seed ?? 1, args)), null, 2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
