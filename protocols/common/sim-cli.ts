/**
 * The command line every protocol's seeded simulation shares (the one place in protocols/ that
 * touches process and console; each protocol's simulate-cli.ts passes its own `simulate`):
 *
 *   npm run sim:<protocol> -- --seed 123 [--nodes 5] [--steps N] [--verbose] [--messages]
 *   npm run sim:<protocol> -- --seeds 1000 [--from 1] [--nodes 3] [--steps N]
 */

/** What every simulation takes. */
export interface SimCliOptions {
  seed: number;
  steps?: number;
  nodes?: number;
  log?: (line: string) => void;
  logMessages?: boolean;
}

interface CliArgs {
  seed: number | undefined;
  seeds: number | undefined;
  from: number;
  nodes: number | undefined;
  steps: number;
  verbose: boolean;
  messages: boolean;
}

function parseArgs(argv: string[], defaultSteps: number): CliArgs {
  const args: CliArgs = { seed: undefined, seeds: undefined, from: 1, nodes: undefined, steps: defaultSteps, verbose: false, messages: false };
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k];
    const value = (): number => {
      const parsed = Number(argv[++k]);
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
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

function options(seed: number, args: CliArgs): SimCliOptions {
  const opts: SimCliOptions = { seed, steps: args.steps };
  if (args.nodes !== undefined) opts.nodes = args.nodes;
  if (args.verbose) opts.log = (line) => console.log(line);
  if (args.messages) opts.logMessages = true;
  return opts;
}

function runMany(simulate: (o: SimCliOptions) => unknown, count: number, args: CliArgs): void {
  const started = performance.now();
  let failures = 0;
  for (let seed = args.from; seed < args.from + count; seed++) {
    try {
      simulate(options(seed, { ...args, verbose: false }));
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
export function runSimulationCli(simulate: (o: SimCliOptions) => unknown, defaultSteps: number, argv = process.argv.slice(2)): void {
  try {
    const args = parseArgs(argv, defaultSteps);
    if (args.seeds !== undefined) runMany(simulate, args.seeds, args);
    else console.log(JSON.stringify(simulate(options(args.seed ?? 1, args)), null, 2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
