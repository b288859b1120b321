/**
 * Runs the benchmark matrix: `--rounds` times, interleaved (rounds.ts), a fresh system for each
 * (system, workload, target); a preload when the workload reads (always in soak mode); then for
 * each connection count a warm-up and the measured runs (measured-round.ts; in soak mode
 * soak-round.ts, with the sampler watching). The cells of all rounds are merged to medians.
 */
import { isShuttingDown } from './cleanup.js';
import { analyzeFailover, type FailoverReport } from './failover.js';
import type { LoadGenerator } from './load-client.js';
import type { RunSpec } from './load-protocol.js';
import type { BenchOptions, Target } from './options.js';
import { measuredRound, type Log } from './measured-round.js';
import { etcdMaxTxnOps, needsPreload, type Workload } from './requests.js';
import type { BenchCell } from './results.js';
import { interleavedPlan, medianBy, mergeRounds, type SystemStart } from './rounds.js';
import type { SoakReport } from './soak-results.js';
import { soakRound } from './soak-round.js';
import { fmtRps } from './summary.js';
import { systemDefinition } from './systems/registry.js';
import type { RunningSystem } from './systems/types.js';

export interface RunNote {
  system: string;
  workload?: Workload | 'failover';
  note: string;
}

export interface BenchOutcome {
  /** One per (system, workload, target, connections): the median round. */
  cells: BenchCell[];
  failover: FailoverReport[];
  /** Soak mode: one report per measured run, every round's. */
  soaks: SoakReport[];
  /** Systems skipped (not installed) and cells that failed, with why. */
  notes: RunNote[];
}

export type { Log };

export async function runBench(options: BenchOptions, load: LoadGenerator, log: Log, logDir?: string): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { cells: [], failover: [], soaks: [], notes: [] };
  const systems = await availableSystems(options.systems, log, outcome.notes);
  const plan = interleavedPlan({ systems, workloads: options.workloads, targets: options.targets, rounds: options.rounds });
  const perRound: BenchCell[] = [];
  for (const start of plan) {
    const what = `${start.workload}, --target ${start.target}${options.rounds > 1 ? `, round ${start.round} of ${options.rounds}` : ''}`;
    await withSystem(start.system, options, log, outcome, start.workload, what, logDir, async (sys) => {
      if (needsPreload(start.workload) || options.soak) await preloadKeys(sys, options, load, log);
      for (const connections of options.connections) {
        const { cell, soaks } = await measureCell(sys, start, connections, options, load, log);
        log(`  ${formatCellLine(cell)}`);
        perRound.push(cell);
        outcome.soaks.push(...soaks);
      }
    });
  }
  outcome.cells = mergeRounds(perRound);
  if (options.failover) for (const name of systems) await failoverOf(name, options, load, log, outcome, logDir);
  return outcome;
}

/** The systems that can run here; the others are noted as skipped. */
async function availableSystems(names: string[], log: Log, notes: RunNote[]): Promise<string[]> {
  const out: string[] = [];
  for (const name of names) {
    const why = await systemDefinition(name).unavailable();
    if (why === null) {
      out.push(name);
      continue;
    }
    log(`skipping ${name}: ${why}`);
    notes.push({ system: name, note: `skipped: ${why}` });
  }
  return out;
}

/** The failover experiment, once per system (after every round): it has no rounds. */
async function failoverOf(name: string, options: BenchOptions, load: LoadGenerator, log: Log, outcome: BenchOutcome, logDir: string | undefined): Promise<void> {
  if (!systemDefinition(name).failover) {
    outcome.notes.push({ system: name, workload: 'failover', note: 'no failover run: no leader to kill' });
    return;
  }
  await withSystem(name, options, log, outcome, 'failover', 'failover', logDir, async (sys) => {
    if (sys.killLeader === undefined || sys.urls.length < 2) {
      outcome.notes.push({ system: name, workload: 'failover', note: 'no failover: the system has no leader to kill' });
      return;
    }
    const report = await runFailover(sys, options, load);
    log(`  ${name} failover: killed ${report.killedReplica}, first write acknowledged ${report.recoveryMs ?? 'never'} ms after the kill`);
    outcome.failover.push(report);
  });
}

