/**
 * The PBFT simulation (sim/simulation.ts) on seeds beyond the fixed 500 of simulation.test.ts:
 * every seed that once failed, each with its bug, and a fresh range no earlier run replayed. In a
 * file of its own so that tap runs it beside the fixed seeds: PBFT's simulation is the slowest.
 */
import t from 'tap';
import { catchUpAllowance, simulate } from './sim/simulation.js';
import { freshSeedFrom, runSeeds } from '../common/sim/sim-run.js';

/** Seeds that once failed, found by hunting fresh ranges (issue "Safety first"), each with its bug. */
const REGRESSIONS = [
  { seed: 3001169, found: 'agreement: a replica executed on the strength of its own Commit before it was durable' },
  { seed: 3001389, found: 'liveness: executed replicas did not resend their Prepares in a new view' },
  { seed: 3003344, found: 'liveness: batches held from earlier view changes used up the bound a NewView needed' },
  { seed: 1531473542, found: 'liveness: a replica changing views stopped resending its votes of the view it left' },
  { seed: 1531464334, nodes: 7, found: 'liveness: the same, 7 replicas' },
  { seed: 1809245894, nodes: 7, found: 'liveness: a replica that lost a PrePrepare in a crash could not prepare, and only f correct replicas had executed n' },
  { seed: 342892138, nodes: 4, found: 'liveness: a state transfer dropped every piece of a partition that came from the source asked before the current one' },
  { seed: 62954458, nodes: 7, found: 'liveness: two replicas that had executed n in an earlier view each lacked the other\'s Prepare of the new view, and neither resent it' },
  { seed: 77000055, nodes: 7, found: 'checker: two faulty primaries in a row; the catch-up bound did not wait for the doubled view-change timers' },
];

t.test('the catch-up bound waits for up to f+1 view changes with doubling timers (OSDI §4.5.2)', async (t) => {
  t.equal(catchUpAllowance([], 2), 0, 'no view change under way: no allowance');
  t.equal(catchUpAllowance([160, 640, 320], 2), 640 * 8, 'T + 2T + 4T < 8T for the longest timer T, f = 2');
  t.equal(catchUpAllowance([40], 1), 160);
});

t.test('simulation: every seed that once failed passes', async (t) => {
  for (const r of REGRESSIONS) {
    const options = 'nodes' in r ? { seed: r.seed, nodes: r.nodes } : { seed: r.seed };
    t.doesNotThrow(() => simulate(options), `seed ${r.seed}: ${r.found}`);
  }
});

const FRESH = 300;

t.test(`simulation: ${FRESH} fresh seeds no earlier run has replayed`, async (t) => {
  // A new range every run (SIM_FRESH_FROM=N replays one): the fixed seeds above never change, so
  // they can only find what a change breaks, never a bug that was there all along.
  const from = Number(process.env.SIM_FRESH_FROM ?? freshSeedFrom(Date.now()));
  t.comment(`pbft fresh seeds ${from}..${from + FRESH - 1} (SIM_FRESH_FROM=${from} runs this range again)`);
  const { failures } = runSeeds(simulate, FRESH, from);
  t.same(failures, [], 'no fresh seed violates safety or liveness (each failure names its replay command)');
});
