/**
 * CLI for the PBFT simulation (protocols/common/sim/sim-cli.ts does the work; PBFT adds two flags):
 *
 *   npm run sim:pbft -- --seed 123 [--nodes 7] [--steps N] [--byzantine B] [--modes silent,forge] [--verbose] [--messages]
 *   npm run sim:pbft -- --seeds 1000 [--from 1] [--nodes 4] [--steps N] [--byzantine B] [--modes equivocate]
 *   (or: node --import tsx protocols/pbft/sim/simulate-cli.ts --seed 123)
 */
import { runSimulationCli, type SimCliExtension } from '../../common/sim/sim-cli.js';
import { BYZANTINE_MODES, type ByzantineMode } from '../byzantine.js';
import { DEFAULT_STEPS, simulate, type SimulationOptions } from './simulation.js';

function parseModes(text: string): ByzantineMode[] {
  const modes = text.split(',').filter((m) => m.length > 0);
  for (const m of modes) if (!BYZANTINE_MODES.includes(m as ByzantineMode)) throw new Error(`unknown mode ${m} (${BYZANTINE_MODES.join(', ')})`);
  return modes as ByzantineMode[];
}

/** --byzantine B: how many replicas misbehave (more than f only to see what breaks); --modes: which modes. */
const pbftFlags: SimCliExtension<SimulationOptions> = {
  parseFlag(flag, value, extra) {
    if (flag === '--byzantine') {
      const count = Number(value());
      if (!Number.isSafeInteger(count) || count < 0) throw new Error('--byzantine needs a non-negative integer');
      extra.byzantine = count;
    } else if (flag === '--modes') extra.modes = parseModes(value());
    else return false;
    return true;
  },
};

runSimulationCli(simulate, DEFAULT_STEPS, process.argv.slice(2), pbftFlags);