async function withSystem(
  name: string,
  options: BenchOptions,
  log: Log,
  outcome: BenchOutcome,
  workload: Workload | 'failover',
  what: string,
  logDir: string | undefined,
  body: (sys: RunningSystem) => Promise<void>,
): Promise<void> {
  if (isShuttingDown()) return;
  log(`${name}: starting (${what})`);
  let sys: RunningSystem | undefined;
  try {
    sys = await systemDefinition(name).start({ nodes: options.nodes, ...(logDir === undefined ? {} : { logDir }) });
    await body(sys);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} (${what}) failed: ${message}`);
    outcome.notes.push({ system: name, workload, note: `failed${what === workload ? '' : ` (${what})`}: ${message}` });
  } finally {
    await sys?.stop();
  }
}

/**
 * Every key written once, `--preload-concurrency` requests in flight, for etcd 128 puts per txn
 * (its default --max-txn-ops; our API has one key per PUT), to the leader or, with
 * `--preload-via any`, round robin to every replica (followers forward to the leader). The
 * leader is the default because it was the fastest here: our followers forward over HTTP, so
 * the leader still parses every request, and forwarding adds a hop (bench/README.md).
 */
async function preloadKeys(sys: RunningSystem, options: BenchOptions, load: LoadGenerator, log: Log): Promise<void> {
  const urls = options.preloadVia === 'any' ? sys.urls : [sys.targetUrl];
  const p = await load.preload(
    { urls, dialect: sys.dialect, keys: options.keys, valueBytes: options.valueBytes, concurrency: options.preloadConcurrency, batch: etcdMaxTxnOps },
    (progress) => {
      if (progress.kind === 'preload') log(`  ${sys.name}: preloading, ${progress.written.toLocaleString('en-US')} of ${progress.keys.toLocaleString('en-US')} keys after ${(progress.ms / 1000).toFixed(0)} s`);
    },
  );
  log(`  ${sys.name}: preloaded ${p.written} keys in ${p.ms} ms (${fmtRps((p.written * 1000) / Math.max(1, p.ms))} keys/s through ${urls.length} URL${urls.length === 1 ? '' : 's'})`);
}

/**
 * One cell in one round: a warm-up, then `--repetitions` measured runs back to back on the same
 * system; the run with the median req/s stands for the round (all its numbers belong together).
 */
export async function measureCell(
  sys: RunningSystem,
  at: Pick<SystemStart, 'workload' | 'target' | 'round' | 'sequence'>,
  connections: number,
  options: BenchOptions,
  load: LoadGenerator,
  log: Log = () => undefined,
): Promise<{ cell: BenchCell; soaks: SoakReport[] }> {
  const spec: RunSpec = {
    urls: loadUrls(sys, at.target),
    dialect: sys.dialect,
    workload: at.workload,
    readRatio: options.readRatio,
    connections,
    durationS: options.warmupS,
    valueBytes: options.valueBytes,
    keys: options.keys,
    distribution: options.distribution,
    rate: options.rate,
    timeoutS: options.timeoutS,
    windowS: null,
  };
  if (options.warmupS > 0) await load.run(spec);
  const startedAt = new Date().toISOString();
  const runs: BenchCell[] = [];
  const soaks: SoakReport[] = [];
  for (let i = 0; i < options.repetitions; i++) {
    const measured: RunSpec = { ...spec, durationS: options.durationS, windowS: options.soak ? options.windowS : null };
    const run = options.soak
      ? await soakRound(sys, measured, options, load, { target: at.target, round: at.round, repetition: i + 1 }, log)
      : { cell: (await measuredRound(sys, measured, at.target, load)).cell, soak: null };
    runs.push(run.cell);
    if (run.soak !== null) soaks.push(run.soak);
  }
  const chosen = medianBy(runs, (r) => r.rps);
  const rounds = [{ round: at.round, sequence: at.sequence, startedAt, rps: chosen.rps }];
  return { cell: { ...chosen, rpsRuns: runs.map((r) => r.rps), round: at.round, rounds }, soaks };
}

async function runFailover(sys: RunningSystem, options: BenchOptions, load: LoadGenerator): Promise<FailoverReport> {
  const durationS = Math.max(options.durationS, 4);
  const ratePerS = options.rate ?? options.failoverRate;
  const running = load.failover({
    urls: sys.urls,
    dialect: sys.dialect,
    ratePerS,
    durationS,
    valueBytes: options.valueBytes,
    keys: options.keys,
    timeoutMs: 2000,
    maxInflight: 1000,
  });
  await new Promise((r) => setTimeout(r, (durationS * 1000) / 2));
  const killed = await sys.killLeader!();
  const result = await running;
  return analyzeFailover(result, killed.killedAtMs, { system: sys.name, nodes: sys.nodes, ratePerS, durationS, killedReplica: killed.replica });
}

export function formatCellLine(c: BenchCell): string {
  return (
    `${c.system} ${c.workload} --target ${c.target} c=${c.connections}: ${c.rps.toFixed(0)} req/s, ` +
    `p50 ${c.latencyMs.p50.toFixed(2)} ms, p99 ${c.latencyMs.p99.toFixed(2)} ms, errors ${c.errors}, non2xx ${c.non2xx}`
  );
}

/**
 * Where a cell's connections go: the leader, one follower (the path users take when they write
 * through any replica: the README's own curl examples do), or spread over every replica. A system
 * with one replica has no follower: its only URL.
 */
export function loadUrls(sys: Pick<RunningSystem, 'targetUrl' | 'urls'>, target: Target): string[] {
  if (target === 'any') return sys.urls;
  if (target === 'follower') return [sys.urls.find((u) => u !== sys.targetUrl) ?? sys.targetUrl];
  return [sys.targetUrl];
}
