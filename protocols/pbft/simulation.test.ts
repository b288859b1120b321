/**
 * The seeded simulation (sim/simulation.ts): hundreds of random schedules of drops, delays,
 * duplicates, partitions, crashes and restarts, with up to f Byzantine replicas, safety checked
 * after every event and liveness at the end. A failure names the seed and the replay command.
 * Seeds that once failed and a fresh range: simulation-fresh.test.ts.
 */
import t from 'tap';
import { DEFAULT_STEPS, replayCommand, simulate, SimulationFailure, type SimulationReport } from './sim/simulation.js';
import { PbftSafetyChecker } from './sim/sim-checker.js';
import { runSeeds } from '../common/sim/sim-run.js';

const SEEDS = 500;

t.test(`simulation: ${SEEDS} seeds of 4 and 7 replicas, up to f Byzantine, stay safe and live`, async (t) => {
  const { reports, failures, seconds } = runSeeds(simulate, SEEDS);
  t.same(failures, [], 'no seed violates safety or liveness');
  const sum = (key: keyof SimulationReport): number => reports.reduce((total, r) => total + (r[key] as number), 0);
  const count = (p: (r: SimulationReport) => boolean): number => reports.filter(p).length;
  t.equal(new Set(reports.map((r) => r.nodes)).size, 2, 'both cluster sizes ran');
  const modes = new Set(reports.flatMap((r) => r.byzantine.map((b) => b.split(':')[1])));
  t.equal(modes.size, 6, `every Byzantine mode ran (${[...modes].join(', ')})`);
  t.ok(count((r) => r.byzantine.length === r.f && r.f === 2) > 10, 'f = 2 Byzantine replicas out of 7 ran');
  t.ok(count((r) => r.authentication === 'sign-all') > SEEDS / 10, 'sign-all mode ran');
  t.ok(sum('crashes') > SEEDS && sum('partitions') > SEEDS, 'faults were injected');
  t.ok(count((r) => r.highestView > 0) > SEEDS / 2, 'views changed');
  t.ok(sum('checkpoints') > 10 * SEEDS, 'checkpoints were taken');
  t.ok(count((r) => r.stateTransfers > 0) > SEEDS / 5, `replicas caught up by state transfer (${sum('stateTransfers')})`);
  t.ok(sum('rejectedAuth') > SEEDS, `forged messages were rejected (${sum('rejectedAuth')})`);
  t.ok(sum('acceptedWrites') > 10 * SEEDS && sum('acceptedReads') > SEEDS / 2, 'clients got answers');
  t.ok(sum('readFallbacks') > 0, 'reads fell back to the ordered path');
  t.comment(`${SEEDS} seeds x ${DEFAULT_STEPS} steps in ${seconds.toFixed(1)} s`);
});

t.test('simulation: a seed always replays the same run', async (t) => {
  t.same(simulate({ seed: 42 }), simulate({ seed: 42 }));
  t.notSame(simulate({ seed: 42 }), simulate({ seed: 43, nodes: 4 }));
});

t.test('simulation: f Byzantine replicas of each mode, 7 replicas', async (t) => {
  for (const mode of ['silent', 'equivocate', 'bad-digest', 'wrong-reply', 'forge', 'stale-view'] as const) {
    for (let seed = 1; seed <= 4; seed++) {
      const report = simulate({ seed, nodes: 7, byzantine: 2, modes: [mode] });
      t.equal(report.byzantine.length, 2, `${mode} seed ${seed}`);
    }
  }
});

t.test('simulation: with f+1 Byzantine replicas safety is lost, and the checker says so', async (t) => {
  const violations: string[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    try {
      simulate({ seed, nodes: 4, byzantine: 2, modes: ['equivocate'] });
    } catch (error) {
      violations.push(error instanceof Error ? error.message : String(error));
    }
  }
  t.ok(violations.length > 10, `${violations.length} of 40 seeds violate safety`);
  t.ok(violations.some((v) => /agreement|accepted/.test(v)), 'agreement or client safety is broken');
});

t.test('simulation: failures name the seed and the replay command', async (t) => {
  t.equal(replayCommand({ seed: 7 }), 'npm run sim:pbft -- --seed 7');
  t.equal(replayCommand({ seed: 7, nodes: 4, steps: 100 }), 'npm run sim:pbft -- --seed 7 --steps 100');
  const failure = new SimulationFailure('pbft', 7, 'boom', replayCommand({ seed: 7 }));
  t.match(failure.message, /seed 7 failed: boom/);
  t.match(failure.message, /npm run sim:pbft -- --seed 7/);
});

t.test('checker: agreement, equal checkpoints, client safety', async (t) => {
  const c = new PbftSafetyChecker(1, (message) => {
    throw new Error(message);
  });
  c.observeExecuted(0, 1, 'aa');
  t.throws(() => c.observeExecuted(1, 1, 'bb'), /agreement/);
  c.observeVote('Prepare', 2, 0, 1, 'aa');
  t.throws(() => c.observeVote('Prepare', 2, 0, 1, 'bb'), /one vote per/);
  c.observeCheckpoint(0, 4, 'x');
  t.throws(() => c.observeCheckpoint(2, 4, 'y'), /state/);
  const request = { clientId: 'c', seq: 1, operation: { op: 'put' as const, key: 'k', value: 'v' }, origin: 0 };
  t.throws(() => c.checkAcceptedOrdered('c', 1, 'put'), /no correct replica/);
  c.observeResult(0, request, { kind: 'put' });
  c.checkAcceptedOrdered('c', 1, 'put');
  c.observeRead(0, 'c', 2, { kind: 'get', value: 'v' });
  t.throws(() => c.checkAcceptedRead('c', 2, 'get:=v'), /only 1 correct/);
  c.observeRead(1, 'c', 2, { kind: 'get', value: 'v' });
  c.checkAcceptedRead('c', 2, 'get:=v');
});
