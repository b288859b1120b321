/**
 * Runs the benchmark matrix: for each system and workload a fresh system, a preload when the
 * workload reads (always in soak mode), then for each connection count a warm-up round and the
 * measured rounds (measured-round.ts; in soak mode soak-round.ts, with the sampler watching).
 */
import { isShuttingDown } from './cleanup.js';
import { analyzeFailover, type FailoverReport } from './failover.js';
import { median } from './latency-samples.js';
import type { LoadGenerator } from './load-client.js';
import type { RunSpec } from './load-protocol.js';
import type { BenchOptions, Target } from './options.js';
import { measuredRound, type Log } from './measured-round.js';
import { etcdMaxTxnOps, needsPreload, type Workload } from './requests.js';
import type { BenchCell } from './results.js';
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
  cells: BenchCell[];
  failover: FailoverReport[];
  /** Soak mode: one report per measured round. */
  soaks: SoakReport[];
  /** Systems skipped (not installed) and cells that failed, with why. */
  notes: RunNote[];
}

export type { Log };

export async function runBench(options: BenchOptions, load: LoadGenerator, log: Log, logDir?: string): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { cells: [], failover: [], soaks: [], notes: [] };
  for (const name of options.systems) {
    const def = systemDefinition(name);
    const why = await def.unavailable();
    if (why !== null) {
      log(`skipping ${name}: ${why}`);
      outcome.notes.push({ system: name, note: `skipped: ${why}` });
      continue;
    }
    for (const workload of options.workloads) {
      await withSystem(name, options, log, outcome, workload, logDir, async (sys) => {
        if (needsPreload(workload) || options.soak) await preloadKeys(sys, options, load, log);
        for (const connections of options.connections) {
          const { cell, soaks } = await measureCell(sys, workload, connections, options, load, log);
          log(`  ${formatCellLine(cell)}`);
          outcome.cells.push(cell);
          outcome.soaks.push(...soaks);
        }
      });
    }
    if (options.failover && !def.failover) {
      outcome.notes.push({ system: name, workload: 'failover', note: 'no failover run: no leader to kill' });
    } else if (options.failover) {
      await withSystem(name, options, log, outcome, 'failover', logDir, async (sys) => {
        if (sys.killLeader === undefined || sys.urls.length < 2) {
          outcome.notes.push({ system: name, workload: 'failover', note: 'no failover: the system has no leader to kill' });
          return;
        }
        const report = await runFailover(sys, options, load);
        log(`  ${name} failover: killed ${report.killedReplica}, first write acknowledged ${report.recoveryMs ?? 'never'} ms after the kill`);
        outcome.failover.push(report);
      });
    }
  }
  return outcome;
}

async function withSystem(
  name: string,
  options: BenchOptions,
  log: Log,
  outcome: BenchOutcome,
  workload: Workload | 'failover',
  logDir: string | undefined,
  body: (sys: RunningSystem) => Promise<void>,
): Promise<void> {
  if (isShuttingDown()) return;
  log(`${name}: starting (${workload})`);
  let sys: RunningSystem | undefined;
  try {
    sys = await systemDefinition(name).start({ nodes: options.nodes, ...(logDir === undefined ? {} : { logDir }) });
    await body(sys);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} (${workload}) failed: ${message}`);
    outcome.notes.push({ system: name, workload, note: `failed: ${message}` });
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

export async function measureCell(
  sys: RunningSystem,
  workload: Workload,
  connections: number,
  options: BenchOptions,
  load: LoadGenerator,
  log: Log = () => undefined,
): Promise<{ cell: BenchCell; soaks: SoakReport[] }> {
  const spec: RunSpec = {
    urls: loadUrls(sys, options.target),
    dialect: sys.dialect,
    workload,
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
  const runs: BenchCell[] = [];
  const soaks: SoakReport[] = [];
  for (let i = 0; i < options.repetitions; i++) {
    const measured: RunSpec = { ...spec, durationS: options.durationS, windowS: options.soak ? options.windowS : null };
    const round = options.soak ? await soakRound(sys, measured, options, load, i + 1, log) : { cell: (await measuredRound(sys, measured, options, load)).cell, soak: null };
    runs.push(round.cell);
    if (round.soak !== null) soaks.push(round.soak);
  }
  const rpsRuns = runs.map((r) => r.rps);
  const mid = median(rpsRuns);
  // The repetition closest to the median rps stands for the cell (all its numbers belong together).
  const chosen = runs.reduce((best, r) => (Math.abs(r.rps - mid) < Math.abs(best.rps - mid) ? r : best));
  return { cell: { ...chosen, rpsRuns }, soaks };
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
    `${c.system} ${c.workload} c=${c.connections}: ${c.rps.toFixed(0)} req/s, ` +
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
