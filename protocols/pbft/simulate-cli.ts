/**
 * CLI for the PBFT simulation (the one file here allowed to touch process and console):
 *
 *   npm run sim:pbft -- --seed 123 [--nodes 7] [--steps N] [--byzantine B] [--modes silent,forge] [--verbose] [--messages]
 *   npm run sim:pbft -- --seeds 1000 [--from 1] [--nodes 4] [--steps N]
 *   (or: node --import tsx protocols/pbft/simulate-cli.ts --seed 123)
 */
import { BYZANTINE_MODES, type ByzantineMode } from './byzantine.js';
import { DEFAULT_STEPS, simulate, SimulationFailure, type SimulationOptions } from './simulation.js';

interface CliArgs {
  seed: number | undefined;
  seeds: number | undefined;
  from: number;
  nodes: number | undefined;
  steps: number;
  byzantine: number | undefined;
  modes: ByzantineMode[] | undefined;
  verbose: boolean;
  messages: boolean;
}

function parseModes(text: string | undefined): ByzantineMode[] {
  const modes = (text ?? '').split(',').filter((m) => m.length > 0);
  for (const m of modes) if (!BYZANTINE_MODES.includes(m as ByzantineMode)) throw new Error(`unknown mode ${m} (${BYZANTINE_MODES.join(', ')})`);
  return modes as ByzantineMode[];
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { seed: undefined, seeds: undefined, from: 1, nodes: undefined, steps: DEFAULT_STEPS, byzantine: undefined, modes: undefined, verbose: false, messages: false };
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
    else if (flag === '--byzantine') args.byzantine = value();
    else if (flag === '--modes') args.modes = parseModes(argv[++k]);
    else if (flag === '--verbose' || flag === '-v') args.verbose = true;
    else if (flag === '--messages') args.verbose = args.messages = true;
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

function options(seed: number, args: CliArgs): SimulationOptions {
  const opts: SimulationOptions = { seed, steps: args.steps };
  if (args.nodes !== undefined) opts.nodes = args.nodes;
  if (args.byzantine !== undefined) opts.byzantine = args.byzantine;
  if (args.modes !== undefined) opts.modes = args.modes;
  if (args.verbose) opts.log = (line) => console.log(line);
  if (args.messages) opts.logMessages = true;
  return opts;
}

function runOne(seed: number, args: CliArgs): void {
  console.log(JSON.stringify(simulate(options(seed, args)), null, 2));
}

function runMany(count: number, args: CliArgs): void {
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

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.seeds !== undefined) runMany(args.seeds, args);
  else runOne(args.seed ?? 1, args);
}

try {
  main();
} catch (error) {
  console.error(error instanceof SimulationFailure ? error.message : error);
  process.exitCode = 1;
}
