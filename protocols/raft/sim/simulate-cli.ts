/**
 * CLI for the Raft simulation (protocols/common/sim/sim-cli.ts does the work):
 *
 *   npm run sim:raft -- --seed 123 [--nodes 5] [--steps N] [--verbose] [--messages]
 *   npm run sim:raft -- --seeds 1000 [--from 1] [--nodes 3] [--steps N]
 */
import { runSimulationCli } from '../../common/sim/sim-cli.js';
import { DEFAULT_STEPS, simulate } from './simulation.js';

runSimulationCli(simulate, DEFAULT_STEPS);
