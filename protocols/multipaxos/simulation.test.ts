/**
 * The seeded simulation (sim/simulation.ts): hundreds of random schedules of drops, delays,
 * duplicates, partitions, crashes and restarts, with safety checked after every event and
 * recovery at the end. A failure names the seed and the command replaying it.
 */
import t from 'tap';
import { DEFAULT_STEPS, replayCommand, simulate, SimulationFailure, type SimulationReport } from './sim/simulation.js';
import { PaxosSafetyChecker } from './sim/sim-checker.js';
import type { Command } from './types.js';
import { freshSeedFrom, runSeeds } from '../common/sim/sim-run.js';

const SEEDS = 500;

t.test(`simulation: ${SEEDS} seeds of 3 and 5 replicas stay safe and recover`, async (t) => {
  const { reports, failures, seconds } = runSeeds(simulate, SEEDS);
  t.same(failures, [], 'no seed violates safety or liveness');
  t.equal(new Set(reports.map((r) => r.nodes)).size, 2, 'both cluster sizes ran');
  const sum = (key: keyof SimulationReport) => reports.reduce((total, r) => total + (r[key] as number), 0);
  t.ok(sum('crashes') > SEEDS && sum('partitions') > SEEDS, 'faults were injected');
  t.ok(sum('leaderBallots') > 2 * SEEDS, 'leadership changed hands');
  t.ok(sum('acknowledged') > 10 * SEEDS && sum('readsServed') > SEEDS, 'clients got answers');
  t.ok(sum('snapshotsTaken') > 10 * SEEDS, `snapshots were taken in the background (${sum('snapshotsTaken')})`);
  t.ok(sum('compactions') > 10 * SEEDS, `slots were garbage-collected behind them (${sum('compactions')} compactions)`);
  t.ok(sum('snapshotsInstalled') > SEEDS / 2, `replicas caught up by snapshot (${sum('snapshotsInstalled')} installs)`);
  t.ok(sum('snapshotChunksSent') > 2 * sum('snapshotsInstalled'), `in several chunks each (${sum('snapshotChunksSent')} chunks sent)`);
  t.comment(`${SEEDS} seeds x ${DEFAULT_STEPS} steps in ${seconds.toFixed(1)} s`);
});

const FRESH = 400;

t.test(`simulation: ${FRESH} fresh seeds no earlier run has replayed`, async (t) => {
  // A new range every run (SIM_FRESH_FROM=N replays one): the fixed seeds above never change, so
  // they can only find what a change breaks, never a bug that was there all along.
  const from = Number(process.env.SIM_FRESH_FROM ?? freshSeedFrom(Date.now()));
  t.comment(`multipaxos fresh seeds ${from}..${from + FRESH - 1} (SIM_FRESH_FROM=${from} runs this range again)`);
  const { failures } = runSeeds(simulate, FRESH, from);
  t.same(failures, [], 'no fresh seed violates safety or liveness (each failure names its replay command)');
});

t.test('simulation: a seed always replays the same run', async (t) => {
  t.same(simulate({ seed: 42 }), simulate({ seed: 42 }));
  t.notSame(simulate({ seed: 42 }), simulate({ seed: 43, nodes: 3 }));
});

t.test('simulation: failures name the seed and the replay command', async (t) => {
  t.equal(replayCommand({ seed: 7 }), 'npm run sim:paxos -- --seed 7');
  t.equal(replayCommand({ seed: 7, nodes: 3, steps: 100 }), 'npm run sim:paxos -- --seed 7 --nodes 3 --steps 100');
  const failure = new SimulationFailure('multipaxos', 7, 'boom', replayCommand({ seed: 7 }));
  t.match(failure.message, /seed 7 failed: boom/);
  t.match(failure.message, /npm run sim:paxos -- --seed 7/);
});

const command = (leader: string, text: string): Command => ({
  kind: 'batch', origin: { round: 1, leader }, payloads: [new TextEncoder().encode(text)],
});

function checker(): PaxosSafetyChecker {
  return new PaxosSafetyChecker((message) => {
    throw new Error(message);
  });
}

t.test('checker: agreement, one value per ballot and slot, equal state, acked writes, reads', async (t) => {
  const c = checker();
  c.observeDecided('n1', 1, command('n1', 'a'));
  t.throws(() => c.observeDecided('n2', 1, command('n2', 'b')), /agreement/);
  c.observeP2a({ ballot: { round: 1, leader: 'n1' }, slot: 2, command: command('n1', 'a') });
  t.throws(() => c.observeP2a({ ballot: { round: 1, leader: 'n1' }, slot: 2, command: command('n1', 'z') }), /two commands/);
  c.observeApplied('n1', 1, command('n1', 'a'), 11);
  t.throws(() => c.observeApplied('n2', 1, command('n1', 'a'), 12), /diverge/);
  c.acknowledge(1, command('n1', 'a'));
  t.throws(() => c.checkHolds('n3', () => undefined, 1), /lost/);
  t.throws(() => c.checkRead('n1', 1, 0, 1), /linearizability/);
});
